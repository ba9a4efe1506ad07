// PURE: the kubelet's threshold rule, shared by the agent, the decider's own prober and `okg-sq local`.
// A state is published only after `successThreshold` consecutive true runs or `failureThreshold`
// consecutive false runs; nothing is published before the first crossing (kruise publishes Unknown
// first, which shows as "False" and can fire `state: false` actions on every new pod — okg-sq does not).
import { OKG_PROBE_DEFAULTS } from './okg-defaults.js';
import type { ProbeTiming } from './service-quality.js';

export class Thresholds {
  private readonly timing: ProbeTiming;
  private lastState: boolean | undefined;
  private streak = 0;
  private publishedState: boolean | undefined;

  constructor(timing: ProbeTiming) {
    this.timing = timing;
  }

  /** Counts one run; true when this run's state is published (it crossed, or was already past, its threshold). */
  observe(run: { readonly state: boolean }): boolean {
    if (run.state === this.lastState) this.streak++;
    else {
      this.lastState = run.state;
      this.streak = 1;
    }
    const needed = run.state ? this.timing.successThreshold : this.timing.failureThreshold;
    if (this.streak >= Math.max(1, needed)) this.publishedState = run.state;
    return this.publishedState === run.state && this.streak >= Math.max(1, needed);
  }

  /** The published state; undefined before the first crossing. */
  get published(): boolean | undefined {
    return this.publishedState;
  }

  /** Forgets everything, as after a container restart. */
  reset(): void {
    this.lastState = undefined;
    this.streak = 0;
    this.publishedState = undefined;
  }
}

/**
 * Whether the initial delay, counted from the container's start, is over. An unknown start (0) counts as
 * passed: callers that want a delay anyway pass the time they first saw the container instead.
 */
export function initialDelayPassed(containerStartedAtMs: number, nowMs: number, initialDelaySeconds: number): boolean {
  if (containerStartedAtMs <= 0) return true;
  return nowMs - containerStartedAtMs >= initialDelaySeconds * 1000;
}

/** OKG's defaults on zero or missing fields (OKG's GameServerSet controller treats 0 as "not set"); negatives too (`check` rejects them). */
export function withOkgDefaults(partial: Partial<Record<keyof ProbeTiming, number | undefined>>): ProbeTiming {
  const pick = (key: keyof ProbeTiming): number => {
    const v = partial[key];
    return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : OKG_PROBE_DEFAULTS[key];
  };
  return Object.freeze({
    initialDelaySeconds: pick('initialDelaySeconds'),
    timeoutSeconds: pick('timeoutSeconds'),
    periodSeconds: pick('periodSeconds'),
    successThreshold: pick('successThreshold'),
    failureThreshold: pick('failureThreshold'),
  });
}
