// PURE: GameServer status.serviceQualitiesConditions compared by meaning, as OKG's controller would write
// them: empty strings and zero times are the same as absent, times compared to the second.
import { kubeTimeMs } from './kube-time.js';
import type { KubeTime, ServiceQualityCondition } from './types.js';

export const isSet = (t: KubeTime | null | undefined): t is KubeTime => kubeTimeMs(t) !== undefined;

/** A condition in canonical form: empty strings and zero times left out, so equal meanings compare equal. */
export function canonicalCondition(c: ServiceQualityCondition): ServiceQualityCondition {
  const out: { -readonly [K in keyof ServiceQualityCondition]: ServiceQualityCondition[K] } = { name: c.name };
  if (c.status) out.status = c.status;
  if (c.result) out.result = c.result;
  if (isSet(c.lastProbeTime)) out.lastProbeTime = c.lastProbeTime;
  if (isSet(c.lastTransitionTime)) out.lastTransitionTime = c.lastTransitionTime;
  if (isSet(c.lastActionTransitionTime)) out.lastActionTransitionTime = c.lastActionTransitionTime;
  return out;
}

function sameTime(a: KubeTime | null | undefined, b: KubeTime | null | undefined): boolean {
  return kubeTimeMs(a) === kubeTimeMs(b);
}

export function conditionsEqual(a: readonly ServiceQualityCondition[], b: readonly ServiceQualityCondition[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i]!;
    return (
      x.name === y.name &&
      (x.status ?? '') === (y.status ?? '') &&
      (x.result ?? '') === (y.result ?? '') &&
      sameTime(x.lastProbeTime, y.lastProbeTime) &&
      sameTime(x.lastTransitionTime, y.lastTransitionTime) &&
      sameTime(x.lastActionTransitionTime, y.lastActionTransitionTime)
    );
  });
}

