// The client-side write budget shared by every write the decider makes (QPS + burst, like client-go's): the
// one token bucket (common/token-bucket.ts) plus what writers need around it. Callers reserve a token in
// arrival order and wait until it is theirs. Lower-priority writers (Events) never reserve: they take a
// token only when it is spare (docs/design.md §15). A 429 from the API server holds every writer for the
// time it asked for.
import type { Clock } from '../../common/clock.js';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';
import { sleep } from '../../common/sleep.js';
import { TokenBucket } from '../../common/token-bucket.js';

export class RateLimiter {
  private readonly bucket: TokenBucket;
  /** No token is handed out before this time (the API server's Retry-After). */
  private heldUntilMs = 0;

  constructor(
    qps: number,
    burst: number,
    private readonly clock: Clock,
  ) {
    this.bucket = new TokenBucket(qps, burst, clock);
  }

  private heldMs(): number {
    return Math.max(0, this.heldUntilMs - this.clock.now());
  }

  /** Reserves one token; returns how long the caller must wait for it (0 = now). */
  reserve(): number {
    return Math.max(this.bucket.take(), this.heldMs());
  }

  /**
   * Takes a token only if one is there now and `spare` more stay behind (for writes of higher priority
   * known to come); never reserves, never waits. False while anyone waits or the limiter is held.
   */
  tryTake(spare = 0): boolean {
    return this.heldMs() === 0 && this.bucket.tryTake(1, spare);
  }

  /** Ms until a token would be there for tryTake(0) (0 = now). */
  msUntilToken(): number {
    return Math.max(this.bucket.msUntil(), this.heldMs());
  }

  /**
   * The API server said "too many requests, come back in `ms`": nobody gets a token before then, and the
   * bucket restarts empty, so the writes waiting do not arrive as one burst when the hold ends.
   */
  hold(ms: number): void {
    this.heldUntilMs = Math.max(this.heldUntilMs, this.clock.now() + ms);
    this.bucket.empty();
  }

  /** Waits for a token; resolves with the ms waited. Rejects with STOPPED if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<number> {
    const start = this.clock.now();
    // A hold that began while we waited for our token applies to us too.
    for (let waitMs = this.reserve(); waitMs > 0; waitMs = this.heldMs()) {
      if (!(await sleep(this.clock, waitMs, signal))) throw new OkgSqError(ERROR_CODES.STOPPED, 'rate limiter wait aborted');
    }
    return this.clock.now() - start;
  }
}
