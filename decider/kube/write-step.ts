// One GameServer's writes, step by step: what a step is, how the API server's answer to it is read (done,
// gone, conflict, retry) and how a retried step waits (the server's Retry-After, else common/backoff.ts).
// The write batcher decides which GameServer is written when; this module writes one step of it.
import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { Backoff } from '../../common/backoff.js';
import type { Clock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { sleep } from '../../common/sleep.js';
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
   * successor under the same name. Its `resourceVersion` goes into every retry (`pinned`): an attempt
   * whose answer never came may have landed, and a retry after a wait may meet another writer's change, so
   * a retry lands only on the very version computed from, else it is refused (409) and the job recomputed
   * from a fresh read (docs/design.md §13). `pinned` from the first attempt where the API server ignores
   * the uid in the body (a custom resource's status). A step after our own successful write of the same
   * object moves on to the version that write produced.
   */
  readonly precondition: { readonly uid: string; readonly resourceVersion?: string; readonly pinned?: boolean };
  /**
   * The part of the object the body was computed from (the status list, for a status step), when that is
   * all it depends on and the body sets it whole (a merge patch of a list). A conflict that left this part
   * as it was (another writer changed something else, e.g. an operator's opsState edit between our spec
   * and status writes) re-sends the step on the fresh version: recomputing instead would fire again an
   * action whose spec write already landed, over the operator's edit. A conflict that finds the part as the
   * body sets it (our earlier attempt landed, its answer lost) ends the step as done, so the decision is
   * still reported (docs/design.md §13).
   */
  readonly dependsOn?: { readonly path: readonly string[]; readonly value: unknown };
}

/** Everything one GameServer needs written now, in order; `done` runs once all steps succeeded. */
export interface WriteJob {
  readonly steps: readonly WriteStep[];
  done?(): void;
}

/** The precondition of a step computed from the object with `metadata`: its uid and version. */
export function computedFrom(metadata: { readonly uid: string; readonly resourceVersion?: string }): WriteStep['precondition'] {
  return { uid: metadata.uid, ...(metadata.resourceVersion !== undefined ? { resourceVersion: metadata.resourceVersion } : {}) };
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
  /** Reads the object the step writes, as the API server has it now (null when gone or unreadable). */
  read(step: WriteStep, signal: AbortSignal): Promise<unknown>;
}

export interface StepMetrics {
  write(resource: WriteResource, verb: string, code: string): void;
  rateLimiterWait(seconds: number): void;
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

export type StepResult = 'ok' | 'gone' | 'conflict' | 'failed' | 'stopped';

/**
 * The server's Retry-After in ms, capped so a huge value cannot park a writer; undefined when it gave none
 * (then the caller's backoff decides).
 */
export function retryAfterMs(retryAfterSeconds: number | undefined, maxMs = DEFAULT_RETRY_POLICY.maxBackoffMs): number | undefined {
  return retryAfterSeconds === undefined ? undefined : Math.min(maxMs, Math.max(0, retryAfterSeconds * 1000));
}

export interface StepContext {
  readonly writer: StepWriter;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly metrics: StepMetrics;
  readonly retry: RetryPolicy;
  readonly log: Logger;
}

/** Writes one step under the shared rate limit, retrying what the API server asks us to; `signal` stops it. */
export async function runStep(ctx: StepContext, planned: WriteStep, signal: AbortSignal): Promise<[StepResult, StepAnswer?]> {
  let step = planned;
  const backoff = new Backoff({ initialMs: ctx.retry.initialBackoffMs, maxMs: ctx.retry.maxBackoffMs });
  const fields = { [LOG.resource]: step.resource, [LOG.namespace]: step.namespace, [LOG.gameServer]: step.name };
  for (let attempt = 1; attempt <= ctx.retry.maxAttempts; attempt++) {
    if (signal.aborted) return ['stopped'];
    try {
      const waited = await ctx.limiter.acquire(signal);
      ctx.metrics.rateLimiterWait(waited / 1000);
    } catch {
      return ['stopped'];
    }
    let status: number;
    let answer: StepAnswer | undefined;
    try {
      answer = await ctx.writer.write(step, signal);
      status = answer.status;
    } catch (err) {
      if (signal.aborted) return ['stopped'];
      status = 0; // transport error or timeout: retried like a 5xx
      ctx.log.warn({ [LOG.err]: err, [LOG.resource]: step.resource, [LOG.attempt]: attempt }, 'write failed');
    }
    ctx.metrics.write(step.resource, 'patch', status === 0 ? 'error' : String(status));
    if (status >= 200 && status < 300) return ['ok', answer];
    if (status === 404) {
      ctx.log.debug(fields, 'object gone, write dropped');
      return ['gone'];
    }
    // The object changed or was replaced since the step was computed: recompute, never retry blind.
    if (status === 409 || answer?.conflict) {
      ctx.log.debug({ ...fields, [LOG.httpStatus]: status }, 'write conflict, recomputing');
      return ['conflict'];
    }
    const retriable = status === 0 || status === 429 || status >= 500;
    if (!retriable) {
      ctx.log.error({ ...fields, [LOG.httpStatus]: status }, 'write refused, dropped');
      return ['gone'];
    }
    const backoffMs = backoff.next();
    const delayMs = retryAfterMs(answer?.retryAfterSeconds, ctx.retry.maxBackoffMs) ?? backoffMs;
    // A 429 is about the client, not this object (API Priority and Fairness rejecting our flow): every
    // writer holds, so the other workers do not keep knocking (docs/design.md §15).
    if (status === 429) ctx.limiter.hold(delayMs);
    if (attempt === ctx.retry.maxAttempts) break;
    ctx.log.debug({ [LOG.resource]: step.resource, [LOG.httpStatus]: status, [LOG.delayMs]: delayMs, [LOG.attempt]: attempt }, 'write retry');
    if (!(await sleep(ctx.clock, delayMs, signal))) return ['stopped'];
    step = pinned(step);
  }
  return ['failed'];
}

/**
 * Runs a job's steps in order, each after the previous succeeded; the first that does not succeed ends
 * the job and is returned with its result (the batcher refreshes from it after a conflict).
 */
export async function runSteps(ctx: StepContext, steps: readonly WriteStep[], signal: AbortSignal): Promise<{ result: StepResult; step?: WriteStep }> {
  // Our own writes move an object's resourceVersion on: later steps on it follow (object → version).
  const written: OwnWrites = new Map();
  for (const planned of steps) {
    let step = followOwnWrite(planned, written);
    let [result, answer] = await runStep(ctx, step, signal);
    for (let rebases = 0; result === 'conflict' && rebases < ctx.retry.maxConflicts; rebases++) {
      const next = await afterConflict(ctx, step, signal);
      if (!next) break;
      if (next.landed) {
        [result, answer] = ['ok', next.landed];
        break;
      }
      step = next.rebased;
      [result, answer] = await runStep(ctx, step, signal);
    }
    if (result !== 'ok') return { result, step };
    rememberWritten(step, answer, written);
  }
  return { result: 'ok' };
}

/**
 * After a conflict on a step that names what it depends on, from a fresh read of the same object (same uid):
 * - that part already holds what the step writes: an earlier attempt of ours landed and its answer was lost
 *   (or another writer wrote exactly this): the step is done, and the decision it completes is reported;
 * - that part is as computed from: `step` pinned to the fresh version;
 * - otherwise (or the read failed, or the object was replaced): undefined, the job is recomputed.
 */
async function afterConflict(ctx: StepContext, step: WriteStep, signal: AbortSignal): Promise<{ landed: StepAnswer } | { landed?: undefined; rebased: WriteStep } | undefined> {
  if (!step.dependsOn || signal.aborted) return undefined;
  const fresh = (await ctx.writer.read(step, signal).catch(() => null)) as { metadata?: { uid?: unknown; resourceVersion?: unknown } } | null;
  const meta = fresh?.metadata;
  if (meta?.uid !== step.precondition.uid || typeof meta.resourceVersion !== 'string') return undefined;
  const part = valueAt(fresh, step.dependsOn.path);
  const fields = { [LOG.resource]: step.resource, [LOG.namespace]: step.namespace, [LOG.gameServer]: step.name };
  if (isDeepStrictEqual(part, valueAt(step.body, step.dependsOn.path))) {
    ctx.log.debug(fields, 'write conflict, the write had landed');
    return { landed: { status: 200, body: fresh } };
  }
  if (!isDeepStrictEqual(part, step.dependsOn.value ?? undefined)) return undefined;
  ctx.log.debug(fields, 'write conflict on a part it does not depend on, re-sent');
  return { rebased: { ...step, precondition: { uid: step.precondition.uid, resourceVersion: meta.resourceVersion, pinned: true } } };
}

/** The value at `path` in a JSON object (undefined where absent or null). */
function valueAt(obj: unknown, path: readonly string[]): unknown {
  let v = obj;
  for (const key of path) v = (v as Record<string, unknown> | null | undefined)?.[key];
  return v ?? undefined;
}

/** `step` with its version in every attempt from now on (a retry never lands blind), when it has one. */
export function pinned(step: WriteStep): WriteStep {
  if (step.precondition.resourceVersion === undefined || step.precondition.pinned) return step;
  return { ...step, precondition: { ...step.precondition, pinned: true } };
}

/** The version our own write of an object produced, by object (a resource and its subresources are one). */
type OwnWrites = Map<string, { uid: string; resourceVersion: string }>;

/** The object a step writes: a resource and its subresources are one object (pods/status is the pod). */
function writtenObject(step: WriteStep): string {
  return `${step.resource.split('/')[0]}/${step.namespace}/${step.name}`;
}

/** `step`, its resourceVersion precondition moved on to what our own earlier write of the object produced. */
function followOwnWrite(step: WriteStep, written: OwnWrites): WriteStep {
  const own = written.get(writtenObject(step));
  if (!own || step.precondition.resourceVersion === undefined || own.uid !== step.precondition.uid) return step;
  return { ...step, precondition: { ...step.precondition, resourceVersion: own.resourceVersion } };
}

function rememberWritten(step: WriteStep, answer: StepAnswer | undefined, written: OwnWrites): void {
  const meta = (answer?.body as { metadata?: { uid?: unknown; resourceVersion?: unknown } } | undefined)?.metadata;
  if (typeof meta?.uid === 'string' && typeof meta.resourceVersion === 'string' && meta.uid === step.precondition.uid) {
    written.set(writtenObject(step), { uid: meta.uid, resourceVersion: meta.resourceVersion });
  }
}
