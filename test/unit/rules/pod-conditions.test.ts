import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OKGSQ_CONDITION_REASON } from '../../../common/okg-defaults.js';
import { kubeTime } from '../../../rules/kube-time.js';
import { conditionType, mergePodConditions, podConditionFor } from '../../../rules/pod-conditions.js';
import type { PodCondition } from '../../../rules/types.js';

const T1 = Date.parse('2026-11-25T20:00:00.900Z');
const T2 = Date.parse('2026-11-25T20:00:05Z');

describe('podConditionFor', () => {
  it('writes the condition OKG reads: game.kruise.io/<name>, True/False, message = result, whole-second times', () => {
    assert.equal(conditionType('healthy'), 'game.kruise.io/healthy');
    assert.deepEqual(podConditionFor('healthy', { state: true, result: 'gate', observedAtMs: T1 }, undefined), {
      type: 'game.kruise.io/healthy',
      status: 'True',
      reason: OKGSQ_CONDITION_REASON,
      message: 'gate',
      lastProbeTime: '2026-11-25T20:00:00Z',
      lastTransitionTime: '2026-11-25T20:00:00Z',
    });
  });

  it('returns the existing object itself when status and message are unchanged (no write)', () => {
    const first = podConditionFor('healthy', { state: false, result: '', observedAtMs: T1 }, undefined);
    assert.equal(podConditionFor('healthy', { state: false, result: '', observedAtMs: T2 }, first), first);
  });

  it('keeps lastTransitionTime when only the message changes, moves it when the status changes', () => {
    const first = podConditionFor('healthy', { state: true, result: 'gate', observedAtMs: T1 }, undefined);
    const sameStatus = podConditionFor('healthy', { state: true, result: 'data', observedAtMs: T2 }, first);
    assert.equal(sameStatus.lastTransitionTime, '2026-11-25T20:00:00Z');
    assert.equal(sameStatus.lastProbeTime, '2026-11-25T20:00:05Z');
    const flipped = podConditionFor('healthy', { state: false, result: 'data', observedAtMs: T2 }, first);
    assert.equal(flipped.lastTransitionTime, '2026-11-25T20:00:05Z');
  });
});

describe('mergePodConditions', () => {
  it('replaces conditions of the same type in place and appends new ones', () => {
    const ready: PodCondition = { type: 'Ready', status: 'True' };
    const old: PodCondition = { type: 'game.kruise.io/a', status: 'False' };
    const a: PodCondition = { type: 'game.kruise.io/a', status: 'True' };
    const b: PodCondition = { type: 'game.kruise.io/b', status: 'True' };
    const current = [old, ready];
    assert.deepEqual(mergePodConditions(current, [b, a]), [a, ready, b]);
    assert.deepEqual(current, [old, ready], 'input untouched');
  });
});

describe('kubeTime', () => {
  it('never throws: a time outside what metav1.Time can hold is clamped into 1970..9999', () => {
    assert.equal(kubeTime(Date.parse('2026-11-25T20:00:00.999Z')), '2026-11-25T20:00:00Z');
    const cases: [number, string][] = [
      [Number.MAX_SAFE_INTEGER, '9999-12-31T23:59:59Z'],
      [8.64e15 + 1, '9999-12-31T23:59:59Z'],
      [Date.UTC(10000, 0, 1), '9999-12-31T23:59:59Z'],
      [-1, '1970-01-01T00:00:00Z'],
      [Number.NaN, '1970-01-01T00:00:00Z'],
      [Number.POSITIVE_INFINITY, '1970-01-01T00:00:00Z'],
    ];
    for (const [ms, want] of cases) assert.equal(kubeTime(ms), want, String(ms));
  });
});
