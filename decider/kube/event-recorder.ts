// Kubernetes Events, aggregated like client-go's recorder: a repeat of the same (object, reason, key)
// bumps the count of the Event already written, at most once per interval, instead of a new Event.
// Best effort: an Event that cannot be written is logged, never retried (it must not hold up patches).
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import type { KubeApi } from './kube-client.js';
import { isUidMismatch } from './kube-writer.js';
import type { EventSink, ObjectRef } from './object-ref.js';
import type { RateLimiter } from './rate-limiter.js';

/** A repeat later than this starts a new Event (client-go uses 10 minutes as well). */
export const EVENT_AGGREGATE_WINDOW_MS = 10 * 60_000;
/** Repeats within a window update the Event at most this often. */
export const EVENT_MIN_UPDATE_INTERVAL_MS = 30_000;
/** Aggregation state kept for at most this many keys (oldest dropped first). */
const MAX_TRACKED_EVENTS = 4096;
const EVENT_COMPONENT = 'okg-sq-decider';

export interface EventMetrics {
  write(resource: 'events', verb: string, code: string): void;
}

interface Tracked {
  name: string | undefined;
  /** The Event object's own uid, from its creation: repeats patch only that object, never a successor. */
  uid: string | undefined;
  ref: ObjectRef;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  count: number;
  written: number;
  firstMs: number;
  lastWriteMs: number;
  timer: { cancel(): void } | undefined;
}

export interface EventRecorderOptions {
  readonly api: KubeApi;
  readonly limiter: RateLimiter;
  readonly clock: Clock;
  readonly metrics: EventMetrics;
  readonly logger: Logger;
  /** reportingInstance: the decider's pod name. */
  readonly instance: string;
}

export class EventRecorder implements EventSink {
  private readonly tracked = new Map<string, Tracked>();
  private enabled = false;
  private readonly log: Logger;

  constructor(private readonly opts: EventRecorderOptions) {
    this.log = opts.logger.child({ [LOG.component]: 'events' });
  }

  /** Only the leader writes Events. */
  setEnabled(enabled: boolean): void {
    this.enabled = enabled;
    if (!enabled) {
      for (const t of this.tracked.values()) t.timer?.cancel();
      this.tracked.clear();
    }
  }

  record(ref: ObjectRef, type: 'Normal' | 'Warning', reason: string, message: string, aggregateKey = message): void {
    if (!this.enabled) return;
    const now = this.opts.clock.now();
    const key = `${ref.namespace ?? ''}/${ref.kind}/${ref.name}/${reason}/${aggregateKey}`;
    const t = this.tracked.get(key);
    if (!t || now - t.firstMs > EVENT_AGGREGATE_WINDOW_MS || t.ref.uid !== ref.uid) {
      t?.timer?.cancel();
      this.tracked.delete(key);
      if (this.tracked.size >= MAX_TRACKED_EVENTS) {
        const oldest = this.tracked.keys().next().value as string;
        this.tracked.get(oldest)?.timer?.cancel();
        this.tracked.delete(oldest);
      }
      const fresh: Tracked = { name: undefined, uid: undefined, ref, type, reason, message, count: 1, written: 0, firstMs: now, lastWriteMs: now, timer: undefined };
      this.tracked.set(key, fresh);
      void this.write(fresh);
      return;
    }
    t.count++;
    t.message = message;
    if (t.timer) return;
    const dueIn = Math.max(0, t.lastWriteMs + EVENT_MIN_UPDATE_INTERVAL_MS - now);
    t.timer = this.opts.clock.setTimeout(() => {
      t.timer = undefined;
      if (this.tracked.get(key) === t) void this.write(t);
    }, dueIn);
  }

  private async write(t: Tracked): Promise<void> {
    if (!this.enabled) return;
    const namespace = t.ref.namespace ?? 'default';
    const nowIso = new Date(this.opts.clock.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    try {
      await this.opts.limiter.acquire();
      t.lastWriteMs = this.opts.clock.now();
      const count = t.count;
      if (t.name === undefined) {
        const name = `${t.ref.name}.${randomBytes(8).toString('hex')}`;
        t.name = name;
        const res = await this.opts.api.request('POST', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`, {
          body: {
            apiVersion: 'v1',
            kind: 'Event',
            metadata: { name, namespace },
            involvedObject: { kind: t.ref.kind, apiVersion: t.ref.apiVersion, namespace: t.ref.namespace, name: t.ref.name, uid: t.ref.uid },
            reason: t.reason,
            message: t.message,
            type: t.type,
            count,
            firstTimestamp: nowIso,
            lastTimestamp: nowIso,
            source: { component: EVENT_COMPONENT },
            reportingComponent: EVENT_COMPONENT,
            reportingInstance: this.opts.instance,
          },
        });
        this.opts.metrics.write('events', 'create', String(res.status));
        if (res.status >= 300) throw new Error(`HTTP ${res.status}`);
        t.uid = (res.body as { metadata?: { uid?: string } } | undefined)?.metadata?.uid;
      } else {
        const res = await this.opts.api.request('PATCH', `/api/v1/namespaces/${encodeURIComponent(namespace)}/events/${encodeURIComponent(t.name)}`, {
          body: { ...(t.uid ? { metadata: { uid: t.uid } } : {}), count, message: t.message, lastTimestamp: nowIso },
          contentType: 'application/merge-patch+json',
        });
        this.opts.metrics.write('events', 'patch', String(res.status));
        if (res.status === 404 || isUidMismatch(res.status, res.body)) {
          // Our Event is gone (Events expire) or was replaced: the next repeat starts a new one.
          t.name = undefined;
          t.uid = undefined;
        }
        if (res.status >= 300) throw new Error(`HTTP ${res.status}`);
      }
      t.written = count;
    } catch (err) {
      this.log.warn({ [LOG.err]: err, [LOG.reason]: t.reason, [LOG.namespace]: namespace, [t.ref.kind === 'GameServerSet' ? LOG.gameServerSet : LOG.gameServer]: t.ref.name }, 'event not written');
    }
  }
}
