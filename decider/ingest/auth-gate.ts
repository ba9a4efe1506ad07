// Authentications (TokenReviews) behind a concurrency limit, a bounded queue and a deadline, all through
// the stream's AbortSignal: a stream that goes, or a review past its deadline, cancels the review itself
// (the authenticator gets the signal), never leaves it running behind a raced timeout.
import type { Clock } from '../../common/clock.js';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';
import { untilAborted } from './until-aborted.js';
import type { AgentAuthenticator, AgentIdentity } from './ports.js';

export interface AuthGateLimits {
  /** Authentications in flight at once; a reconnect storm after a failover queues behind them. */
  readonly maxConcurrentAuthentications: number;
  /** Authentications waiting for one of those; beyond it a stream is refused at once (`overloaded`). */
  readonly maxQueuedAuthentications: number;
  /** An authentication slower than this is cancelled, the stream ended UNAVAILABLE; the agent retries. */
  readonly authenticationTimeoutMs: number;
}

export class AuthGate {
  private running = 0;
  /** Authentications waiting for a slot, oldest first; each is handed a slot (resolved) or leaves on abort. */
  private readonly queue = new Set<() => void>();

  constructor(
    private readonly authenticator: AgentAuthenticator,
    private readonly limits: AuthGateLimits,
    private readonly clock: Clock,
  ) {}

  /** True when a new authentication would find every slot taken and the queue full. */
  get full(): boolean {
    return this.running >= this.limits.maxConcurrentAuthentications && this.queue.size >= this.limits.maxQueuedAuthentications;
  }

  /** Authenticates once a slot is free; cancelled (and rejected) when `signal` aborts or the deadline passes. */
  async authenticate(token: string, node: string, signal: AbortSignal): Promise<AgentIdentity> {
    await this.slot(signal);
    const deadline = new AbortController();
    const timer = this.clock.setTimeout(() => deadline.abort(), this.limits.authenticationTimeoutMs);
    try {
      const both = AbortSignal.any([signal, deadline.signal]);
      return await untilAborted(this.authenticator.authenticate(token, node, both), both);
    } catch (err) {
      if (deadline.signal.aborted && !signal.aborted) {
        throw new OkgSqError(ERROR_CODES.KUBE_API, `authentication took over ${this.limits.authenticationTimeoutMs} ms`, { cause: err });
      }
      throw err;
    } finally {
      timer.cancel();
      this.release();
    }
  }

  /** Resolves when this caller holds a slot; rejects (without one) when `signal` aborts. */
  private slot(signal: AbortSignal): Promise<void> {
    if (this.running < this.limits.maxConcurrentAuthentications) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const granted = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = (): void => {
        this.queue.delete(granted);
        reject(new OkgSqError(ERROR_CODES.STOPPED, 'stream ended before authentication'));
      };
      this.queue.add(granted);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private release(): void {
    const next = this.queue.values().next();
    if (next.done) {
      this.running--;
      return;
    }
    this.queue.delete(next.value);
    next.value(); // the slot is handed over
  }
}
