// `helm install` into the bed's real kube-apiserver, then the decider's RBAC checked with the chart's
// own ServiceAccount token: every permission it needs is allowed (SelfSubjectAccessReview and real
// calls), everything outside it is denied, pods/exec follows decider.remoteExec.enabled, TLS survives
// an upgrade, and the real decider program runs with that token until it is leader and synced.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ApiException,
  AppsV1Api,
  AuthenticationV1Api,
  AuthorizationV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  PolicyV1Api,
  RbacAuthorizationV1Api,
} from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { waitFor } from '../testbed/wait-for.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testbedEnv } from '../testbed/env.js';
import { DECIDER_SA, helmInstall, helmUninstall, RELEASE, releaseManifest, serviceAccountToken, startChartDecider, tokenKubeConfig } from './bed-release.js';
import { chartFiles, repoRoot } from './chart-files.js';
import { helm } from './helm.js';
import { DECIDER_PERMISSIONS, DENIED_PERMISSIONS, REMOTE_EXEC_PERMISSIONS, permissionKey, type Permission } from './expected-rbac.js';

const admin = adminKubeConfig();

function expectStatus(err: unknown, code: number): void {
  assert.ok(err instanceof ApiException, `expected an API error ${code}, got ${String(err)}`);
  assert.equal(err.code, code);
}

async function allowed(kc: KubeConfig, p: Permission, namespace: string | undefined, name?: string): Promise<boolean> {
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const review = await authz.createSelfSubjectAccessReview({
    body: {
      spec: {
        resourceAttributes: {
          group: p.group,
          resource: p.resource,
          ...(p.subresource ? { subresource: p.subresource } : {}),
          verb: p.verb,
          ...(p.scope === 'cluster' || !namespace ? {} : { namespace }),
          ...(name ? { name } : {}),
        },
      },
    },
  });
  return review.status?.allowed === true;
}

describe('helm install into the test bed (all namespaces)', () => {
  let releaseNs: string;
  let gamesNs: string;
  let decider: KubeConfig;

  before(async () => {
    releaseNs = await createNamespace('okgsq-chart');
    gamesNs = await createNamespace('okgsq-games');
    await helmInstall(releaseNs);
    decider = tokenKubeConfig(await serviceAccountToken(releaseNs, DECIDER_SA));
  });

  after(async () => {
    if (releaseNs) await helmUninstall(releaseNs).catch(() => undefined);
  });

  it("prints NOTES that point at the documents that exist, for the Pod Security label and OKG's controller", async () => {
    const { stdout: notes } = await helm(['get', 'notes', RELEASE, '--namespace', releaseNs], { kubeconfig: testbedEnv().kubeconfig });
    assert.match(notes, new RegExp(`kubectl label namespace ${releaseNs} pod-security\\.kubernetes\\.io/enforce=privileged`));
    assert.match(notes, /docs\/operations\.md \("Living beside OpenKruiseGame"/);
    assert.match(readFileSync(join(repoRoot(), 'docs', 'operations.md'), 'utf8'), /^## Living beside OpenKruiseGame$/m);
    assert.match(notes, /docs\/security\.md/);
    assert.match(readFileSync(join(repoRoot(), 'docs', 'security.md'), 'utf8'), /^# Security and network$/m);
    assert.match(notes, /Argo CD/, 'the GitOps warning of tls.mode=generate');
  });

  it('creates the release objects', async () => {
    const apps = admin.makeApiClient(AppsV1Api);
    const core = admin.makeApiClient(CoreV1Api);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    const policy = admin.makeApiClient(PolicyV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: 'okg-sq-decider', namespace: releaseNs });
    assert.equal(deployment.spec?.replicas, 2);
    const ds = await apps.readNamespacedDaemonSet({ name: 'okg-sq-agent', namespace: releaseNs });
    assert.equal(ds.spec?.template.spec?.automountServiceAccountToken, false);
    await core.readNamespacedService({ name: 'okg-sq-decider', namespace: releaseNs });
    await core.readNamespacedService({ name: 'okg-sq-decider-metrics', namespace: releaseNs });
    await core.readNamespacedServiceAccount({ name: 'okg-sq-agent', namespace: releaseNs });
    await core.readNamespacedServiceAccount({ name: DECIDER_SA, namespace: releaseNs });
    const secret = await core.readNamespacedSecret({ name: 'okg-sq-grpc-tls', namespace: releaseNs });
    assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
    const cm = await core.readNamespacedConfigMap({ name: 'okg-sq-dashboard', namespace: releaseNs });
    assert.equal(cm.metadata?.labels?.grafana_dashboard, '1');
    await rbac.readClusterRole({ name: `okg-sq-decider-${releaseNs}` });
    await rbac.readNamespacedRole({ name: 'okg-sq-decider-leader-election', namespace: releaseNs });
    await policy.readNamespacedPodDisruptionBudget({ name: 'okg-sq-decider', namespace: releaseNs });
  });

  it('allows the decider every verb it uses (SelfSubjectAccessReview with its own token)', async () => {
    const denied: string[] = [];
    for (const p of DECIDER_PERMISSIONS) {
      const ns = p.scope === 'release-namespace' ? releaseNs : gamesNs;
      const name = p.group === 'coordination.k8s.io' && p.verb !== 'create' ? 'okg-sq-decider' : undefined;
      if (!(await allowed(decider, p, ns, name))) denied.push(permissionKey(p));
    }
    assert.deepEqual(denied, []);
  });

  it('denies the decider everything else: secrets, deletes, other Leases, pods/exec while remote exec is off', async () => {
    const granted: string[] = [];
    for (const p of [...DENIED_PERMISSIONS, ...REMOTE_EXEC_PERMISSIONS]) {
      if (await allowed(decider, p, gamesNs)) granted.push(permissionKey(p));
    }
    const otherLease = { group: 'coordination.k8s.io', resource: 'leases', verb: 'update', scope: 'release-namespace' } as const;
    if (await allowed(decider, otherLease, releaseNs, 'someone-elses-lease')) granted.push('update another Lease');
    if (await allowed(decider, { ...otherLease, verb: 'get' }, gamesNs, 'okg-sq-decider')) granted.push('get a Lease outside its namespace');
    assert.deepEqual(granted, []);
  });

  it('lets real calls with the decider token through, and refuses the rest with 403', async () => {
    const custom = decider.makeApiClient(CustomObjectsApi);
    await custom.listClusterCustomObject({ group: 'game.kruise.io', version: 'v1alpha1', plural: 'gameservers' });
    await custom.listClusterCustomObject({ group: 'game.kruise.io', version: 'v1alpha1', plural: 'gameserversets' });
    const core = decider.makeApiClient(CoreV1Api);
    await core.listPodForAllNamespaces({ labelSelector: 'game.kruise.io/owner-gss' });
    await core.listNode();
    const review = await decider.makeApiClient(AuthenticationV1Api).createTokenReview({ body: { spec: { token: 'not-a-token', audiences: ['okg-sq'] } } });
    assert.equal(review.status?.authenticated ?? false, false);
    await assert.rejects(core.readNamespacedSecret({ name: 'okg-sq-grpc-tls', namespace: releaseNs }), (err) => (expectStatus(err, 403), true));
    await assert.rejects(core.listSecretForAllNamespaces(), (err) => (expectStatus(err, 403), true));
    await assert.rejects(core.deleteNamespacedPod({ name: 'anything', namespace: gamesNs }), (err) => (expectStatus(err, 403), true));
  });

  it('grants pods/exec only after an upgrade turns remote exec on, keeps the TLS Secret across upgrades, and takes it back', async () => {
    const core = admin.makeApiClient(CoreV1Api);
    const before = (await core.readNamespacedSecret({ name: 'okg-sq-grpc-tls', namespace: releaseNs })).data;
    const execCreate = REMOTE_EXEC_PERMISSIONS.find((p) => p.verb === 'create')!;
    // As docs/operations.md says to upgrade: the new chart's defaults, then the values set before.
    await helmInstall(releaseNs, ['--reset-then-reuse-values', '--set', 'decider.remoteExec.enabled=true']);
    await waitFor(() => allowed(decider, execCreate, gamesNs), { timeoutMs: 10_000, what: 'pods/exec create allowed' });
    for (const p of REMOTE_EXEC_PERMISSIONS) assert.equal(await allowed(decider, p, gamesNs), true, permissionKey(p));
    assert.deepEqual((await core.readNamespacedSecret({ name: 'okg-sq-grpc-tls', namespace: releaseNs })).data, before, 'upgrade keeps the CA and certificate');
    const deployment = (await releaseManifest(releaseNs)).find((o) => o.kind === 'Deployment')!;
    assert.equal(deployment.spec.template.spec.containers[0].env.find((e: { name: string }) => e.name === 'OKGSQ_REMOTE_EXEC').value, 'true');
    // NOTES.txt names the pods/exec verbs the rendered rules grant.
    const { stdout: notes } = await helm(['get', 'notes', RELEASE, '--namespace', releaseNs], { kubeconfig: testbedEnv().kubeconfig });
    const role = (await releaseManifest(releaseNs)).find((o) => o.kind === 'ClusterRole')!;
    const execVerbs = (role.rules as { resources: string[]; verbs: string[] }[]).find((r) => r.resources.includes('pods/exec'))!.verbs;
    assert.deepEqual(execVerbs, ['get', 'create']);
    assert.match(notes.replace(/\s+/g, ' '), /grants the decider `pods\/exec` get and create/);
    await helmInstall(releaseNs, ['--reset-then-reuse-values', '--set', 'decider.remoteExec.enabled=false']);
    await waitFor(async () => !(await allowed(decider, execCreate, gamesNs)), { timeoutMs: 10_000, what: 'pods/exec create denied again' });
  });

  it('runs the real decider with the chart ServiceAccount token and settings until it is leader and synced', async () => {
    const decider = await startChartDecider(releaseNs);
    try {
      const lease = await admin.makeApiClient(CoordinationV1Api).readNamespacedLease({ name: decider.env.OKGSQ_LEASE_NAME!, namespace: releaseNs });
      assert.equal(lease.spec?.holderIdentity, 'okg-sq-decider-test-0');
      assert.doesNotMatch(decider.process.logTail(), /forbidden|"code":403|\b403\b/i, 'no permission errors in the decider log');
    } finally {
      await decider.stop();
    }
  });
});

describe('helm install limited to namespaces (decider.namespaces)', () => {
  let releaseNs: string;
  let gamesNs: string;
  let otherNs: string;
  let decider: KubeConfig;

  before(async () => {
    releaseNs = await createNamespace('okgsq-chart-ns');
    gamesNs = await createNamespace('okgsq-games-ns');
    otherNs = await createNamespace('okgsq-other');
    await helmInstall(releaseNs, ['--set', `decider.namespaces={${gamesNs}}`]);
    decider = tokenKubeConfig(await serviceAccountToken(releaseNs, DECIDER_SA));
  });

  after(async () => {
    if (releaseNs) await helmUninstall(releaseNs).catch(() => undefined);
  });

  it('allows the namespaced verbs in the served namespace only; cluster-wide ones stay cluster-wide', async () => {
    const wrong: string[] = [];
    for (const p of DECIDER_PERMISSIONS) {
      if (p.scope === 'release-namespace') continue;
      if (!(await allowed(decider, p, gamesNs))) wrong.push(`denied in ${gamesNs}: ${permissionKey(p)}`);
      if (p.scope === 'namespaced' && (await allowed(decider, p, otherNs))) wrong.push(`allowed in ${otherNs}: ${permissionKey(p)}`);
      if (p.scope === 'namespaced' && (await allowed(decider, { ...p, scope: 'cluster' }, undefined))) wrong.push(`allowed cluster-wide: ${permissionKey(p)}`);
    }
    // The agents' identity check watches agent pods in the release namespace, and only that there.
    for (const verb of ['list', 'watch']) {
      const p = DECIDER_PERMISSIONS.find((x) => permissionKey(x) === `${verb} core/pods`)!;
      if (!(await allowed(decider, p, releaseNs))) wrong.push(`denied in ${releaseNs}: ${verb} core/pods (agent pods)`);
    }
    const patchPodStatus = DECIDER_PERMISSIONS.find((p) => permissionKey(p) === 'patch core/pods/status')!;
    if (await allowed(decider, patchPodStatus, releaseNs)) wrong.push(`allowed in ${releaseNs}: patch core/pods/status`);
    assert.deepEqual(wrong, []);
  });

  it('helm uninstall removes the cluster-scoped objects', async () => {
    await helmUninstall(releaseNs);
    const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
    await assert.rejects(rbac.readClusterRole({ name: `okg-sq-decider-${releaseNs}` }), (err) => (expectStatus(err, 404), true));
    await assert.rejects(rbac.readNamespacedRole({ name: `okg-sq-decider-${releaseNs}`, namespace: gamesNs }), (err) => (expectStatus(err, 404), true));
  });
});

describe('helm install with NetworkPolicies, pod-network agents and extension points', () => {
  let releaseNs: string;

  before(async () => {
    releaseNs = await createNamespace('okgsq-chart-np');
    await helmInstall(releaseNs, [
      '--values', join(chartFiles.chartDir(), 'ci', 'network-policy-values.yaml'),
      '--set', 'global.imageRegistry=registry.example.com',
      '--set', 'decider.extraVolumes[0].name=corp-ca', '--set', 'decider.extraVolumes[0].configMap.name=corp-ca',
      '--set', 'decider.extraVolumeMounts[0].name=corp-ca', '--set', 'decider.extraVolumeMounts[0].mountPath=/etc/corp-ca',
      '--set', 'decider.topologySpreadConstraints[0].maxSkew=1', '--set', 'decider.topologySpreadConstraints[0].topologyKey=topology.kubernetes.io/zone',
      '--set', 'decider.topologySpreadConstraints[0].whenUnsatisfiable=ScheduleAnyway',
    ]);
  });

  after(async () => {
    if (releaseNs) await helmUninstall(releaseNs).catch(() => undefined);
  });

  it('the API server accepts the policies, the quota and the extended workloads as rendered', async () => {
    const networking = admin.makeApiClient(NetworkingV1Api);
    const policies = await networking.listNamespacedNetworkPolicy({ namespace: releaseNs });
    assert.deepEqual(policies.items.map((p) => p.metadata!.name).sort(), ['okg-sq-agent', 'okg-sq-decider']);
    const decider = policies.items.find((p) => p.metadata!.name === 'okg-sq-decider')!;
    assert.deepEqual(decider.spec!.ingress![0]!._from!.map((peer) => peer.podSelector?.matchLabels), [{ 'app.kubernetes.io/name': 'okg-sq', 'app.kubernetes.io/instance': 'okg-sq', 'app.kubernetes.io/component': 'agent' }]);
    const quota = await admin.makeApiClient(CoreV1Api).readNamespacedResourceQuota({ name: 'okg-sq-critical-pods', namespace: releaseNs });
    assert.deepEqual(quota.spec!.scopeSelector!.matchExpressions![0]!.values!.sort(), ['system-cluster-critical', 'system-node-critical']);
    const apps = admin.makeApiClient(AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: 'okg-sq-decider', namespace: releaseNs });
    assert.equal(deployment.spec!.template.spec!.topologySpreadConstraints![0]!.topologyKey, 'topology.kubernetes.io/zone');
    assert.ok(deployment.spec!.template.spec!.volumes!.some((v) => v.name === 'corp-ca'));
    const ds = await apps.readNamespacedDaemonSet({ name: 'okg-sq-agent', namespace: releaseNs });
    assert.equal(ds.spec!.template.spec!.hostNetwork, undefined, 'pod network, as the values ask');
  });
});
