// Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: expiry is judged by our own
// clock from when we last saw the record change (never by comparing clocks with the holder), the leader
// renews every retry period and steps down when it could not renew for the renew deadline.
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
  /** false when someone else created it first. */
  create(spec: LeaseSpec): Promise<boolean>;
  /** false on a conflict (someone else wrote it since `resourceVersion`). */
  update(spec: LeaseSpec, resourceVersion: string): Promise<boolean>;
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

export class LeaderElector {
  private leading = false;
  private lastRenewMs = 0;
  private observed: { key: string; atMs: number } | undefined;
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
    this.log.info({ [LOG.identity]: this.opts.identity }, leading ? 'became leader' : 'lost leadership');
    if (leading) this.opts.onStartedLeading();
    else this.opts.onStoppedLeading();
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.opts.clock.now();
    const me = this.opts.identity;
    const durationSeconds = Math.ceil(this.opts.leaseDurationMs / 1000);
    const current = await this.opts.store.get();
    if (!current) {
      return this.opts.store.create({ holderIdentity: me, leaseDurationSeconds: durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 });
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
        ? { ...spec, leaseDurationSeconds: durationSeconds, renewTime: microTime(now) }
        : {
            holderIdentity: me,
            leaseDurationSeconds: durationSeconds,
            acquireTime: microTime(now),
            renewTime: microTime(now),
            leaseTransitions: (spec.leaseTransitions ?? 0) + 1,
          };
    const written = await this.opts.store.update(next, current.resourceVersion);
    if (written) this.observed = { key: `${me}|${next.renewTime}`, atMs: now };
    return written;
  }
}
