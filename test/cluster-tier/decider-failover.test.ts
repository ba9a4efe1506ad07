// The leader decider pod is deleted: the other replica takes the Lease over, the probe result that changed
// meanwhile reaches the GameServer (no action lost), the one already applied is not applied again, and the
// new leader writes nothing more once the state is steady (no action repeated).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../testbed/wait-for.js';
import { ClusterBed, POD_READY_TIMEOUT_MS } from './cluster-kit.js';

test('delete the leader decider pod: the standby takes over, no action lost or repeated', async () => {
  const bed = new ClusterBed();
  try {
    const namespace = await bed.createGame('ct-failover', 'arena', 1);
    await bed.setState(namespace, 'arena-0', 'Maintaining');
    await bed.waitForOpsState(namespace, 'arena-0', 'Maintaining');
    const deciders = await bed.readyPods('decider');
    assert.equal(deciders.length, 2);
    const leader = await bed.leader();
    const standby = deciders.find((p) => p.metadata!.name !== leader);
    assert.ok(leader && standby, `a leader (${leader}) and a standby among ${deciders.map((p) => p.metadata!.name).join(', ')}`);

    const history = await bed.watchOpsStates(namespace, 'arena-0');
    try {
      await bed.core.deleteNamespacedPod({ namespace: bed.releaseNamespace, name: leader });
      // The result changes while the leader goes away.
      await bed.setState(namespace, 'arena-0', 'WaitToBeDeleted');
      const newLeader = await waitFor(async () => {
        const holder = await bed.leader();
        return holder && holder !== leader ? holder : undefined;
      }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 250, what: `a new leader after ${leader}` });
      await bed.waitForOpsState(namespace, 'arena-0', 'WaitToBeDeleted');
      const newLeaderPod = await bed.readyPod('decider', newLeader);
      // Steady: probes keep running, the new leader writes nothing more.
      await bed.moreProbeRuns(newLeaderPod, 3);
      const settled = await bed.deciderWrites(newLeaderPod);
      await bed.moreProbeRuns(newLeaderPod, 10);
      assert.deepEqual(await bed.deciderWrites(newLeaderPod), settled, 'no writes once the state is steady');
      assert.deepEqual(history.values, ['WaitToBeDeleted'], 'the opsState moved once, to the new result: nothing lost, nothing repeated or reverted');
      assert.equal((await bed.gameServer(namespace, 'arena-0')).spec.opsState, 'WaitToBeDeleted');
    } finally {
      history.stop();
    }
  } finally {
    bed.close();
  }
});
