// PURE: Kubernetes timestamps (metav1.Time): RFC 3339, whole seconds, UTC.
import type { KubeTime } from './types.js';

/** The last second metav1.Time can hold in RFC 3339 (a four-digit year): 9999-12-31T23:59:59Z. */
export const MAX_KUBE_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59);

/**
 * Formats Unix ms as metav1.Time does: the fraction is dropped (truncated, not rounded). Total: a time
 * outside 1970..9999 (or not a number) is clamped into it, so rendering never throws on the hot path; the
 * inputs are bounded before they get here (decider/pipeline/outcome-time.ts).
 */
export function kubeTime(ms: number): KubeTime {
  const clamped = Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_KUBE_TIME_MS) : 0;
  return new Date(Math.floor(clamped / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Unix ms of a KubeTime; undefined for absent, null or unparsable values (a zero time). */
export function kubeTimeMs(time: KubeTime | null | undefined): number | undefined {
  if (time === null || time === undefined || time === '') return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}
