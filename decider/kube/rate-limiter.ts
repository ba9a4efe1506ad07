// The client-side token bucket shared by every write the decider makes (QPS + burst, like client-go's).
// Callers reserve a token in arrival order and wait until it is theirs.
import type { Clock } from '../../common/clock.js';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';
import { TokenBucket } from '../../common/token-bucket.js';

export class RateLimiter {
  private readonly bucket: TokenBucket;

  constructor(
    qps: number,
    burst: number,
    private readonly clock: Clock,
  ) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }

  /** Reserves one token; returns how long the caller must wait for it (0 = now). */
  reserve(): number {
    return this.bucket.take(1);
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
