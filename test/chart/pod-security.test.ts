// docs/security.md's claims against the bed's API server (its own Pod Security admission, priority and
// quota admission): the agent's pod is refused under `baseline` for its hostPath, host network and host
// port and admitted under `privileged`, with system-node-critical priority outside kube-system; the
// decider's pod meets `restricted`; the documented NetworkPolicy for game namespaces is valid and selects
// what it says.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { ApiException, CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { httpGet } from '../testbed/https-get.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { helmInstall, helmUninstall, releaseManifest } from './bed-release.js';
import { repoPath } from '../testbed/repo-root.js';
import type { KubeObject } from './helm.js';

const admin = adminKubeConfig();
const core = admin.makeApiClient(CoreV1Api);
const PSA = 'pod-security.kubernetes.io/enforce';
/** The value of the built-in system-node-critical PriorityClass. */
const SYSTEM_NODE_CRITICAL = 2_000_001_000;
const SYSTEM_CLUSTER_CRITICAL = 2_000_000_000;

/** The pod a controller would create from a workload's template (no kubelet runs: a server-side dry run). */
function podOf(objects: readonly KubeObject[], kind: 'DaemonSet' | 'Deployment', namespace: string): V1Pod {
  const template = objects.find((o) => o.kind === kind)!.spec.template;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: `${kind.toLowerCase()}-pod`, namespace, labels: template.metadata.labels }, spec: { ...template.spec, nodeName: 'node-1' } };
}

async function setLevel(namespace: string, level: string): Promise<void> {
  const ns = await core.readNamespace({ name: namespace });
  await core.replaceNamespace({ name: namespace, body: { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata!.labels, [PSA]: level } } } });
}

describe('Pod Security, priority and the documented NetworkPolicy, on the API server', () => {
  let releaseNs = '';
  let objects: KubeObject[] = [];

  before(async () => {
    releaseNs = await createNamespace('okgsq-chart-psa');
    await helmInstall(releaseNs);
    objects = await releaseManifest(releaseNs);
    // The chart's ResourceQuota admits the system-priority pods; its status is what the quota controller
    // (not running in the bed) would write, without which quota admission refuses matching pods.
    const quota = objects.find((o) => o.kind === 'ResourceQuota')!;
    await core.replaceNamespacedResourceQuotaStatus({
      name: quota.metadata.name,
      namespace: releaseNs,
      body: { ...(await core.readNamespacedResourceQuota({ name: quota.metadata.name, namespace: releaseNs })), status: { hard: quota.spec.hard, used: { pods: '0' } } },
    });
  });

  after(async () => {
    if (releaseNs) await helmUninstall(releaseNs).catch(() => undefined);
  });

  it('refuses the agent under baseline, naming the hostPath, the host network and the host port', async () => {
    await setLevel(releaseNs, 'baseline');
    await assert.rejects(core.createNamespacedPod({ namespace: releaseNs, body: podOf(objects, 'DaemonSet', releaseNs), dryRun: 'All' }), (err: unknown) => {
      assert.ok(err instanceof ApiException && err.code === 403, String(err));
      const message = (JSON.parse(String((err as ApiException<string>).body)) as { message: string }).message;
      assert.match(message, /violates PodSecurity "baseline:latest"/);
      assert.match(message, /host namespaces \(hostNetwork=true\)/);
      assert.match(message, /hostPath volumes \(volume "cri-socket"\)/);
      assert.match(message, /hostPort \(container "agent" uses hostPort 10226\)/);
      // Word for word as docs/security.md quotes it.
      assert.ok(readFileSync(repoPath('docs', 'security.md'), 'utf8').replace(/\s+/g, ' ').includes(message.slice(message.indexOf('violates')).replace(/\s+/g, ' ')), message);
      return true;
    });
  });

  it('admits the agent under privileged, at system-node-critical priority outside kube-system', async () => {
    await setLevel(releaseNs, 'privileged');
    const pod = await core.createNamespacedPod({ namespace: releaseNs, body: podOf(objects, 'DaemonSet', releaseNs), dryRun: 'All' });
    assert.equal(pod.spec?.priorityClassName, 'system-node-critical');
    assert.equal(pod.spec?.priority, SYSTEM_NODE_CRITICAL);
  });

  it('admits the decider under restricted, at system-cluster-critical priority', async () => {
    await setLevel(releaseNs, 'restricted');
    const pod = await core.createNamespacedPod({ namespace: releaseNs, body: podOf(objects, 'Deployment', releaseNs), dryRun: 'All' });
    assert.equal(pod.spec?.priority, SYSTEM_CLUSTER_CRITICAL);
    await setLevel(releaseNs, 'privileged');
  });

  it("docs/security.md's NetworkPolicy for game namespaces is valid and lets okg-sq's pods reach the game pods", async () => {
    const gamesNs = await createNamespace('okgsq-games-np');
    const text = readFileSync(repoPath('docs', 'security.md'), 'utf8');
    const block = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => /kind: NetworkPolicy/.test(b));
    assert.ok(block, 'the page has the example');
    // The example is written for release okg-sq in okg-sq-system and the namespace games.
    const docs = parseAllDocuments(block.replaceAll('namespace: games', `namespace: ${gamesNs}`).replaceAll('okg-sq-system', releaseNs));
    const policy = docs[0]!.toJS() as Record<string, any>;
    // Posted as the YAML says, not through the client's model (which spells `from` as `_from`).
    const cluster = admin.getCurrentCluster()!;
    const res = await httpGet(`${cluster.server}/apis/networking.k8s.io/v1/namespaces/${gamesNs}/networkpolicies`, {
      method: 'POST',
      body: JSON.stringify(policy),
      ca: Buffer.from(cluster.caData!, 'base64'),
      token: admin.getCurrentUser()!.token,
    });
    assert.equal(res.status, 201, res.body);
    const created = JSON.parse(res.body) as { spec: { podSelector: { matchExpressions: unknown }; ingress: { from: { namespaceSelector: { matchLabels: Record<string, string> }; podSelector: { matchLabels: Record<string, string> } }[] }[] } };
    const rule = created.spec.ingress[0]!.from[0]!;
    // The namespace selector uses the label the API server puts on every namespace.
    const releaseLabels = (await core.readNamespace({ name: releaseNs })).metadata!.labels!;
    for (const [k, v] of Object.entries(rule.namespaceSelector.matchLabels)) assert.equal(releaseLabels[k], v, k);
    // The pod selector matches both of the chart's pods.
    for (const kind of ['DaemonSet', 'Deployment'] as const) {
      const labels = objects.find((o) => o.kind === kind)!.spec.template.metadata.labels as Record<string, string>;
      for (const [k, v] of Object.entries(rule.podSelector.matchLabels)) assert.equal(labels[k], v, `${kind} ${k}`);
    }
    assert.deepEqual(created.spec.podSelector.matchExpressions, [{ key: 'game.kruise.io/owner-gss', operator: 'Exists' }], "OKG's label on game pods");
  });
});
