// A GameServer moves on an exec probe that the agent pod runs through the CRI of the node it runs on,
// and that the decider pod turns into a write: the whole path as on a user's cluster.
import { test } from 'node:test';
import { ClusterBed } from './cluster-kit.js';

test('an exec probe run by the agent pod through the CRI moves the GameServer\'s opsState, each time the result changes', async () => {
  const bed = new ClusterBed();
  try {
    const namespace = await bed.createGame('ct-probe', 'arena', 2);
    await bed.setState(namespace, 'arena-0', 'Maintaining');
    await bed.waitForOpsState(namespace, 'arena-0', 'Maintaining');
    await bed.setState(namespace, 'arena-1', 'WaitToBeDeleted');
    await bed.waitForOpsState(namespace, 'arena-1', 'WaitToBeDeleted');
    await bed.setState(namespace, 'arena-0', 'None');
    await bed.waitForOpsState(namespace, 'arena-0', 'None');
  } finally {
    bed.close();
  }
});
