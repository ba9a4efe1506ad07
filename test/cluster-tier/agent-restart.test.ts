// The agent pod is deleted: the DaemonSet recreates it, it reconnects and resyncs its probes' outcomes,
// and the decider writes nothing for GameServers whose state did not change (0 spurious writes); a change
// afterwards is applied.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../testbed/wait-for.js';
import { ClusterBed, POD_READY_TIMEOUT_MS } from './cluster-kit.js';

test('delete the agent pod: recreated by the DaemonSet, it resyncs with 0 spurious writes', async () => {
  const bed = new ClusterBed();
  try {
    const namespace = await bed.createGame('ct-agent', 'arena', 2);
    await bed.setState(namespace, 'arena-0', 'Maintaining');
    await bed.waitForOpsState(namespace, 'arena-0', 'Maintaining');
    const leader = await bed.readyPod('decider', (await bed.leader())!);
    await bed.moreProbeRuns(leader, 3);
    const before = await bed.deciderWrites(leader);
    const versions = await Promise.all(['arena-0', 'arena-1'].map(async (name) => (await bed.gameServer(namespace, name)).metadata.resourceVersion as string));

    // The agent probes (and so moved arena-0) before its readiness probe first passes: wait for Ready.
    const oldAgent = await waitFor(async () => (await bed.readyPods('agent'))[0], { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: 'the agent pod Ready' });
    await bed.core.deleteNamespacedPod({ namespace: bed.releaseNamespace, name: oldAgent.metadata!.name! });
    const newAgent = await waitFor(async () => (await bed.readyPods('agent')).find((p) => p.metadata!.uid !== oldAgent.metadata!.uid), {
      timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: 'the DaemonSet\'s new agent pod Ready',
    });
    assert.equal(newAgent.spec!.nodeName, bed.cluster.nodeName);
    await waitFor(async () => (await bed.deciderMetric(leader, 'okgsq_agents_connected')).some((s) => s.value === 1), {
      timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: 'the new agent connected to the leader',
    });
    await bed.moreProbeRuns(leader, 10);

    assert.deepEqual(await bed.deciderWrites(leader), before, 'the resync wrote nothing');
    const after = await Promise.all(['arena-0', 'arena-1'].map(async (name) => (await bed.gameServer(namespace, name)).metadata.resourceVersion as string));
    assert.deepEqual(after, versions, 'the GameServers were not modified');

    await bed.setState(namespace, 'arena-1', 'Maintaining');
    await bed.waitForOpsState(namespace, 'arena-1', 'Maintaining');
  } finally {
    bed.close();
  }
});
