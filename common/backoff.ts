// Retry delays, the one backoff of both programs: exponential, capped, with jitter so that a decider
// restart is not met by every agent of the cluster in the same instant, nor an apiserver outage by every
// informer at once. Used by the agent's reconnects and the decider's list/watch restarts.
export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly random?: () => number;
}

export class Backoff {
  private readonly options: BackoffOptions;
  private attempts = 0;

  constructor(options: BackoffOptions) {
    this.options = options;
  }

  get attempt(): number {
    return this.attempts;
  }

  /** The next delay: uniformly in [ceiling/2, ceiling], ceiling = min(max, initial · 2^attempt). */
  next(): number {
    const ceiling = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempts, 30));
    this.attempts++;
    const random = this.options.random ?? Math.random;
    return Math.round(ceiling / 2 + random() * (ceiling / 2));
  }

  reset(): void {
    this.attempts = 0;
  }
}
