import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decisionNotes } from '../../../cli/local/decision-notes.js';
import type { Decision } from '../../../rules/evaluate.js';

const decision = {
  serviceQualitiesConditions: [],
  statusChanged: true,
  gameServerPatch: null,
  applied: [
    { quality: 'healthy', actionIndex: 0, state: true, result: 'gate', opsState: 'GateMaintaining' },
    { quality: 'idle', actionIndex: 2, state: false, result: '' },
  ],
  warnings: [{ quality: 'load', actionIndex: 1, reason: 'InvalidUpdatePriority', message: 'updatePriority "high" is not an integer' }],
  trace: [],
} satisfies Decision;

test('each applied action says which outcome matched which action, and what opsState it set', () => {
  assert.deepEqual(decisionNotes('minecraft-0', decision, { actions: true }), [
    'minecraft-0: healthy true/gate → serviceQualityAction[0]: opsState GateMaintaining',
    'minecraft-0: idle false → serviceQualityAction[2]',
    'minecraft-0: warning: load serviceQualityAction[1]: InvalidUpdatePriority: updatePriority "high" is not an integer',
  ]);
});

test('without actions (json output) only the warnings remain', () => {
  assert.deepEqual(decisionNotes('minecraft-0', decision, { actions: false }), [
    'minecraft-0: warning: load serviceQualityAction[1]: InvalidUpdatePriority: updatePriority "high" is not an integer',
  ]);
});
