// The one path from outcomes to a decision (decider pipeline, eval, local): which pod conditions change,
// that other writers' conditions stay, and that the evaluation reads the merged conditions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceQuality } from '../../../common/service-quality.js';
import { withOkgDefaults } from '../../../common/thresholds.js';
import { decideFromOutcomes } from '../../../rules/decide-from-outcomes.js';
import type { ConditionOutcome } from '../../../rules/pod-conditions.js';
import type { GameServerView, PodCondition } from '../../../rules/types.js';

const NOW = new Date('2026-11-25T20:00:00Z');
const OBSERVED_MS = Date.parse('2026-11-25T19:59:58Z');

const quality = (name: string): ServiceQuality => ({
  name,
  containerName: '',
  handler: { kind: 'exec', command: ['probe'] },
  timing: withOkgDefaults({}),
  permanent: false,
  actions: [{ state: false, opsState: 'Maintaining' }],
});
const qualities = [quality('healthy'), quality('idle')];
const gameServer: GameServerView = { metadata: { name: 'gs-0', namespace: 'ns' }, spec: { opsState: 'None' } };
const foreign: PodCondition = { type: 'Ready', status: 'True' };
const healthyTrue: PodCondition = { type: 'game.kruise.io/healthy', status: 'True', reason: 'okg-sq', message: 'ok', lastProbeTime: '2026-11-25T19:00:00Z', lastTransitionTime: '2026-11-25T19:00:00Z' };

function run(outcomes: Record<string, ConditionOutcome>, podConditions: PodCondition[] = [foreign, healthyTrue]) {
  return decideFromOutcomes({ qualities, podConditions, outcomeOf: (q) => outcomes[q], gameServer, now: NOW });
}

describe('decideFromOutcomes', () => {
  it('no outcome yet: the written conditions stand, nothing changes, nothing fires', () => {
    const r = run({});
    assert.deepEqual(r.conditionUpdates, []);
    assert.deepEqual(r.podConditions, [foreign, healthyTrue]);
    assert.equal(r.decision.gameServerPatch, null);
  });

  it('an outcome equal to the written condition changes nothing', () => {
    const r = run({ healthy: { state: true, result: 'ok', observedAtMs: OBSERVED_MS } });
    assert.deepEqual(r.conditionUpdates, []);
    assert.equal(r.decision.gameServerPatch, null);
  });

  it('a flip replaces its condition in place, keeps the others, and the evaluation acts on it', () => {
    const r = run({ healthy: { state: false, result: 'down', observedAtMs: OBSERVED_MS } });
    assert.equal(r.conditionUpdates.length, 1);
    assert.deepEqual(r.podConditions.map((c) => `${c.type}=${c.status}`), ['Ready=True', 'game.kruise.io/healthy=False']);
    assert.deepEqual(r.decision.gameServerPatch, { spec: { opsState: 'Maintaining' } });
    assert.deepEqual(r.decision.applied.map((a) => a.quality), ['healthy']);
  });

  it('a first outcome of another quality is appended; outcomes of qualities the set lacks are not asked for', () => {
    const asked: string[] = [];
    const r = decideFromOutcomes({
      qualities,
      podConditions: [foreign],
      outcomeOf: (q) => (asked.push(q), q === 'idle' ? { state: true, result: '', observedAtMs: OBSERVED_MS } : undefined),
      gameServer,
      now: NOW,
    });
    assert.deepEqual(asked, ['healthy', 'idle']);
    assert.deepEqual(r.podConditions.map((c) => c.type), ['Ready', 'game.kruise.io/idle']);
    assert.equal(r.decision.gameServerPatch, null, 'idle is True: its False action does not fire');
  });
});
