// What one runner call produces; the engine adds the duration and the observed time.
import type { ErrorKind } from '../outcome.js';

export interface RunnerResult {
  readonly state: boolean;
  /** Normalised (common/probe-result.ts). */
  readonly result: string;
  /** Exec exit code; -1 where there is none. */
  readonly exitCode: number;
  /** Empty when the probe ran and answered. */
  readonly errorKind: ErrorKind | '';
  /** Why it failed, for logs only (never the result). */
  readonly detail?: string;
}

export const NO_EXIT_CODE = -1;

/** A probe that failed without an answer: the error kind is kept apart from the (empty) result. */
export function failedRun(errorKind: ErrorKind, detail: string): RunnerResult {
  return { state: false, result: '', exitCode: NO_EXIT_CODE, errorKind, detail };
}

/** Network error codes → error kinds; anything unknown is a generic connection failure. */
export function networkErrorKind(err: unknown): ErrorKind {
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection_refused';
    case 'ETIMEDOUT':
    case 'ABORT_ERR':
      return 'timeout';
    default:
      return 'connection_failed';
  }
}
