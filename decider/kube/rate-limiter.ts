// The client-side token bucket shared by every write the decider makes (QPS + burst, like client-go's).
// Callers reserve a token in arrival order and wait until it is theirs. Lower-priority writers (Events)
// never reserve: they take a token only when it is spare (docs/design.md §NN). A 429 from the API server
// holds every writer for the time it asked for.
import type { Clock } from '../../common/clock.js';
import { OkgSqError, ERROR_CODES } from '../../common/errors.js';

export class RateLimiter {
  private tokens: number;
  private lastMs: number;
  /** No token is handed out before this time (the API server's Retry-After). */
  private heldUntilMs = 0;

  constructor(
    private readonly qps: number,
    private readonly burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.lastMs = clock.now();
  }

  private refill(): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.lastMs) * this.qps) / 1000);
    this.lastMs = now;
    return now;
  }

  /** Reserves one token; returns how long the caller must wait for it (0 = now). */
  reserve(): number {
    const now = this.refill();
    this.tokens -= 1;
    const tokenWaitMs = this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.qps);
    return Math.max(tokenWaitMs, this.heldUntilMs - now);
  }

  /**
   * Takes a token only if one is there now and `spare` more stay behind (for writes of higher priority
   * known to come); never reserves, never waits. False while anyone waits or the limiter is held.
   */
  tryTake(spare = 0): boolean {
    const now = this.refill();
    if (now < this.heldUntilMs || this.tokens - 1 < spare) return false;
    this.tokens -= 1;
    return true;
  }

  /** Ms until a token would be there for tryTake(0) (0 = now). */
  msUntilToken(): number {
    const now = this.refill();
    return Math.max(this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 1000) / this.qps), this.heldUntilMs - now);
  }

  /**
   * The API server said "too many requests, come back in `ms`": nobody gets a token before then, and the
   * bucket restarts empty, so the writes waiting do not arrive as one burst when the hold ends.
   */
  hold(ms: number): void {
    const now = this.refill();
    this.heldUntilMs = Math.max(this.heldUntilMs, now + ms);
    this.tokens = Math.min(this.tokens, 0);
  }

  /** Waits for a token; resolves with the ms waited. Rejects with STOPPED if `signal` aborts first. */
  async acquire(signal?: AbortSignal): Promise<number> {
    const start = this.clock.now();
    let waitMs = this.reserve();
    // A hold that began while we waited for our token applies to us too.
    while (waitMs > 0) {
      await this.sleep(waitMs, signal);
      waitMs = this.heldUntilMs - this.clock.now();
    }
    return this.clock.now() - start;
  }

  private sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new OkgSqError(ERROR_CODES.STOPPED, 'rate limiter wait aborted'));
      const onAbort = (): void => {
        timer.cancel();
        reject(new OkgSqError(ERROR_CODES.STOPPED, 'rate limiter wait aborted'));
      };
      const timer = this.clock.setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
