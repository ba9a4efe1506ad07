// helm upgrade with changed values and helm rollback on a real cluster: every agent and decider pod is
// replaced, the new ones recompute the state from the cluster and write nothing (0 spurious writes), and a
// change afterwards is applied. helm uninstall then leaves no object of the release; GameServers keep the
// state written (docs/operations.md, "Uninstall"). Runs last in the tier: it uninstalls the chart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { helm, parseManifests, type KubeObject } from '../chart/helm.js';
import { RELEASE_NAME } from '../testbed/cluster-bed.js';
import { repoPath } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';
import { ClusterBed, POD_READY_TIMEOUT_MS } from './cluster-kit.js';

const AGENT_RECONNECT_TIMEOUT_MS = 300_000;

test('helm upgrade and rollback: pods replaced, 0 spurious writes; helm uninstall leaves no object of the release', async () => {
  const bed = new ClusterBed();
  const kubeconfig = { kubeconfig: bed.env.kubeconfig };
  const ns = ['--namespace', bed.releaseNamespace];
  let stopHistory = (): void => {};
  try {
    const namespace = await bed.createGame('ct-helm', 'arena', 1);
    await bed.setState(namespace, 'arena-0', 'Maintaining');
    await bed.waitForOpsState(namespace, 'arena-0', 'Maintaining');
    const version = (await bed.gameServer(namespace, 'arena-0')).metadata.resourceVersion as string;
    const history = await bed.watchOpsStates(namespace, 'arena-0');
    stopHistory = history.stop;

    /** After a rollout: every pod is new, a new leader serves the agent, and writes nothing while probes run. */
    const checkRollout = async (what: string, oldPods: Set<string>): Promise<void> => {
      const deciders = await waitFor(async () => {
        const ready = await bed.readyPods('decider');
        const agents = await bed.readyPods('agent');
        const all = [...ready, ...agents];
        return ready.length === 2 && agents.length === 1 && all.every((p) => !oldPods.has(p.metadata!.uid!)) && (await bed.pods('decider')).length === 2 ? ready : undefined;
      }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: `${what}: new agent and decider pods Ready, the old ones gone` });
      const leaderName = await waitFor(async () => {
        const holder = await bed.leader();
        return holder && deciders.some((p) => p.metadata!.name === holder) ? holder : undefined;
      }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 250, what: `${what}: a new decider leading` });
      const leader = deciders.find((p) => p.metadata!.name === leaderName)!;
      // The agent reconnects through the Service; a connect that went to a removed endpoint during the
      // rollout can take the kernel's SYN retries (~2 min) to fail.
      await bed.moreProbeRuns(leader, 10, AGENT_RECONNECT_TIMEOUT_MS);
      const writes = Object.entries(await bed.deciderWrites(leader)).filter(([, n]) => n > 0);
      assert.deepEqual(writes, [], `${what}: the new leader wrote nothing`);
    };
    const podUids = async (): Promise<Set<string>> => new Set([...(await bed.pods('decider')), ...(await bed.pods('agent'))].map((p) => p.metadata!.uid!));

    let before = await podUids();
    await helm(['upgrade', RELEASE_NAME, repoPath('charts', 'okg-sq'), ...ns, '--reuse-values', '--set', 'global.logLevel=debug', '--wait', '--timeout', '10m'], kubeconfig);
    await checkRollout('helm upgrade', before);

    before = await podUids();
    await helm(['rollback', RELEASE_NAME, '1', ...ns, '--wait', '--timeout', '10m'], kubeconfig);
    await checkRollout('helm rollback', before);

    history.stop();
    assert.deepEqual(history.values, [], 'the GameServer was not modified by the upgrade or the rollback');
    assert.equal((await bed.gameServer(namespace, 'arena-0')).metadata.resourceVersion, version);
    await bed.setState(namespace, 'arena-0', 'None');
    await bed.waitForOpsState(namespace, 'arena-0', 'None');

    const { stdout } = await helm(['get', 'manifest', RELEASE_NAME, ...ns], kubeconfig);
    const objects = parseManifests(stdout);
    assert.ok(objects.length > 5, 'the release has objects');
    await helm(['uninstall', RELEASE_NAME, ...ns, '--wait', '--timeout', '10m'], kubeconfig);
    const api = KubernetesObjectApi.makeApiClient(bed.kc);
    const exists = async (o: KubeObject): Promise<boolean> => {
      const namespaced = o.metadata.namespace ?? (o.kind.startsWith('Cluster') ? undefined : bed.releaseNamespace);
      return api.read({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, ...(namespaced ? { namespace: namespaced } : {}) } }).then(() => true, (err: { code?: number }) => {
        if (err.code === 404) return false;
        throw err;
      });
    };
    const left = await waitFor(async () => {
      const remaining: string[] = [];
      for (const o of objects) if (await exists(o)) remaining.push(`${o.kind}/${o.metadata.name}`);
      const pods = [...(await bed.pods('decider')), ...(await bed.pods('agent'))];
      return remaining.length === 0 && pods.length === 0 ? remaining : undefined;
    }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 1000, what: 'every object of the release and its pods gone' });
    assert.deepEqual(left, []);
    assert.equal((await bed.gameServer(namespace, 'arena-0')).spec.opsState, 'None', 'the GameServer keeps the state written');
  } finally {
    stopHistory();
    bed.close();
  }
});
