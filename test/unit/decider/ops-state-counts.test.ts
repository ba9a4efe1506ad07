import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOpsStates, OTHER_OPS_STATE } from '../../../decider/ops-state-counts.js';

const gs = (gameServerSet: string, opsState: string) => ({ namespace: 'ns', gameServerSet, opsState });

test('counts GameServers per set and opsState', () => {
  const counts = countOpsStates([gs('a', 'None'), gs('a', 'None'), gs('a', 'Maintaining'), gs('b', 'None')]);
  assert.deepEqual(counts, [
    { namespace: 'ns', gameServerSet: 'a', opsState: 'None', count: 2 },
    { namespace: 'ns', gameServerSet: 'a', opsState: 'Maintaining', count: 1 },
    { namespace: 'ns', gameServerSet: 'b', opsState: 'None', count: 1 },
  ]);
});

test('opsState "{{.Result}}" with a value per GameServer: OKG states and the most common others keep a series, the rest fold into _other', () => {
  const servers = [gs('a', 'WaitToBeDeleted'), gs('a', 'GateMaintaining'), gs('a', 'GateMaintaining')];
  for (let i = 0; i < 500; i++) servers.push(gs('a', `players-${i}`));
  const counts = countOpsStates(servers, 3);
  assert.deepEqual(counts.map((c) => [c.opsState, c.count]), [
    ['WaitToBeDeleted', 1],
    ['GateMaintaining', 2],
    ['players-0', 1],
    ['players-1', 1],
    [OTHER_OPS_STATE, 498],
  ]);
  assert.equal(counts.reduce((n, c) => n + c.count, 0), servers.length, 'every GameServer is counted once');
});
