// Polls a condition until it holds or a deadline passes; the bed's only way to wait (no fixed sleeps).
import { setTimeout as delay } from 'node:timers/promises';

export interface WaitForOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Named in the timeout error, e.g. "kube-apiserver /readyz". */
  what: string;
}

const DEFAULT_POLL_INTERVAL_MS = 50;

/** Thrown by a check to stop waiting at once (e.g. the awaited process exited): it is never retried. */
export class GiveUpWaiting extends Error {
  override readonly name: string = 'GiveUpWaiting';
}

/** Resolves with the first truthy value `check` returns; errors thrown by `check` count as "not yet", except GiveUpWaiting. */
export async function waitFor<T>(check: () => Promise<T | undefined | false> | T | undefined | false, options: WaitForOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      if (err instanceof GiveUpWaiting) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : '';
      throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${options.what}${detail}`, { cause: lastError });
    }
    await delay(options.intervalMs ?? DEFAULT_POLL_INTERVAL_MS);
  }
}
