// One resource's list+watch cache (an informer), restarted with capped backoff on any error, since
// client-node's ListWatch stops for good on some errors and keeps whole objects. Objects are trimmed
// to the fields the decider reads before they are stored.
import type { Logger } from 'pino';
import type { KubeApi } from './kube-client.js';
import type { Clock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { Backoff } from '../../common/backoff.js';
import { sleep } from '../../common/sleep.js';
import { objectKey, type ObjectKey } from './object-key.js';

export interface KubeObject {
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly resourceVersion?: string; readonly uid?: string };
}

export interface ReflectorHandlers<T> {
  onUpsert?(obj: T, old: T | undefined): void;
  onDelete?(obj: T): void;
}

/** The read side of a reflector, what the planner and the pipeline depend on (tests fake it). */
export interface CacheView<T> {
  get(namespace: string, name: string): T | undefined;
  list(): Iterable<T>;
  addHandlers(handlers: ReflectorHandlers<T>): void;
}

export interface ReflectorOptions<T extends KubeObject> {
  /** e.g. 'pods' — used in logs and metrics. */
  readonly resource: string;
  /** Collection paths, one per watched namespace (or one cluster-wide path). */
  readonly paths: readonly string[];
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly trim: (raw: any) => T;
  readonly api: KubeApi;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onSynced?: (synced: boolean) => void;
}

const LIST_PAGE_SIZE = 500;
/** The server ends each watch after about this long; we then resume from the last resourceVersion. */
const WATCH_TIMEOUT_SECONDS = 300;
/** A watch silent this much longer than the server's own timeout is presumed dead (half-open TCP). */
const WATCH_SILENCE_GRACE_MS = 60_000;
const BACKOFF_INITIAL_MS = 500;
const BACKOFF_MAX_MS = 30_000;

function keyOf(obj: KubeObject): ObjectKey {
  return objectKey(obj.metadata.namespace ?? '', obj.metadata.name);
}

/** True when resourceVersion `a` is newer than `b` (etcd's are integers; otherwise "different" counts as newer). */
export function isNewer(a: string | undefined, b: string | undefined): boolean {
  if (!b) return true;
  if (!a) return false;
  if (/^[0-9]+$/.test(a) && /^[0-9]+$/.test(b)) return BigInt(a) > BigInt(b);
  return a !== b;
}

export class Reflector<T extends KubeObject> implements CacheView<T> {
  private readonly store = new Map<ObjectKey, T>();
  private readonly handlers: ReflectorHandlers<T>[] = [];
  private readonly abort = new AbortController();
  private syncedOnce = false;
  private running: Promise<void> | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: ReflectorOptions<T>) {
    this.log = opts.logger.child({ [LOG.component]: `reflector/${opts.resource}` });
  }

  addHandlers(handlers: ReflectorHandlers<T>): void {
    this.handlers.push(handlers);
  }

  get synced(): boolean {
    return this.syncedOnce;
  }

  get(namespace: string, name: string): T | undefined {
    return this.store.get(objectKey(namespace, name));
  }

  list(): IterableIterator<T> {
    return this.store.values();
  }

  get size(): number {
    return this.store.size;
  }

  /** Takes an object we just wrote (the API's answer) so the cache does not lag behind our own writes. */
  observe(raw: unknown): void {
    if (!raw || typeof raw !== 'object' || !('metadata' in raw)) return;
    this.apply('MODIFIED', this.opts.trim(raw));
  }

  /** Drops an object a re-read found gone (the watch's DELETED may come later, or not at all after a relist). */
  forget(namespace: string, name: string): void {
    const obj = this.store.get(objectKey(namespace, name));
    if (obj) this.apply('DELETED', obj);
  }

  start(): void {
    this.running ??= this.opts.paths.length === 0 ? Promise.resolve() : Promise.all(this.opts.paths.map((p) => this.loop(p))).then(() => undefined);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
  }

  private readonly pathSynced = new Set<string>();

  private async loop(path: string): Promise<void> {
    const backoff = new Backoff({ initialMs: BACKOFF_INITIAL_MS, maxMs: BACKOFF_MAX_MS });
    let resourceVersion = '';
    while (!this.abort.signal.aborted) {
      try {
        if (!resourceVersion) {
          resourceVersion = await this.relist(path);
          if (!this.pathSynced.has(path)) {
            this.pathSynced.add(path);
            if (this.pathSynced.size === this.opts.paths.length && !this.syncedOnce) {
              this.syncedOnce = true;
              this.log.info({ [LOG.count]: this.store.size }, 'synced');
              this.opts.onSynced?.(true);
            }
          }
        }
        let gone = false;
        const query = new URLSearchParams({
          watch: 'true',
          resourceVersion,
          allowWatchBookmarks: 'true',
          timeoutSeconds: String(WATCH_TIMEOUT_SECONDS),
        });
        this.select(query);
        const watchdog = new AbortController();
        const silenceLimitMs = WATCH_TIMEOUT_SECONDS * 1000 + WATCH_SILENCE_GRACE_MS;
        let timer = this.opts.clock.setTimeout(() => watchdog.abort(), silenceLimitMs);
        await this.opts.api.watch(`${path}?${query}`, (event) => {
          timer.cancel();
          timer = this.opts.clock.setTimeout(() => watchdog.abort(), silenceLimitMs);
          if (event.type === 'ERROR') {
            // 410 Gone: our resourceVersion is too old; anything else also forces a fresh list.
            gone = true;
            return;
          }
          const rv = event.object?.metadata?.resourceVersion as string | undefined;
          if (rv) resourceVersion = rv;
          if (event.type === 'BOOKMARK') return;
          this.apply(event.type, this.opts.trim(event.object));
        }, AbortSignal.any([this.abort.signal, watchdog.signal])).finally(() => timer.cancel());
        if (watchdog.signal.aborted) this.log.warn({}, 'watch silent too long, restarting it');
        if (gone) resourceVersion = '';
        backoff.reset();
      } catch (err) {
        if (this.abort.signal.aborted) break;
        resourceVersion = '';
        const delayMs = backoff.next();
        this.log.warn({ [LOG.err]: err, [LOG.delayMs]: delayMs }, 'list/watch failed, restarting');
        await sleep(this.opts.clock, delayMs, this.abort.signal);
      }
    }
  }

  private select(query: URLSearchParams): void {
    if (this.opts.labelSelector) query.set('labelSelector', this.opts.labelSelector);
    if (this.opts.fieldSelector) query.set('fieldSelector', this.opts.fieldSelector);
  }

  /** Lists `path` fully and reconciles the store with it; returns the list's resourceVersion. */
  private async relist(path: string): Promise<string> {
    const seen = new Set<string>();
    let continueToken = '';
    let resourceVersion = '';
    do {
      const query = new URLSearchParams({ limit: String(LIST_PAGE_SIZE) });
      if (continueToken) query.set('continue', continueToken);
      this.select(query);
      const res = await this.opts.api.request('GET', `${path}?${query}`, { signal: this.abort.signal });
      if (res.status !== 200) throw new Error(`list ${path}: HTTP ${res.status}`);
      const list = res.body as { metadata?: { resourceVersion?: string; continue?: string }; items?: unknown[] };
      for (const raw of list.items ?? []) {
        const obj = this.opts.trim(raw);
        seen.add(keyOf(obj));
        this.apply('ADDED', obj);
      }
      resourceVersion = list.metadata?.resourceVersion ?? '';
      continueToken = list.metadata?.continue ?? '';
    } while (continueToken);
    const prefix = namespaceOfPath(path);
    for (const [key, obj] of this.store) {
      if (prefix !== undefined && !key.startsWith(`${prefix}/`)) continue;
      if (!seen.has(key)) this.apply('DELETED', obj);
    }
    return resourceVersion;
  }

  private apply(type: string, obj: T): void {
    const key = keyOf(obj);
    const old = this.store.get(key);
    if (type === 'DELETED') {
      if (!old) return;
      this.store.delete(key);
      for (const h of this.handlers) h.onDelete?.(old);
      return;
    }
    if (old && old.metadata.resourceVersion === obj.metadata.resourceVersion) return;
    if (old && old.metadata.uid === obj.metadata.uid && !isNewer(obj.metadata.resourceVersion, old.metadata.resourceVersion)) return;
    this.store.set(key, obj);
    for (const h of this.handlers) h.onUpsert?.(obj, old);
  }
}

/** The namespace a namespaced collection path is limited to, or undefined for a cluster-wide one. */
function namespaceOfPath(path: string): string | undefined {
  const m = /\/namespaces\/([^/]+)\//.exec(path);
  return m?.[1];
}
