// Kubernetes Events on their own budget, below the actions (docs/design.md §15), aggregated like client-go's
// recorder: occurrences wait in a queue keyed by what they are about; a repeat of the same (object, reason,
// key) bumps the count of the Event already written, at most once per interval, instead of a new Event.
// Occurrences about GameServers of one GameServerSet with one reason that wait together (a wave) go out
// as ONE Event on the set, with their count and a few of the GameServers named.
// An Event takes a write token only when it is spare: every action write known to come could still take
// one without waiting. Best effort: an occurrence that cannot be written within its budget (queue full,
// a whole window passed since the latest such occurrence, write refused) is dropped and counted, never retried.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import type { KubeApi, KubeResponse } from './kube-client.js';
import { isUidMismatch } from './kube-writer.js';
import type { EventSink, ObjectRef } from './object-ref.js';
import { RateLimiter } from './rate-limiter.js';
import { createEvent, patchEvent } from './event-requests.js';
import { DEFAULT_RETRY_POLICY, retryAfterMs } from './write-step.js';

/** A repeat later than this starts a new Event (client-go uses 10 minutes as well). */
export const EVENT_AGGREGATE_WINDOW_MS = 10 * 60_000;
/** Repeats within a window update the Event at most this often. */
export const EVENT_MIN_UPDATE_INTERVAL_MS = 30_000;
/** Events' own budget: this many Event writes per second after a burst of EVENT_BURST. */
export const EVENT_QPS = 5;
export const EVENT_BURST = 25;
/** Occurrences not written when even the latest of them is this old are dropped: by then it is no news. */
export const EVENT_MAX_WAIT_MS = EVENT_AGGREGATE_WINDOW_MS;
/** Distinct Events waiting to be written; an occurrence that would need one more is dropped. */
export const MAX_PENDING_EVENTS = 1024;
/** While actions hold every token, the queue looks again this often. */
export const EVENT_RECHECK_MS = 200;
/** GameServers an aggregated Event names in its message. */
export const NAMED_IN_MESSAGE = 3;
/** Aggregation state kept for at most this many Events (oldest dropped first). */
const MAX_TRACKED_EVENTS = 4096;

export type EventDropReason = 'queue_full' | 'expired' | 'failed' | 'not_leader';

export interface EventMetrics {
  write(resource: 'events', verb: string, code: string): void;
  /** `occurrences` recorded Events that no written Event counts. */
  eventsDropped(reason: EventDropReason, occurrences: number): void;
}

/** The action writes Events must never overtake (the write batcher). */
export interface ActionBacklog {
  /** Writes known to come: an upper bound, counting every GameServer waiting or being written. */
  readonly pendingWrites: number;
}

/** One Event object in the API server (or about to be created): what a repeat patches. */
interface Series {
  name: string | undefined;
  /** The Event object's own uid, from its creation: repeats patch only that object, never a successor. */
  uid: string | undefined;
  readonly ref: ObjectRef;
  count: number;
  readonly firstMs: number;
  lastWriteMs: number;
  /** For an Event on a set: every GameServer it has counted (for its message). */
  readonly objects: Set<string>;
}

/** Occurrences waiting to be written, under one queue key. */
interface Pending {
  readonly key: string;
  readonly type: 'Normal' | 'Warning';
  readonly reason: string;
  /** The GameServerSet the occurrences' GameServers belong to, when they may be aggregated on it. */
  readonly group: ObjectRef | undefined;
  /** Distinct (object, aggregate key) → the latest occurrence's object and key. */
  readonly objects: Map<string, { ref: ObjectRef; aggregateKey: string }>;
  count: number;
  message: string;
  readonly firstMs: number;
  lastMs: number;
}

export interface EventRecorderOptions {
  readonly api: KubeApi;
  /** The decider's write budget, shared with the actions. */
  readonly limiter: RateLimiter;
  readonly actions: ActionBacklog;
  readonly clock: Clock;
  readonly metrics: EventMetrics;
  readonly logger: Logger;
  /** reportingInstance: the decider's pod name. */
  readonly instance: string;
}

export class EventRecorder implements EventSink {
  private readonly series = new Map<string, Series>();
  /** FIFO by first occurrence (a Map iterates in insertion order). */
  private readonly pending = new Map<string, Pending>();
  /** Events' own budget, taken from only when the shared one has a spare token. */
  private readonly budget: RateLimiter;
  private enabled = false;
  private sending = false;
  private timer: TimerHandle | undefined;
  private abort = new AbortController();
  private readonly log: Logger;

  constructor(private readonly opts: EventRecorderOptions) {
    this.log = opts.logger.child({ [LOG.component]: 'events' });
    this.budget = new RateLimiter(EVENT_QPS, EVENT_BURST, opts.clock);
  }

  /** Only the leader writes Events (docs/design.md §20 One lifecycle). */
  activate(): void {
    this.enabled = true;
  }

  /** Lost leadership or shutting down: the write in flight is aborted, waiting occurrences dropped. */
  deactivate(): void {
    this.enabled = false;
    this.abort.abort();
    this.abort = new AbortController();
    this.timer?.cancel();
    this.timer = undefined;
    let dropped = 0;
    for (const p of this.pending.values()) dropped += p.count;
    if (dropped > 0) this.opts.metrics.eventsDropped('not_leader', dropped);
    this.pending.clear();
    this.series.clear();
  }

  /** Shutdown: as deactivate (Events are best effort, nothing is flushed). */
  async stop(): Promise<void> {
    this.deactivate();
  }

  /** Occurrences waiting to be written (tests, diagnostics). */
  get waiting(): number {
    let n = 0;
    for (const p of this.pending.values()) n += p.count;
    return n;
  }

  record(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string, aggregateKey = message, group?: ObjectRef): void {
    if (!this.enabled) return;
    const objectKey = seriesKeyOf(ref, reason, aggregateKey);
    const key = group ? seriesKeyOf(group, `${type}/${reason}`, '') : objectKey;
    let p = this.pending.get(key);
    if (!p) {
      if (this.pending.size >= MAX_PENDING_EVENTS) {
        this.opts.metrics.eventsDropped('queue_full', 1);
        return;
      }
      const now = this.opts.clock.now();
      p = { key, type, reason, group, objects: new Map(), count: 0, message, firstMs: now, lastMs: now };
      this.pending.set(key, p);
    }
    p.objects.delete(objectKey); // re-inserted: the latest occurrence last
    p.objects.set(objectKey, { ref, aggregateKey });
    p.count++;
    p.message = message;
    p.lastMs = this.opts.clock.now();
    this.pump();
  }

  /** Writes the first Event due, if the budgets allow; otherwise looks again when they may. */
  private pump(): void {
    if (!this.enabled || this.sending) return;
    this.timer?.cancel();
    this.timer = undefined;
    const now = this.opts.clock.now();
    let nextMs = Infinity;
    let chosen: { p: Pending; target: Target } | undefined;
    for (const p of this.pending.values()) {
      // A wave longer than the window still gets its Event: it expires only once its latest occurrence has.
      if (now - p.lastMs >= EVENT_MAX_WAIT_MS) {
        this.drop(p, 'expired');
        continue;
      }
      nextMs = Math.min(nextMs, p.lastMs + EVENT_MAX_WAIT_MS);
      const target = this.targetOf(p, now);
      const dueMs = target.series?.name !== undefined ? target.series.lastWriteMs + EVENT_MIN_UPDATE_INTERVAL_MS : now;
      if (dueMs <= now) {
        chosen = { p, target };
        break;
      }
      nextMs = Math.min(nextMs, dueMs);
    }
    if (chosen) {
      const budgetMs = this.budget.msUntilToken();
      if (budgetMs > 0) nextMs = now + budgetMs;
      // Spare only: every action write known to come could still take its token without waiting.
      else if (!this.opts.limiter.tryTake(this.opts.actions.pendingWrites)) nextMs = now + EVENT_RECHECK_MS;
      else {
        this.budget.tryTake();
        this.pending.delete(chosen.p.key);
        this.sending = true;
        void this.write(chosen.p, chosen.target, this.abort.signal).finally(() => {
          this.sending = false;
          this.pump();
        });
        return;
      }
    }
    if (nextMs !== Infinity) this.timer = this.opts.clock.setTimeout(() => this.pump(), Math.max(0, nextMs - now));
  }

  private drop(p: Pending, reason: EventDropReason): void {
    this.pending.delete(p.key);
    this.opts.metrics.eventsDropped(reason, p.count);
  }

  /**
   * The Event these occurrences go to: the object's own when they are about one object (and key), the
   * set's when several of its GameServers wait together.
   */
  private targetOf(p: Pending, now: number): Target {
    const one = p.objects.size === 1 ? p.objects.values().next().value : undefined;
    const ref = one ? one.ref : p.group!;
    const key = one ? seriesKeyOf(one.ref, p.reason, one.aggregateKey) : p.key;
    let s = this.series.get(key);
    if (s && (now - s.firstMs > EVENT_AGGREGATE_WINDOW_MS || s.ref.uid !== ref.uid)) {
      this.series.delete(key);
      s = undefined;
    }
    return { key, ref, series: s, aggregated: !one };
  }

  private async write(p: Pending, target: Target, signal: AbortSignal): Promise<void> {
    const now = this.opts.clock.now();
    let s = target.series;
    if (!s) {
      if (this.series.size >= MAX_TRACKED_EVENTS) this.series.delete(this.series.keys().next().value as string);
      s = { name: undefined, uid: undefined, ref: target.ref, count: 0, firstMs: now, lastWriteMs: now, objects: new Set() };
      this.series.set(target.key, s);
    }
    const count = s.count + p.count;
    let message = p.message;
    if (target.aggregated) {
      for (const o of p.objects.values()) s.objects.add(o.ref.name);
      message = aggregatedMessage(s.objects, count, p.message);
    }
    const ref = target.ref;
    s.lastWriteMs = now;
    try {
      if (s.name === undefined) {
        const created = await createEvent(this.opts.api, { ref, reason: p.reason, message, type: p.type, count, firstMs: p.firstMs, nowMs: now, instance: this.opts.instance }, signal);
        this.opts.metrics.write('events', 'create', String(created.status));
        if (created.status >= 300) throw new Error(`HTTP ${created.status}`, { cause: created });
        s.name = created.name;
        s.uid = created.uid;
      } else {
        const res = await patchEvent(this.opts.api, { namespace: ref.namespace, name: s.name, uid: s.uid, count, message, nowMs: now }, signal);
        this.opts.metrics.write('events', 'patch', String(res.status));
        if (res.status === 404 || isUidMismatch(res.status, res.body)) {
          // Our Event is gone (Events expire) or was replaced: the next occurrence starts a new one.
          this.series.delete(target.key);
        }
        if (res.status >= 300) throw new Error(`HTTP ${res.status}`, { cause: res });
      }
      s.count = count;
    } catch (err) {
      // A 429 pushes back on the whole client, as for an action write (docs/design.md §15).
      const refused = (err as { cause?: KubeResponse }).cause;
      if (refused?.status === 429) this.opts.limiter.hold(retryAfterMs(refused.retryAfterSeconds) ?? DEFAULT_RETRY_POLICY.initialBackoffMs);
      if (signal.aborted) return;
      this.opts.metrics.eventsDropped('failed', p.count);
      this.log.warn({ [LOG.err]: err, [LOG.reason]: p.reason, [LOG.namespace]: ref.namespace ?? 'default', [ref.kind === 'GameServerSet' ? LOG.gameServerSet : LOG.gameServer]: ref.name }, 'event not written');
    }
  }
}

interface Target {
  readonly key: string;
  readonly ref: ObjectRef;
  readonly series: Series | undefined;
  readonly aggregated: boolean;
}

function seriesKeyOf(ref: ObjectRef, reason: string, aggregateKey: string): string {
  return `${ref.namespace ?? ''}/${ref.kind}/${ref.name}/${reason}/${aggregateKey}`;
}

/** "1000 times on 1000 GameServers (gs-0, gs-1, gs-2 and 997 more); the latest: …". */
function aggregatedMessage(objects: ReadonlySet<string>, count: number, latest: string): string {
  const named: string[] = [];
  for (const name of objects) {
    if (named.length === NAMED_IN_MESSAGE) break;
    named.push(name);
  }
  const more = objects.size - named.length;
  return `${count} times on ${objects.size} GameServer${objects.size === 1 ? '' : 's'} (${named.join(', ')}${more > 0 ? ` and ${more} more` : ''}); the latest: ${latest}`;
}
