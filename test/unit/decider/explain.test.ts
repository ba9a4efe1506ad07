// `okg-sq explain` output from objects: latest outcome and its writer, previous condition, firing,
// action matches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { explainGameServer, runExplain } from '../../../cli/explain.js';
import { OKGSQ_CONDITION_REASON } from '../../../common/okg-defaults.js';

const gss = {
  metadata: { name: 'mc', namespace: 'ns' },
  spec: {
    gameServerTemplate: { spec: { containers: [{ name: 'game' }] } },
    serviceQualities: [
      {
        name: 'idle',
        containerName: 'game',
        permanent: false,
        exec: { command: ['/idle.sh'] },
        serviceQualityAction: [
          { state: true, result: 'idle', opsState: 'WaitToBeDeleted' },
          { state: true, result: 'busy', opsState: 'None' },
          { state: false, opsState: 'Maintaining' },
        ],
      },
      { name: 'data', containerName: 'game', permanent: false, exec: { command: ['/data.sh'] }, serviceQualityAction: [{ state: false, opsState: 'DataMaintaining' }] },
    ],
  },
};

test('explains each quality: outcome and writer, previous, firing, and why each action matches or not', () => {
  const text = explainGameServer({
    gameServerSet: gss,
    gameServer: {
      metadata: { name: 'mc-0', namespace: 'ns' },
      spec: { opsState: 'None' },
      status: { serviceQualitiesConditions: [{ name: 'idle', status: 'True', result: 'busy', lastProbeTime: '2026-11-25T19:00:00Z', lastActionTransitionTime: '2026-11-25T19:00:00Z' }] },
    },
    podConditions: [
      { type: 'game.kruise.io/idle', status: 'True', reason: OKGSQ_CONDITION_REASON, message: 'idle', lastProbeTime: '2026-11-25T20:00:00Z' },
      { type: 'game.kruise.io/data', status: 'False', reason: 'PodProbeMarker', message: '', lastProbeTime: '2026-11-25T20:00:00Z' },
    ],
    now: new Date('2026-11-25T20:00:05Z'),
    staleEvents: [{ message: '2 probes on node n1 are stale (disconnected)', lastTimestamp: '2026-11-25T20:00:00Z' }],
  });
  assert.match(text, /GameServer ns\/mc-0: opsState "None"/);
  assert.match(text, /stale probes reported .*node n1/);
  assert.match(text, /quality idle\n  latest outcome: True result "idle" probed 2026-11-25T20:00:00Z by okg-sq/);
  assert.match(text, /previous: True result "busy"/);
  assert.match(text, /quality idle[\s\S]*evaluation now: FIRES/);
  assert.match(text, /action 0: matches/);
  assert.match(text, /action 1: no match/);
  assert.match(text, /action 2: no match/);
  assert.match(text, /quality data\n  latest outcome: False result "" probed .* by another writer \(reason "PodProbeMarker"/);
  assert.match(text, /pending writes: GameServer patch \{"spec":\{"opsState":"DataMaintaining"\}\}/);
});

test('a quality with no outcome yet says so, and a converged GameServer says nothing is pending', () => {
  const text = explainGameServer({
    gameServerSet: gss,
    gameServer: { metadata: { name: 'mc-0', namespace: 'ns' }, spec: { opsState: 'None' }, status: { serviceQualitiesConditions: [{ name: 'idle' }, { name: 'data' }] } },
    podConditions: [],
    now: new Date('2026-11-25T20:00:05Z'),
  });
  assert.match(text, /quality idle\n  latest outcome: none yet/);
  assert.match(text, /converged: okg-sq has nothing to write/);
});

test('usage errors exit 2 with the usage text', async () => {
  let err = '';
  const code = await runExplain(['a/b/c'], { stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } });
  assert.equal(code, 2);
  assert.match(err, /"a\/b\/c" is not \[<namespace>\/\]<gameserver>/);
});

test('a converged permanent quality whose latest outcome came after its action says that is why it did not fire', () => {
  const once = { ...gss, spec: { ...gss.spec, serviceQualities: [{ ...gss.spec.serviceQualities[0]!, permanent: true }] } };
  const input = (permanent: typeof once, lastProbeTime: string) => ({
    gameServerSet: permanent,
    gameServer: {
      metadata: { name: 'mc-0', namespace: 'ns' },
      spec: { opsState: 'WaitToBeDeleted' },
      // As the decider stores it: the outcome "busy" did not fire, the action time of "idle" carried over.
      status: { serviceQualitiesConditions: [{ name: 'idle', status: 'True', result: 'busy', lastProbeTime, lastTransitionTime: lastProbeTime, lastActionTransitionTime: '2026-11-25T19:00:00Z' }] },
    },
    podConditions: [{ type: 'game.kruise.io/idle', status: 'True', reason: OKGSQ_CONDITION_REASON, message: 'busy', lastProbeTime }],
    now: new Date('2026-11-25T20:00:05Z'),
  });
  const text = explainGameServer(input(once, '2026-11-25T20:00:00Z'));
  assert.match(text, /evaluation now: does not fire: status and result unchanged \(edge trigger\); this outcome came at 2026-11-25T20:00:00Z, after an action applied at 2026-11-25T19:00:00Z, and did not fire: permanent, an action already applied/);
  assert.match(text, /action 1: matches/);
  assert.match(text, /converged/);
  // The outcome the action applied on (not after it), and the same history without permanent: edge trigger only.
  assert.match(explainGameServer(input(once, '2026-11-25T19:00:00Z')), /does not fire: status and result unchanged \(edge trigger\)\n/);
  assert.match(explainGameServer(input(gss, '2026-11-25T20:00:00Z')), /does not fire: status and result unchanged \(edge trigger\)\n/);
});
