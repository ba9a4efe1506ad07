// Coalesces GameServers to write (latest wins: a dirty key is computed only when its turn comes, from
// the freshest cache), flushes them on a short window, and runs each GameServer's writes in docs/design.md §4
// order under a shared rate limit and bounded concurrency, retrying what the API server asks us to.
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import type { ContentType, KubeResponse } from './kube-client.js';
import type { RateLimiter } from './rate-limiter.js';

export type WriteResource = 'pods/status' | 'gameservers' | 'gameservers/status';

/** Steps a GameServer's job has at most (docs/design.md §4: pod condition, GameServer, its status). */
export const MAX_STEPS_PER_JOB = 3;

export interface WriteStep {
  readonly resource: WriteResource;
  readonly namespace: string;
  readonly name: string;
  readonly contentType: ContentType;
  readonly body: unknown;
  /**
   * The object this step was computed from. Its uid goes into every patch, so a write can never land on a
   * successor under the same name; with `resourceVersion` the patch lands only on that very version
   * (needed where the API server ignores metadata in the body: a custom resource's status). A step after
   * our own successful write of the same object moves on to the version that write produced.
   */
  readonly precondition: { readonly uid: string; readonly resourceVersion?: string };
}

/** Everything one GameServer needs written now, in order; `done` runs once all steps succeeded. */
export interface WriteJob {
  readonly steps: readonly WriteStep[];
  done?(): void;
}

/** The API server's answer to a step; `conflict` when its precondition failed (a 409, or the object replaced). */
export interface StepAnswer extends KubeResponse {
  readonly conflict?: boolean;
}

export interface StepWriter {
  /** Sends one step; the answer's status decides what happens next. Throws on a transport error. */
  write(step: WriteStep, signal: AbortSignal): Promise<StepAnswer>;
  /**
   * After a conflict: re-reads the pod and the GameServer the step's job was computed from into the cache
   * (or drops them from it when gone), so the job is recomputed from fresh state, never retried blind.
   */
  refresh(step: WriteStep, signal: AbortSignal): Promise<void>;
}

export interface BatcherMetrics {
  write(resource: WriteResource, verb: string, code: string): void;
  batchSize(size: number): void;
  queueDepth(depth: number): void;
  rateLimiterWait(seconds: number): void;
  flipToPatch(seconds: number): void;
}

export interface WriteBatcherOptions {
  /** Computes a key's writes from the current cache; null or no steps = nothing to write. */
  readonly compute: (key: string) => WriteJob | null;
  readonly writer: StepWriter;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly flushWindowMs: number;
  readonly concurrency: number;
  readonly metrics: BatcherMetrics;
  readonly logger: Logger;
  readonly retry?: Partial<RetryPolicy>;
}

export interface RetryPolicy {
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Attempts per step before the key is put back for a later flush. */
  readonly maxAttempts: number;
  /** Recomputations after a 409 before giving up until the next change. */
  readonly maxConflicts: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = Object.freeze({
  initialBackoffMs: 200,
  maxBackoffMs: 30_000,
  maxAttempts: 6,
  maxConflicts: 3,
});

type StepResult = 'ok' | 'gone' | 'conflict' | 'failed' | 'stopped';

export class WriteBatcher {
  /** key → when it first became dirty since it was last written (for flip-to-patch latency). */
  private readonly dirty = new Map<string, number>();
  /** FIFO of keys to write: `ready[readyHead…]` (a head index, since Array.shift is O(n) on long waves). */
  private ready: string[] = [];
  private readyHead = 0;
  private readonly readySet = new Set<string>();
  private readonly processing = new Set<string>();
  private flushTimer: { cancel(): void } | undefined;
  private active = false;
  private abort = new AbortController();
  private idleWaiters: (() => void)[] = [];
  private readonly retry: RetryPolicy;
  private readonly log: Logger;

  constructor(private readonly opts: WriteBatcherOptions) {
    this.retry = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.log = opts.logger.child({ [LOG.component]: 'write-batcher' });
  }

  /** Starts writing (became leader). */
  resume(): void {
    if (this.active) return;
    this.active = true;
    this.abort = new AbortController();
    // Every in-flight write, rate-limiter wait and backoff listens on this one signal.
    setMaxListeners(this.opts.concurrency * 4 + 16, this.abort.signal);
    if (this.dirty.size > 0) this.scheduleFlush();
  }

  /** Stops writing at once (lost leadership): in-flight writes are aborted, pending work dropped. */
  pause(): void {
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

  enqueue(key: string): void {
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

  private readonly firstDirtyAt = new Map<string, number>();

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

  private async process(key: string, signal: AbortSignal): Promise<void> {
    try {
      for (let conflicts = 0; conflicts <= this.retry.maxConflicts; conflicts++) {
        const job = this.opts.compute(key);
        if (!job || job.steps.length === 0) {
          this.firstDirtyAt.delete(key);
          return;
        }
        let outcome: StepResult = 'ok';
        let conflicted: WriteStep | undefined;
        // Our own writes move an object's resourceVersion on: later steps on it follow (object → version).
        const written = new Map<string, { uid: string; resourceVersion: string }>();
        for (const planned of job.steps) {
          const step = followOwnWrite(planned, written);
          const [result, answer] = await this.runStep(step, signal);
          outcome = result;
          if (outcome !== 'ok') {
            conflicted = step;
            break;
          }
          rememberWritten(step, answer, written);
        }
        if (outcome === 'ok') {
          const since = this.firstDirtyAt.get(key);
          this.firstDirtyAt.delete(key);
          if (since !== undefined) this.opts.metrics.flipToPatch((this.opts.clock.now() - since) / 1000);
          job.done?.();
          return;
        }
        if (outcome === 'conflict' && conflicted) {
          await this.opts.writer.refresh(conflicted, signal).catch((err) => this.log.warn({ [LOG.err]: err }, 'refresh after conflict failed'));
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

  private enqueueLater(key: string): void {
    if (!this.active) return;
    const signal = this.abort.signal;
    const onAbort = (): void => timer.cancel();
    const timer = this.opts.clock.setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      this.enqueue(key);
    }, this.retry.maxBackoffMs);
    signal.addEventListener('abort', onAbort, { once: true });
  }

  private async runStep(step: WriteStep, signal: AbortSignal): Promise<[StepResult, StepAnswer?]> {
    let backoffMs = this.retry.initialBackoffMs;
    for (let attempt = 1; attempt <= this.retry.maxAttempts; attempt++) {
      if (!this.active || signal.aborted) return ['stopped'];
      try {
        const waited = await this.opts.limiter.acquire(signal);
        this.opts.metrics.rateLimiterWait(waited / 1000);
      } catch {
        return ['stopped'];
      }
      let status: number;
      let answer: StepAnswer | undefined;
      try {
        answer = await this.opts.writer.write(step, signal);
        status = answer.status;
      } catch (err) {
        if (signal.aborted) return ['stopped'];
        status = 0; // transport error or timeout: retried like a 5xx
        this.log.warn({ [LOG.err]: err, [LOG.resource]: step.resource, [LOG.attempt]: attempt }, 'write failed');
      }
      this.opts.metrics.write(step.resource, 'patch', status === 0 ? 'error' : String(status));
      if (status >= 200 && status < 300) return ['ok', answer];
      if (status === 404) {
        this.log.debug({ [LOG.resource]: step.resource, [LOG.namespace]: step.namespace, [LOG.gameServer]: step.name }, 'object gone, write dropped');
        return ['gone'];
      }
      // The object changed or was replaced since the step was computed: recompute, never retry blind.
      if (status === 409 || answer?.conflict) {
        this.log.debug({ [LOG.resource]: step.resource, [LOG.namespace]: step.namespace, [LOG.gameServer]: step.name, [LOG.httpStatus]: status }, 'write conflict, recomputing');
        return ['conflict'];
      }
      const retriable = status === 0 || status === 429 || status >= 500;
      if (!retriable) {
        this.log.error({ [LOG.resource]: step.resource, [LOG.namespace]: step.namespace, [LOG.gameServer]: step.name, [LOG.httpStatus]: status }, 'write refused, dropped');
        return ['gone'];
      }
      const delayMs = retryDelayMs(answer?.retryAfterSeconds, backoffMs, this.retry.maxBackoffMs);
      backoffMs *= 2;
      // A 429 is about the client, not this object (API Priority and Fairness rejecting our flow): every
      // writer holds, so the other workers do not keep knocking (docs/design.md §NN).
      if (status === 429) this.opts.limiter.hold(delayMs);
      if (attempt === this.retry.maxAttempts) break;
      this.log.debug({ [LOG.resource]: step.resource, [LOG.httpStatus]: status, [LOG.delayMs]: delayMs, [LOG.attempt]: attempt }, 'write retry');
      if (!(await this.sleep(delayMs, signal))) return ['stopped'];
    }
    return ['failed'];
  }

  private sleep(ms: number, signal: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(false);
      const onAbort = (): void => {
        timer.cancel();
        resolve(false);
      };
      const timer = this.opts.clock.setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/**
 * The one backoff shape of the decider's writes: Retry-After from the server wins, capped so a huge value
 * cannot park a writer; otherwise `backoffMs` (doubled by the caller per attempt) with ±50 % jitter.
 */
export function retryDelayMs(retryAfterSeconds: number | undefined, backoffMs: number, maxBackoffMs: number): number {
  return retryAfterSeconds !== undefined
    ? Math.min(maxBackoffMs, Math.max(0, retryAfterSeconds * 1000))
    : Math.min(maxBackoffMs, backoffMs) * (0.5 + Math.random());
}

/** The object a step writes: a resource and its subresources are one object (pods/status is the pod). */
function objectKey(step: WriteStep): string {
  return `${step.resource.split('/')[0]}/${step.namespace}/${step.name}`;
}

/** `step`, its resourceVersion precondition moved on to what our own earlier write of the object produced. */
function followOwnWrite(step: WriteStep, written: ReadonlyMap<string, { uid: string; resourceVersion: string }>): WriteStep {
  const own = written.get(objectKey(step));
  if (!own || step.precondition.resourceVersion === undefined || own.uid !== step.precondition.uid) return step;
  return { ...step, precondition: { ...step.precondition, resourceVersion: own.resourceVersion } };
}

function rememberWritten(step: WriteStep, answer: StepAnswer | undefined, written: Map<string, { uid: string; resourceVersion: string }>): void {
  const meta = (answer?.body as { metadata?: { uid?: unknown; resourceVersion?: unknown } } | undefined)?.metadata;
  if (typeof meta?.uid === 'string' && typeof meta.resourceVersion === 'string' && meta.uid === step.precondition.uid) {
    written.set(objectKey(step), { uid: meta.uid, resourceVersion: meta.resourceVersion });
  }
}
