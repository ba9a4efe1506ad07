// PURE: a quality's published outcome as the pod condition OKG reads (`game.kruise.io/<name>`).
import { CONDITION_TYPE_PREFIX, OKGSQ_CONDITION_REASON } from '../common/okg-defaults.js';
import { kubeTime } from './kube-time.js';
import type { PodCondition } from './types.js';

export function conditionType(quality: string): string {
  return CONDITION_TYPE_PREFIX + quality;
}

export interface ConditionOutcome {
  readonly state: boolean;
  readonly result: string;
  readonly observedAtMs: number;
}

/**
 * The condition to store for an outcome. Returns `existing` itself when status and message are unchanged,
 * so callers can skip the write by identity (an unchanged result costs no API write).
 */
export function podConditionFor(quality: string, outcome: ConditionOutcome, existing: PodCondition | undefined): PodCondition {
  const status = outcome.state ? 'True' : 'False';
  if (existing && existing.status === status && (existing.message ?? '') === outcome.result) return existing;
  const observed = kubeTime(outcome.observedAtMs);
  return {
    type: conditionType(quality),
    status,
    reason: OKGSQ_CONDITION_REASON,
    message: outcome.result,
    lastProbeTime: observed,
    lastTransitionTime: existing && existing.status === status ? existing.lastTransitionTime ?? observed : observed,
  };
}

/** `current` with each update replacing the condition of its type (in place) or appended. */
export function mergePodConditions(current: readonly PodCondition[], updates: readonly PodCondition[]): PodCondition[] {
  const byType = new Map(updates.map((u) => [u.type, u]));
  const merged = current.map((c) => {
    const u = byType.get(c.type);
    if (u === undefined) return c;
    byType.delete(c.type);
    return u;
  });
  for (const u of byType.values()) merged.push(u);
  return merged;
}
