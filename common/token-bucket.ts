// The one token bucket (rate + capacity, like client-go's QPS + burst). It never refuses: it says how long
// the caller should wait to pay off its debt. Ingest uses it to slow a flooding agent's stream (flow
// control) instead of dropping outcomes; the decider's write client uses it for its request budget.
import type { Clock } from './clock.js';

export class TokenBucket {
  #tokens: number;
  #lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.#tokens = capacity;
    this.#lastMs = clock.now();
  }

  /** Takes `count` tokens; returns 0 when they were there, else the ms until the debt is repaid. */
  take(count = 1): number {
    const nowMs = this.clock.now();
    this.#tokens = Math.min(this.capacity, this.#tokens + ((nowMs - this.#lastMs) * this.ratePerSecond) / 1000);
    this.#lastMs = nowMs;
    this.#tokens -= count;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens * 1000) / this.ratePerSecond);
  }
}
