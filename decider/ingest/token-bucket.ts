// A token bucket that never refuses: it says how long the caller should wait to pay off its debt.
// Ingest uses it to slow a flooding agent's stream (flow control) instead of dropping outcomes.
export class TokenBucket {
  private tokens: number;
  private lastMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    this.tokens = capacity;
    this.lastMs = now();
  }

  /** Takes `count` tokens; returns 0 when they were there, else the ms until the debt is repaid. */
  take(count: number): number {
    const nowMs = this.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((nowMs - this.lastMs) * this.ratePerSecond) / 1000);
    this.lastMs = nowMs;
    this.tokens -= count;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens * 1000) / this.ratePerSecond);
  }
}
