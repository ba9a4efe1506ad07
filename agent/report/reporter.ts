// The agent's one stream to the decider (okgsq.v1 AgentService.Connect): Hello first with the projected
// ServiceAccount token as call metadata (re-read on every connect: kubelet rotates it), then the plan in
// (full + deltas → the probe engine) and outcomes out (latest per key, coalesced for a few ms, bounded
// batches), counters on a tick, a full resync after every (re)connect's plan and periodically.
// Disconnected, the engine keeps probing and only the latest outcome per key is kept.
// Every decider replica is Ready, so the Service may send us to a standby, which refuses with UNAVAILABLE
// and `okgsq-leader: false`: after any UNAVAILABLE the next attempt uses a NEW channel with a private
// subchannel pool (grpc-js would otherwise reuse the same TCP connection, i.e. the same backend, forever),
// so kube-proxy picks a backend again; the first few not-leader refusals retry after a short jitter.
import type { Logger } from 'pino';
import { Metadata, status as GrpcStatus, type ChannelCredentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { LEADER_IDENTITY_TRAILER, LEADER_TRAILER } from '../../common/agent-protocol.js';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { probeKeyString, type Outcome, type ProbeKey } from '../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../common/probe/types.js';
import { AgentServiceClient, type AgentMessage, type DeciderMessage, type PlanUpdate } from '../../proto/gen/okgsq/v1/agent.js';
import { Backoff } from '../../common/backoff.js';
import { countersToWire, outcomeToWire } from '../../common/wire/outcomes.js';
import { assignmentToTarget, refToKey } from '../../common/wire/plan.js';

/** The part of ProbeEngine the reporter drives. */
export interface ReporterEngine {
  upsert(targets: ProbeTarget[]): void;
  remove(keys: ProbeKey[]): void;
  published(): Outcome[];
  keys(): ProbeKey[];
  takeCounters(): QualityCounters[];
  readonly size: number;
}

export const REPORTER_DEFAULTS = Object.freeze({
  /** Outcomes published within this window go in one message. */
  batchWindowMs: 10,
  maxBatchSize: 500,
  countersIntervalMs: 5_000,
  resyncIntervalMs: 60_000,
  /** A full plan may arrive in several messages back to back; keys it lacks are dropped after this quiet time. */
  planSettleMs: 200,
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  /** How long stop() waits for the decider to close the stream after our half-close. */
  closeGraceMs: 2_000,
  /** Not-leader refusals in a row retried after a short jitter (a new connection likely reaches the leader). */
  notLeaderFastRetries: 5,
  notLeaderDelayMinMs: 100,
  notLeaderDelayMaxMs: 500,
});

/** See #newClient: how long a closed channel's subchannel waits before its stray reconnect. */
const CLOSED_CHANNEL_RECONNECT_MS = 10 * 60_000;


/** True when the decider refused the stream because it is not the leader. */
export function isNotLeader(err: ServiceError): boolean {
  return err.code === GrpcStatus.UNAVAILABLE && err.metadata?.get(LEADER_TRAILER)[0] === 'false';
}

export interface ReporterOptions {
  readonly nodeName: string;
  readonly address: string;
  readonly credentials: ChannelCredentials;
  readonly channelOptions?: Record<string, string | number>;
  /** The ServiceAccount token, read on each connect. */
  readonly readToken: () => Promise<string>;
  /** Runtime name and version for Hello (CRI Version). */
  readonly runtimeInfo: () => Promise<{ name: string; version: string }>;
  readonly agentVersion: string;
  readonly engine: ReporterEngine;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly batchWindowMs?: number;
  readonly maxBatchSize?: number;
  readonly countersIntervalMs?: number;
  readonly resyncIntervalMs?: number;
  readonly planSettleMs?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  readonly onConnectedChange?: (connected: boolean) => void;
}

type Stream = ClientDuplexStream<AgentMessage, DeciderMessage>;

/** Why a stream ended, for the log: auth failures get a message an operator can act on. */
export function describeStreamError(err: ServiceError): { level: 'error' | 'warn' | 'info'; message: string } {
  if (isNotLeader(err)) return { level: 'info', message: 'decider replica is a standby (not the leader); reconnecting on a new connection' };
  switch (err.code) {
    case GrpcStatus.UNAUTHENTICATED:
      return { level: 'error', message: 'decider refused the agent token (UNAUTHENTICATED): check the projected token at OKGSQ_TOKEN_FILE and its audience' };
    case GrpcStatus.PERMISSION_DENIED:
      return { level: 'error', message: 'decider refused this agent (PERMISSION_DENIED): the token must belong to the agent ServiceAccount on this node (OKGSQ_NODE_NAME)' };
    default:
      return { level: 'warn', message: 'decider stream ended' };
  }
}

export class AgentReporter {
  readonly #o: ReporterOptions;
  readonly #clock: Clock;
  #client: AgentServiceClient;
  /** The next attempt must open a new channel (after UNAVAILABLE). */
  #renewChannel = false;
  #notLeaderStreak = 0;
  readonly #backoff: Backoff;
  readonly #logger: Logger;
  readonly #pending = new Map<string, Outcome>();
  #stream: Stream | undefined;
  #connected = false;
  #planSettled = false;
  #generation = 0;
  #resyncIntervalMs: number;
  #fullPlanKeys: Set<string> | undefined;
  #settleTimer: TimerHandle | undefined;
  #flushTimer: TimerHandle | undefined;
  #countersTimer: TimerHandle | undefined;
  #resyncTimer: TimerHandle | undefined;
  #retryTimer: TimerHandle | undefined;
  #wakeRetry: (() => void) | undefined;
  #waitingDrain = false;
  #stopped = false;
  #loop: Promise<void> | undefined;

  constructor(options: ReporterOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#resyncIntervalMs = options.resyncIntervalMs ?? REPORTER_DEFAULTS.resyncIntervalMs;
    this.#backoff = new Backoff({
      initialMs: options.backoffInitialMs ?? REPORTER_DEFAULTS.backoffInitialMs,
      maxMs: options.backoffMaxMs ?? REPORTER_DEFAULTS.backoffMaxMs,
      ...(options.random ? { random: options.random } : {}),
    });
    this.#client = this.#newClient();
  }

  #newClient(): AgentServiceClient {
    const options = this.#o;
    return new AgentServiceClient(options.address, options.credentials, {
      // A decider that vanished without closing the connection is noticed within ~40 s.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      'grpc.max_receive_message_length': 16 * 1024 * 1024,
      // The reporter's Backoff paces reconnects, each on a new channel after a failure, so grpc-js's own
      // reconnect backoff (1 s × 1.6 per failed connect, up to 120 s) never delays an attempt. It matters
      // for the channel we just closed: grpc-js keeps a subchannel that failed to connect retrying after
      // its backoff even once its channel is closed, and then holds that connection open unused. A long
      // backoff keeps that stray connection from taking the Service's next backend right when our new
      // channel connects; the decider closes it when idle (agent-server.ts MAX_CONNECTION_IDLE_MS).
      'grpc.initial_reconnect_backoff_ms': CLOSED_CHANNEL_RECONNECT_MS,
      'grpc.max_reconnect_backoff_ms': CLOSED_CHANNEL_RECONNECT_MS,
      // Without it, a new channel with the same target and options shares the global pool's subchannel,
      // that is the same TCP connection to the same decider replica.
      'grpc.use_local_subchannel_pool': 1,
      ...options.channelOptions,
    });
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Outcomes waiting to be sent (latest per key). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** The engine's onOutcome: keeps the latest per key and sends it soon (or after reconnecting). */
  offer(outcome: Outcome): void {
    this.#pending.set(probeKeyString(outcome), outcome);
    this.#scheduleFlush();
  }

  start(): void {
    if (this.#loop) return;
    this.#loop = this.#run();
    this.#countersTimer = this.#clock.setTimeout(() => this.#countersTick(), this.#o.countersIntervalMs ?? REPORTER_DEFAULTS.countersIntervalMs);
  }

  /** Half-closes the stream, waits briefly for the decider to end it, then cancels. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return this.#loop;
    this.#stopped = true;
    for (const t of [this.#settleTimer, this.#flushTimer, this.#countersTimer, this.#resyncTimer, this.#retryTimer]) t?.cancel();
    this.#wakeRetry?.();
    const stream = this.#stream;
    if (stream) {
      this.#flush();
      stream.end();
      const forced = this.#clock.setTimeout(() => stream.cancel(), REPORTER_DEFAULTS.closeGraceMs);
      await this.#loop;
      forced.cancel();
    } else {
      await this.#loop;
    }
    this.#client.close();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let gotPlan = false;
      let notLeader = false;
      try {
        if (this.#renewChannel) {
          this.#renewChannel = false;
          this.#client = this.#newClient();
        }
        gotPlan = await this.#session(() => {
          gotPlan = true;
        });
      } catch (err) {
        const e = err as ServiceError;
        notLeader = isNotLeader(e);
        // Any UNAVAILABLE (a standby, a decider stepping down or gone): pick a backend afresh. The old
        // channel is closed now, not at the next attempt: left open during the retry delay, its subchannel
        // reconnects in the background and takes the Service's next backend, so the new channel would
        // always land on the other one (with two replicas: the dead leader, every time).
        if (e.code === GrpcStatus.UNAVAILABLE) {
          this.#client.close();
          this.#renewChannel = true;
        }
        const { level, message } = describeStreamError(e);
        const leader = e.metadata?.get(LEADER_IDENTITY_TRAILER)[0];
        if (!this.#stopped) {
          this.#logger[level]({ [LOG.err]: e, code: GrpcStatus[e.code] ?? e.code, [LOG.attempt]: this.#backoff.attempt, ...(leader ? { leader: String(leader) } : {}) }, message);
        }
      } finally {
        this.#setConnected(false);
      }
      if (this.#stopped) return;
      if (gotPlan) {
        this.#backoff.reset();
        this.#notLeaderStreak = 0;
      }
      const delay = this.#retryDelay(notLeader);
      this.#logger.info({ [LOG.delayMs]: delay, [LOG.attempt]: this.#backoff.attempt }, 'reconnecting to the decider');
      await new Promise<void>((resolve) => {
        this.#wakeRetry = resolve;
        this.#retryTimer = this.#clock.setTimeout(resolve, delay);
      });
      this.#wakeRetry = undefined;
    }
  }

  /** A short jitter for the first not-leader refusals in a row (the next connection may well reach the
   * leader), then the normal capped exponential backoff, so a cluster with no leader is not hammered.
   * Within those first refusals the backoff also restarts: during a failover the Service alternates
   * between the refusing standby and the dead leader, whose connect failures would otherwise have
   * grown the backoff to seconds by the time the standby takes the Lease. */
  #retryDelay(notLeader: boolean): number {
    if (notLeader && ++this.#notLeaderStreak <= REPORTER_DEFAULTS.notLeaderFastRetries) {
      this.#backoff.reset();
      const { notLeaderDelayMinMs: min, notLeaderDelayMaxMs: max } = REPORTER_DEFAULTS;
      return Math.round(min + (this.#o.random ?? Math.random)() * (max - min));
    }
    return this.#backoff.next();
  }

  /** One stream, from Hello to its end. Resolves true when it carried a plan; rejects on a non-OK end. */
  async #session(onPlan: () => void): Promise<boolean> {
    const token = (await this.#o.readToken()).trim();
    let runtime = { name: '', version: '' };
    try {
      runtime = await this.#o.runtimeInfo();
    } catch (err) {
      this.#logger.warn({ [LOG.err]: err }, 'runtime version unknown');
    }
    if (this.#stopped) return false;
    const metadata = new Metadata();
    if (token) metadata.set('authorization', `Bearer ${token}`);
    const stream = this.#client.connect(metadata);
    this.#stream = stream;
    this.#planSettled = false;
    this.#fullPlanKeys = undefined;
    let gotPlan = false;
    return new Promise<boolean>((resolve, reject) => {
      stream.on('data', (msg: DeciderMessage) => {
        if (msg.body?.$case !== 'plan') return;
        if (!gotPlan) {
          gotPlan = true;
          onPlan();
          this.#setConnected(true);
        }
        this.#applyPlan(msg.body.value);
      });
      stream.on('drain', () => {
        this.#waitingDrain = false;
        this.#flush();
      });
      stream.on('error', (err: ServiceError) => {
        this.#stream = undefined;
        if (err.code === GrpcStatus.CANCELLED && this.#stopped) resolve(gotPlan);
        else reject(err);
      });
      stream.on('status', (s: { code: number }) => {
        this.#stream = undefined;
        if (s.code === GrpcStatus.OK) resolve(gotPlan);
      });
      stream.write({ body: { $case: 'hello', value: { nodeName: this.#o.nodeName, agentVersion: this.#o.agentVersion, runtimeName: runtime.name, runtimeVersion: runtime.version } } });
    });
  }

  #setConnected(connected: boolean): void {
    if (this.#connected === connected) return;
    this.#connected = connected;
    if (!connected) {
      this.#stream = undefined;
      this.#planSettled = false;
      this.#waitingDrain = false;
      this.#settleTimer?.cancel();
      this.#resyncTimer?.cancel();
    }
    this.#logger.info({ connected, probes: this.#o.engine.size }, connected ? 'connected to the decider' : 'disconnected from the decider');
    this.#o.onConnectedChange?.(connected);
  }

  #applyPlan(update: PlanUpdate): void {
    this.#generation = update.generation;
    if (update.resyncIntervalSeconds > 0) this.#resyncIntervalMs = update.resyncIntervalSeconds * 1000;
    const targets: ProbeTarget[] = [];
    for (const a of update.upsert) {
      const t = assignmentToTarget(a);
      if (t) targets.push(t);
      else this.#logger.warn({ [LOG.podUid]: a.podUid, [LOG.quality]: a.quality }, 'plan assignment without a usable handler; skipped');
    }
    const removals = update.remove.map(refToKey);
    if (update.full) this.#fullPlanKeys = new Set();
    if (this.#fullPlanKeys) {
      for (const t of targets) this.#fullPlanKeys.add(probeKeyString(t.key));
      for (const r of removals) this.#fullPlanKeys.delete(probeKeyString(r));
    }
    this.#o.engine.upsert(targets);
    this.#o.engine.remove(removals);
    for (const r of removals) this.#pending.delete(probeKeyString(r));
    if (this.#fullPlanKeys) {
      // Keys the full plan lacks are dropped once its messages stop coming; until then the engine keeps
      // their state, so a reconnect never loses an outcome the new plan still has.
      this.#settleTimer?.cancel();
      this.#settleTimer = this.#clock.setTimeout(() => this.#settlePlan(), this.#o.planSettleMs ?? REPORTER_DEFAULTS.planSettleMs);
    }
    this.#logger.debug({ [LOG.generation]: update.generation, full: update.full, upserts: targets.length, removals: removals.length }, 'plan applied');
  }

  #settlePlan(): void {
    const keep = this.#fullPlanKeys ?? new Set<string>();
    this.#fullPlanKeys = undefined;
    const gone = this.#o.engine.keys().filter((k) => !keep.has(probeKeyString(k)));
    this.#o.engine.remove(gone);
    for (const k of gone) this.#pending.delete(probeKeyString(k));
    this.#planSettled = true;
    this.#resync();
  }

  #resync(): void {
    this.#resyncTimer?.cancel();
    const stream = this.#stream;
    if (!stream || !this.#connected || this.#stopped) return;
    const all = this.#o.engine.published();
    this.#pending.clear();
    const max = this.#o.maxBatchSize ?? REPORTER_DEFAULTS.maxBatchSize;
    let i = 0;
    do {
      const chunk = all.slice(i, i + max);
      i += chunk.length;
      stream.write({ body: { $case: 'outcomes', value: { outcomes: chunk.map(outcomeToWire), resync: true, counters: [], planGeneration: this.#generation } } });
    } while (i < all.length);
    this.#logger.debug({ outcomes: all.length }, 'resync sent');
    this.#resyncTimer = this.#clock.setTimeout(() => this.#resync(), this.#resyncIntervalMs);
  }

  #scheduleFlush(): void {
    if (this.#flushTimer || !this.#connected || !this.#planSettled) return;
    this.#flushTimer = this.#clock.setTimeout(() => {
      this.#flushTimer = undefined;
      this.#flush();
    }, this.#o.batchWindowMs ?? REPORTER_DEFAULTS.batchWindowMs);
  }

  #flush(): void {
    const stream = this.#stream;
    if (!stream || !this.#connected || !this.#planSettled || this.#waitingDrain) return;
    const max = this.#o.maxBatchSize ?? REPORTER_DEFAULTS.maxBatchSize;
    while (this.#pending.size > 0) {
      const batch: Outcome[] = [];
      for (const [key, o] of this.#pending) {
        batch.push(o);
        this.#pending.delete(key);
        if (batch.length >= max) break;
      }
      const ok = stream.write({ body: { $case: 'outcomes', value: { outcomes: batch.map(outcomeToWire), resync: false, counters: [], planGeneration: this.#generation } } });
      if (!ok) {
        // Flow control: the rest waits for 'drain' (and stays latest-per-key meanwhile).
        this.#waitingDrain = true;
        return;
      }
    }
  }

  #countersTick(): void {
    if (this.#stopped) return;
    const stream = this.#stream;
    // Disconnected: the engine keeps counting; everything goes with the next tick after reconnecting.
    if (stream && this.#connected) {
      const counters = this.#o.engine.takeCounters();
      if (counters.length > 0) {
        stream.write({ body: { $case: 'outcomes', value: { outcomes: [], resync: false, counters: counters.map(countersToWire), planGeneration: this.#generation } } });
      }
    }
    this.#countersTimer = this.#clock.setTimeout(() => this.#countersTick(), this.#o.countersIntervalMs ?? REPORTER_DEFAULTS.countersIntervalMs);
  }
}
