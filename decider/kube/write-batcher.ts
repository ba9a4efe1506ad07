// Coalesces GameServers to write (latest wins: a dirty key is computed only when its turn comes, from
// the freshest cache), flushes them on a short window, and runs each GameServer's writes in docs/design.md §4
// order under a shared rate limit and bounded concurrency, retrying what the API server asks us to.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { sleep } from '../../common/sleep.js';
import type { ObjectKey } from './object-key.js';
import type { RateLimiter } from './rate-limiter.js';
import { DEFAULT_RETRY_POLICY, MAX_STEPS_PER_JOB, pinned, runSteps, type RetryPolicy, type StepContext, type StepMetrics, type StepWriter, type WriteJob } from './write-step.js';

/** How long shutdown waits for queued writes before giving up on them. */
export const SHUTDOWN_FLUSH_TIMEOUT_MS = 10_000;

export interface BatcherMetrics extends StepMetrics {
  batchSize(size: number): void;
  queueDepth(depth: number): void;
  flipToPatch(seconds: number): void;
}

export interface WriteBatcherOptions {
  /** Computes a key's writes from the current cache; null or no steps = nothing to write. */
  readonly compute: (key: ObjectKey) => WriteJob | null;
  readonly writer: StepWriter;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly flushWindowMs: number;
  readonly concurrency: number;
  readonly metrics: BatcherMetrics;
  readonly logger: Logger;
  readonly retry?: Partial<RetryPolicy>;
}

export class WriteBatcher {
  /** key → when it first became dirty since it was last written (for flip-to-patch latency). */
  private readonly dirty = new Map<ObjectKey, number>();
  /** FIFO of keys to write: `ready[readyHead…]` (a head index, since Array.shift is O(n) on long waves). */
  private ready: ObjectKey[] = [];
  private readyHead = 0;
  private readonly readySet = new Set<ObjectKey>();
  private readonly processing = new Set<ObjectKey>();
  private flushTimer: { cancel(): void } | undefined;
  private active = false;
  private abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private readonly retry: RetryPolicy;
  private readonly log: Logger;
  private readonly steps: StepContext;

  constructor(private readonly opts: WriteBatcherOptions) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.log = opts.logger.child({ [LOG.component]: 'write-batcher' });
    this.steps = { writer: opts.writer, limiter: opts.limiter, clock: opts.clock, metrics: opts.metrics, retry: this.retry, log: this.log };
  }

  /** Starts writing (became leader). */
  activate(): void {
    if (this.active) return;
    this.active = true;
    this.abort = new AbortController();
    // Every in-flight write, rate-limiter wait and backoff listens on this one signal.
    setMaxListeners(this.opts.concurrency * 4 + 16, this.abort.signal);
    if (this.dirty.size > 0) this.scheduleFlush();
  }

  /** Stops writing at once (lost leadership): in-flight writes are aborted, pending work dropped. */
  deactivate(): void {
    this.active = false;
    this.abort.abort();
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.dirty.clear();
    this.firstDirtyAt.clear();
    this.ready = [];
    this.readyHead = 0;
    this.readySet.clear();
    this.reportDepth();
  }

  get writing(): boolean {
    return this.active;
  }

  enqueue(key: ObjectKey): void {
    if (!this.active) return;
    if (!this.dirty.has(key)) this.dirty.set(key, this.opts.clock.now());
    this.reportDepth();
    this.scheduleFlush();
  }

  /** Flushes now and resolves when nothing is pending or in flight (shutdown, tests). */
  async drain(): Promise<void> {
    this.flushTimer?.cancel();
    this.flushTimer = undefined;
    this.flush();
    if (this.isIdle()) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Shutdown: queued writes get `SHUTDOWN_FLUSH_TIMEOUT_MS` to go out, then whatever is still in flight is
   * aborted (deactivate).
   */
  async stop(): Promise<void> {
    const deadline = new AbortController();
    const flushed = await Promise.race([this.drain().then(() => true), sleep(this.opts.clock, SHUTDOWN_FLUSH_TIMEOUT_MS, deadline.signal).then(() => false)]);
    deadline.abort();
    if (!flushed) this.log.warn({}, 'queued writes not flushed before the shutdown deadline');
    this.deactivate();
  }

  get depth(): number {
    return this.dirty.size + this.ready.length - this.readyHead;
  }

  /** Writes known to come (an upper bound): what lower-priority writers (Events) must leave tokens for. */
  get pendingWrites(): number {
    return MAX_STEPS_PER_JOB * (this.depth + this.processing.size);
  }

  private isIdle(): boolean {
    return this.dirty.size === 0 && this.ready.length === this.readyHead && this.processing.size === 0;
  }

  private reportDepth(): void {
    this.opts.metrics.queueDepth(this.depth);
  }

  private scheduleFlush(): void {
    if (this.flushTimer || !this.active) return;
    this.flushTimer = this.opts.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.opts.flushWindowMs);
  }

  private readonly firstDirtyAt = new Map<ObjectKey, number>();

  private flush(): void {
    let moved = 0;
    for (const [key, since] of this.dirty) {
      // A key being written stays dirty: it is taken again after the current write finishes.
      if (this.processing.has(key)) continue;
      this.dirty.delete(key);
      if (!this.firstDirtyAt.has(key)) this.firstDirtyAt.set(key, since);
      if (this.readySet.has(key)) continue;
      this.readySet.add(key);
      this.ready.push(key);
      moved++;
    }
    if (moved > 0) this.opts.metrics.batchSize(moved);
    this.pump();
    this.checkIdle();
  }

  private pump(): void {
    while (this.active && this.processing.size < this.opts.concurrency && this.readyHead < this.ready.length) {
      const key = this.ready[this.readyHead++]!;
      if (this.readyHead === this.ready.length) {
        this.ready = [];
        this.readyHead = 0;
      }
      this.readySet.delete(key);
      this.processing.add(key);
      void this.process(key, this.abort.signal).finally(() => {
        this.processing.delete(key);
        if (this.dirty.size > 0) this.scheduleFlush();
        this.pump();
        this.reportDepth();
        this.checkIdle();
      });
    }
    this.reportDepth();
  }

  private checkIdle(): void {
    if (!this.isIdle() && this.active) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private async process(key: ObjectKey, signal: AbortSignal): Promise<void> {
    try {
      // After a conflict whose re-read failed, the cache may still lag what the API server has: the
      // recomputed steps then carry their versions from the first attempt.
      let stale = false;
      for (let conflicts = 0; conflicts <= this.retry.maxConflicts; conflicts++) {
        const job = this.opts.compute(key);
        if (!job || job.steps.length === 0) {
          this.firstDirtyAt.delete(key);
          return;
        }
        const { result: outcome, step: conflicted } = await runSteps(this.steps, stale ? job.steps.map(pinned) : job.steps, signal);
        if (outcome === 'ok') {
          const since = this.firstDirtyAt.get(key);
          this.firstDirtyAt.delete(key);
          if (since !== undefined) this.opts.metrics.flipToPatch((this.opts.clock.now() - since) / 1000);
          job.done?.();
          return;
        }
        if (outcome === 'conflict' && conflicted) {
          stale = await this.opts.writer.refresh(conflicted, signal).then(
            () => false,
            (err: unknown) => {
              this.log.warn({ [LOG.err]: err }, 'refresh after conflict failed');
              return true;
            },
          );
          continue;
        }
        if (outcome === 'failed') {
          // Out of attempts: try again on a later flush rather than blocking a worker forever.
          this.enqueueLater(key);
        }
        this.firstDirtyAt.delete(key);
        return;
      }
      this.log.warn({ [LOG.gameServer]: key }, 'gave up after repeated conflicts until the next change');
    } catch (err) {
      this.log.error({ [LOG.err]: err, [LOG.gameServer]: key }, 'write job failed');
    }
  }

  private enqueueLater(key: ObjectKey): void {
    if (!this.active) return;
    void sleep(this.opts.clock, this.retry.maxBackoffMs, this.abort.signal).then((slept) => slept && this.enqueue(key));
  }
}
