// PURE: Kubernetes timestamps (metav1.Time): RFC 3339, whole seconds, UTC.
import type { KubeTime } from './types.js';

/** Formats Unix ms as metav1.Time does: the fraction is dropped (truncated, not rounded). */
export function kubeTime(ms: number): KubeTime {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

/** Unix ms of a KubeTime; undefined for absent, null or unparsable values (a zero time). */
export function kubeTimeMs(time: KubeTime | null | undefined): number | undefined {
  if (time === null || time === undefined || time === '') return undefined;
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? undefined : ms;
}
