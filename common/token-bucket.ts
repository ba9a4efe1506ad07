// The one token bucket (rate + capacity, like client-go's QPS + burst). take() never refuses: it says how
// long the caller should wait to pay off its debt; ingest uses it to slow a flooding agent's stream (flow
// control) instead of dropping outcomes. tryTake(), msUntil() and empty() are what a client-side write
// budget adds: writes of lower priority that only take spare tokens, and a 429 that empties the bucket.
import type { Clock } from './clock.js';

export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.tokens = capacity;
    this.lastMs = clock.now();
  }

  /** Takes `count` tokens; returns 0 when they were there, else the ms until the debt is repaid. */
  take(count = 1): number {
    this.refill();
    this.tokens -= count;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSecond);
  }

  /** Takes `count` tokens only if they are there now with `spare` more left behind; never goes into debt. */
  tryTake(count = 1, spare = 0): boolean {
    this.refill();
    if (this.tokens - count < spare) return false;
    this.tokens -= count;
    return true;
  }

  /** Ms until `count` tokens are there (0 = now); takes nothing. */
  msUntil(count = 1): number {
    this.refill();
    return this.tokens >= count ? 0 : Math.ceil(((count - this.tokens) * 1000) / this.ratePerSecond);
  }

  /** Drops what is saved up (a debt stays): the bucket refills from empty. */
  empty(): void {
    this.refill();
    this.tokens = Math.min(this.tokens, 0);
  }

  private refill(): void {
    const nowMs = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000);
    this.lastMs = nowMs;
  }
}
