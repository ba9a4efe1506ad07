// One way for a callback-driven operation (a socket, a stream, a websocket) with a deadline and an
// AbortSignal to end exactly once: the first of its own finish(), the deadline and the signal wins; the
// timer and the abort listener are removed and what it holds is released, then the promise resolves.
// Later ends are ignored. (It replaces a `settled` flag with its cleanup written in each runner.)
import { systemClock, type Clock, type TimerHandle } from './clock.js';

export interface SettleOnceOptions<T> {
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
  /** The result when the deadline passes first. */
  readonly timedOut: () => T;
  /** The result when the signal aborts first (also when it is aborted before the start). */
  readonly aborted: () => T;
  /** Frees what the operation holds (closes its socket); called once, after it ended, however it ended. */
  readonly release?: () => void;
  readonly clock?: Pick<Clock, 'setTimeout'>;
}

/** Runs `start(finish)` unless the signal is already aborted; resolves with the first end's result. */
export function settleOnce<T>(opts: SettleOnceOptions<T>, start: (finish: (result: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve) => {
    let done = false;
    let timer: TimerHandle | undefined;
    const finish = (result: T): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      opts.signal.removeEventListener('abort', onAbort);
      opts.release?.();
      resolve(result);
    };
    const onAbort = (): void => finish(opts.aborted());
    if (opts.signal.aborted) return onAbort();
    timer = (opts.clock ?? systemClock).setTimeout(() => finish(opts.timedOut()), opts.timeoutMs);
    opts.signal.addEventListener('abort', onAbort, { once: true });
    start(finish);
  });
}
