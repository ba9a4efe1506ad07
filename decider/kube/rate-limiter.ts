// The client-side token bucket shared by every write the decider makes (QPS + burst, like client-go's).
// Callers reserve a token in arrival order and wait until it is theirs.
import type { Clock } from '../../common/clock.js';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';

export class RateLimiter {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.lastMs = clock.now();
  }

  /** Reserves one token; returns how long the caller must wait for it (0 = now). */
  reserve(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) * this.qps) / 1000);
    this.lastMs = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
  }

  /** Waits for a token; resolves with the ms waited. Rejects with STOPPED if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<number> {
    const waitMs = this.reserve();
    if (waitMs === 0) return 0;
    await new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new OkgSqError(ERROR_CODES.STOPPED, 'rate limiter wait aborted'));
      const onAbort = (): void => {
        timer.cancel();
        reject(new OkgSqError(ERROR_CODES.STOPPED, 'rate limiter wait aborted'));
      };
      const timer = this.clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, waitMs);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
    return waitMs;
  }
}
