// What a probe run produces and what the agent publishes after thresholds.

/**
 * Why a probe failed or could not run. Empty string: the probe ran and answered.
 * `runtime_unavailable`, `container_not_found` and `container_not_running` mean "could not run": they
 * never become a `false` outcome (okg-sq's own fault, or a container that is down or restarting, must not
 * fire `state: false` actions; docs/design.md §18 "A container that is not running"); the others are failures.
 */
export const ERROR_KINDS = [
  'timeout',
  'container_not_found',
  'container_not_running',
  'exec_failed',
  'connection_refused',
  'connection_failed',
  'http_error',
  'grpc_error',
  'runtime_unavailable',
] as const;
export type ErrorKind = (typeof ERROR_KINDS)[number];

/** Error kinds that mean the probe could not run at all: the state is kept, the run is counted. */
export const COULD_NOT_RUN: ReadonlySet<ErrorKind> = new Set<ErrorKind>(['runtime_unavailable', 'container_not_found', 'container_not_running']);

/** One run of one probe. */
export interface ProbeRun {
  readonly state: boolean;
  /** Already normalised (common/probe-result.ts). */
  readonly result: string;
  /** Exec exit code; -1 where there is none. */
  readonly exitCode: number;
  readonly errorKind: ErrorKind | '';
  readonly durationMs: number;
  /** When the run finished, Unix ms. */
  readonly observedAtMs: number;
}

/** Identifies one quality of one pod. Keyed by pod UID: a pod recreated under its name starts afresh. */
export interface ProbeKey {
  readonly podUid: string;
  readonly quality: string;
}

export function probeKeyString(key: ProbeKey): string {
  return `${key.podUid}/${key.quality}`;
}

/** A published outcome: a run whose state has crossed its threshold. */
export interface Outcome extends ProbeRun, ProbeKey {}
