// Waiting on work that was handed the same AbortSignal: the wait ends when the signal aborts, even if the
// work is slow to notice; the work itself is cancelled through the signal, never left running unasked.
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';

/** `promise`, or a STOPPED rejection as soon as `signal` aborts. */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new OkgSqError(ERROR_CODES.STOPPED, 'cancelled'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new OkgSqError(ERROR_CODES.STOPPED, 'cancelled'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.finally(() => signal.removeEventListener('abort', onAbort)).then(resolve, reject);
  });
}
