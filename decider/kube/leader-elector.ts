// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: expiry is judged by our own
// clock from when we last saw the record change (never by comparing clocks with the holder), the leader
// renews every retry period and steps down when it could not renew for the renew deadline. A leader
// renews with one request, an update on the version its last write produced; only when that fails does
// it read the Lease first (client-go's leader election renews so too).
import type { Logger } from 'pino';
import type { Clock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';

export interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number | null;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number | null;
}

export interface LeaseStore {
  get(): Promise<{ spec: LeaseSpec; resourceVersion: string } | null>;
  /** The new resourceVersion; null when someone else created it first. */
  create(spec: LeaseSpec): Promise<string | null>;
  /** The new resourceVersion; null on a conflict (someone else wrote it since `resourceVersion`). */
  update(spec: LeaseSpec, resourceVersion: string): Promise<string | null>;
}

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly onStartedLeading: () => void;
  readonly onStoppedLeading: () => void;
  /** Defaults: retry 2 s, renew deadline 2/3 of the lease duration. */
  readonly retryPeriodMs?: number;
  readonly renewDeadlineMs?: number;
}

export const DEFAULT_RETRY_PERIOD_MS = 2_000;

/** metav1.MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** Our own record, renewed at `nowMs`. */
function renewal(spec: LeaseSpec, durationSeconds: number, nowMs: number): LeaseSpec {
  return { ...spec, leaseDurationSeconds: durationSeconds, renewTime: microTime(nowMs) };
}

export class LeaderElector {
  private leading = false;
  private lastRenewMs = 0;
  private observed: { key: string; atMs: number } | undefined;
  /** What our own last write of the Lease stored, while we lead: the next renewal updates it directly. */
  private own: { spec: LeaseSpec; resourceVersion: string } | undefined;
  private timer: { cancel(): void } | undefined;
  private started = false;
  private stopped = false;
  private readonly retryPeriodMs: number;
  private readonly renewDeadlineMs: number;
  private readonly log: Logger;
  private inFlight: Promise<void> | undefined;

  constructor(private readonly opts: LeaderElectorOptions) {
    this.retryPeriodMs = opts.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    this.renewDeadlineMs = opts.renewDeadlineMs ?? Math.floor((opts.leaseDurationMs * 2) / 3);
    this.log = opts.logger.child({ [LOG.component]: 'leader-elector' });
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  /** Stops campaigning; a leader releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    await this.inFlight;
    if (this.leading) {
      this.setLeading(false);
      try {
        const current = await this.opts.store.get();
        if (current && current.spec.holderIdentity === this.opts.identity) {
          await this.opts.store.update({ ...current.spec, holderIdentity: null, leaseDurationSeconds: 1, renewTime: microTime(this.opts.clock.now()) }, current.resourceVersion);
        }
      } catch (err) {
        this.log.warn({ [LOG.err]: err }, 'lease release failed');
      }
    }
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.inFlight = this.tick().finally(() => {
        this.inFlight = undefined;
        this.schedule(this.retryPeriodMs);
      });
    }, ms);
  }

  /** One attempt to acquire or renew. Exposed for tests. */
  async tick(): Promise<void> {
    let ok = false;
    try {
      ok = await this.tryAcquireOrRenew();
    } catch (err) {
      this.log.warn({ [LOG.err]: err }, 'lease attempt failed');
    }
    const now = this.opts.clock.now();
    if (ok) {
      this.lastRenewMs = now;
      if (!this.leading && !this.stopped) this.setLeading(true);
    } else if (this.leading && now - this.lastRenewMs >= this.renewDeadlineMs) {
      this.setLeading(false);
    }
  }

  private setLeading(leading: boolean): void {
    if (this.leading === leading) return;
    this.leading = leading;
    if (!leading) this.own = undefined;
    this.log.info({ [LOG.identity]: this.opts.identity }, leading ? 'became leader' : 'lost leadership');
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.opts.clock.now();
    const me = this.opts.identity;
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    if (this.leading && this.own) {
      const next = renewal(this.own.spec, durationSeconds, now);
      try {
        if (this.wrote(next, await this.opts.store.update(next, this.own.resourceVersion), now)) return true;
      } catch (err) {
        this.log.debug({ [LOG.err]: err }, 'renewal without a read failed, reading the lease');
      }
      this.own = undefined; // someone else wrote it, or the answer is unknown: read it first
    }
    const current = await this.opts.store.get();
    if (!current) {
      const spec: LeaseSpec = { holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      return this.wrote(spec, await this.opts.store.create(spec), now);
    }
    const spec = current.spec;
    const key = `${spec.holderIdentity ?? ''}|${spec.renewTime ?? ''}`;
    if (!this.observed || this.observed.key !== key) this.observed = { key, atMs: now };
    const holder = spec.holderIdentity ?? '';
    const heldByOther = holder !== '' && holder !== me;
    const leaseMs = (spec.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && now - this.observed.atMs < leaseMs) {
      if (this.leading) this.setLeading(false); // someone else took it: stop writing at once
      return false;
    }
    const next: LeaseSpec =
      holder === me
        ? renewal(spec, durationSeconds, now)
        : {
            holderIdentity: me,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
          };
    return this.wrote(next, await this.opts.store.update(next, current.resourceVersion), now);
  }

  /** Records our own successful write (`resourceVersion` null: it was refused); true when it succeeded. */
  private wrote(spec: LeaseSpec, resourceVersion: string | null, now: number): boolean {
    if (resourceVersion === null) return false;
    this.own = { spec, resourceVersion };
    this.observed = { key: `${this.opts.identity}|${spec.renewTime}`, atMs: now };
    return true;
  }
}
