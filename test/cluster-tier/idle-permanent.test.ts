// examples/idle on a real cluster: a lobby nobody plays in becomes WaitToBeDeleted, through the agent
// pod's exec probe (the example's idle.sh) and the decider pod's writes. Beside it the same set with
// `permanent: true`: its action fires once; a player joining and leaving changes its condition, never the
// GameServer again (docs/design.md §3: a permanent quality that acted does not fire).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterBed, idleApplied, qualityCondition } from './cluster-kit.js';

test('examples/idle: empty lobbies become WaitToBeDeleted; with permanent: true the action fires once, whatever the players do', async () => {
  const bed = new ClusterBed();
  try {
    const { namespace, quality, plain, permanent, players } = await bed.createIdleLobbies('ct-idle');
    // Idle from the start.
    const applied = idleApplied(quality);
    await bed.waitForGameServer(namespace, plain, 'WaitToBeDeleted applied', applied);
    const first = await bed.waitForGameServer(namespace, permanent, 'WaitToBeDeleted applied', applied);
    const acted = qualityCondition(first, quality)!.lastActionTransitionTime;
    const plainHistory = await bed.watchOpsStates(namespace, plain);
    const permanentHistory = await bed.watchOpsStates(namespace, permanent);
    try {
      for (const name of [plain, permanent]) await players(name, 'echo alice >>');
      await bed.waitForOpsState(namespace, plain, 'None');
      const joined = await bed.waitForGameServer(namespace, permanent, 'the outcome "1 players" recorded', (gs) => qualityCondition(gs, quality)?.result === '1 players');
      assert.equal(qualityCondition(joined, quality)?.status, 'False');
      assert.equal(joined.spec.opsState, 'WaitToBeDeleted', 'permanent: the state: false action does not fire');

      for (const name of [plain, permanent]) await players(name, ': >');
      await bed.waitForOpsState(namespace, plain, 'WaitToBeDeleted');
      const left = await bed.waitForGameServer(namespace, permanent, 'the outcome "idle" again', (gs) => qualityCondition(gs, quality)?.result === 'idle');
      assert.equal(qualityCondition(left, quality)?.lastActionTransitionTime, acted, 'permanent: no action applied since the first one');
      assert.deepEqual(plainHistory.values, ['None', 'WaitToBeDeleted'], 'the example (permanent: false) follows every change');
      // Its status changed twice (the watch saw it), its spec never: still WaitToBeDeleted, same generation.
      assert.deepEqual(permanentHistory.values, ['WaitToBeDeleted'], 'the permanent set\'s opsState never changed');
      assert.equal(left.metadata.generation, first.metadata.generation, 'the permanent set\'s GameServer spec was not written');
    } finally {
      plainHistory.stop();
      permanentHistory.stop();
    }
  } finally {
    bed.close();
  }
});
