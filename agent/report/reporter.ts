// The agent's one connection to the decider (okgsq.v1 AgentService.Connect), kept up: each attempt is a
// ReportSession (report-session.ts: Hello, plan in, outcomes out) with the projected ServiceAccount token
// re-read (kubelet rotates it); between attempts a capped backoff. Disconnected, the engine keeps probing
// and only the latest outcome per key is kept here, for the next session. Counters go on a tick.
// Every decider replica is Ready, so the Service may send us to a standby, which refuses with UNAVAILABLE
// and `okgsq-leader: false`: after any UNAVAILABLE the next attempt uses a NEW channel with a private
// subchannel pool (grpc-js would otherwise reuse the same TCP connection, i.e. the same backend, forever),
// so kube-proxy picks a backend again; the first few not-leader refusals retry after a short jitter.
// grpc-js bounds no connection attempt (TCP connect, TLS, the server's HTTP/2 SETTINGS): each attempt
// waits for its channel to be READY for at most connectTimeoutMs, then is abandoned (docs/design.md
// §28 "A bounded connection attempt").
import type { Logger } from 'pino';
import { connectivityState as ChannelState, status as GrpcStatus, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { LEADER_IDENTITY_TRAILER } from '../../common/agent-protocol.js';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { probeKeyString, type Outcome } from '../../common/outcome.js';
import { AgentServiceClient } from '../../proto/gen/okgsq/v1/agent.js';
import { Backoff } from '../../common/backoff.js';
import { settleOnce } from '../../common/settle-once.js';
import { sleep } from '../../common/sleep.js';
import { ReportSession, type ReporterEngine } from './report-session.js';
import { describeStreamError, isNotLeader } from './stream-end.js';

export type { ReporterEngine } from './report-session.js';

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
  /** A connection attempt (TCP, TLS, HTTP/2 settings) not READY by then is abandoned and retried after the backoff. */
  connectTimeoutMs: 10_000,
  /** How long stop() waits for the decider to close the stream after our half-close. */
  closeGraceMs: 2_000,
  /** Not-leader refusals in a row retried after a short jitter (a new connection likely reaches the leader). */
  notLeaderFastRetries: 5,
  notLeaderDelayMinMs: 100,
  notLeaderDelayMaxMs: 500,
});

/** See newClient: how long a closed channel's subchannel waits before its stray reconnect. */
const CLOSED_CHANNEL_RECONNECT_MS = 10 * 60_000;

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
  readonly connectTimeoutMs?: number;
  readonly onConnectedChange?: (connected: boolean) => void;
}

export class AgentReporter {
  private readonly o: ReporterOptions;
  private readonly clock: Clock;
  private client: AgentServiceClient;
  /** The next attempt must open a new channel (after UNAVAILABLE). */
  private renewChannel = false;
  private notLeaderStreak = 0;
  private readonly backoff: Backoff;
  private readonly logger: Logger;
  /** Outcomes not sent yet, latest per key; kept across sessions. */
  private readonly pending = new Map<string, Outcome>();
  private session: ReportSession | undefined;
  private isConnected = false;
  private countersTimer: TimerHandle | undefined;
  /** Aborted by stop(): ends the wait between attempts. */
  private readonly stopRequested = new AbortController();
  private loop: Promise<void> | undefined;

  constructor(options: ReporterOptions) {
    this.o = options;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.backoff = new Backoff({
      initialMs: options.backoffInitialMs ?? REPORTER_DEFAULTS.backoffInitialMs,
      maxMs: options.backoffMaxMs ?? REPORTER_DEFAULTS.backoffMaxMs,
      ...(options.random ? { random: options.random } : {}),
    });
    this.client = this.newClient();
  }

  private newClient(): AgentServiceClient {
    const options = this.o;
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
    return this.isConnected;
  }

  /** Outcomes waiting to be sent (latest per key). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** The engine's onOutcome: keeps the latest per key and sends it soon (or after reconnecting). */
  offer(outcome: Outcome): void {
    this.pending.set(probeKeyString(outcome), outcome);
    this.session?.offered();
  }

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
    this.scheduleCounters();
  }

  /** Half-closes the stream, waits briefly for the decider to end it, then cancels. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopRequested.signal.aborted) return this.loop;
    this.stopRequested.abort();
    this.countersTimer?.cancel();
    this.session?.close();
    await this.loop;
    this.client.close();
  }

  private get stopped(): boolean {
    return this.stopRequested.signal.aborted;
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let session: ReportSession | undefined;
      let notLeader = false;
      try {
        if (this.renewChannel) {
          this.renewChannel = false;
          this.client = this.newClient();
        }
        const channel = await this.channelSettled();
        if (channel === 'stopped') return;
        if (channel === 'timed out') {
          this.abandonConnection();
        } else {
          session = await this.newSession();
          if (!session) return;
          this.session = session;
          await session.run();
        }
      } catch (err) {
        const e = err as ServiceError;
        notLeader = isNotLeader(e);
        // Any UNAVAILABLE (a standby, a decider stepping down or gone): pick a backend afresh. The old
        // channel is closed now, not at the next attempt: left open during the retry delay, its subchannel
        // reconnects in the background and takes the Service's next backend, so the new channel would
        // always land on the other one (with two replicas: the dead leader, every time).
        if (e.code === GrpcStatus.UNAVAILABLE) this.renewClient();
        const { level, message } = describeStreamError(e);
        const leader = e.metadata?.get(LEADER_IDENTITY_TRAILER)[0];
        if (!this.stopped) {
          this.logger[level]({ [LOG.err]: e, code: GrpcStatus[e.code] ?? e.code, [LOG.attempt]: this.backoff.attempt, ...(leader ? { leader: String(leader) } : {}) }, message);
        }
      } finally {
        this.session = undefined;
        this.setConnected(false);
      }
      if (this.stopped) return;
      if (session?.carriedPlan) {
        this.backoff.reset();
        this.notLeaderStreak = 0;
      }
      const delay = this.retryDelay(notLeader);
      this.logger.info({ [LOG.delayMs]: delay, [LOG.attempt]: this.backoff.attempt }, 'reconnecting to the decider');
      await sleep(this.clock, delay, this.stopRequested.signal);
    }
  }

  /** Closes the channel now; the next attempt opens a new one (see run on why now). */
  private renewClient(): void {
    this.client.close();
    this.renewChannel = true;
  }

  /**
   * Waits until the channel is READY (TCP, TLS and the decider's HTTP/2 settings done: grpc-js marks a
   * subchannel READY on the server's SETTINGS) or has failed to connect ('settled' either way: on a failed
   * channel the stream fails at once with UNAVAILABLE and the cause, as before), for at most
   * connectTimeoutMs on the Clock. grpc-js puts no deadline on any of those steps: a SYN to a removed
   * endpoint waits out the kernel's retries (~2 min), a peer that accepts and never answers holds the
   * attempt for ever.
   */
  private channelSettled(): Promise<'settled' | 'timed out' | 'stopped'> {
    const channel = this.client.getChannel();
    let ended = false;
    return settleOnce<'settled' | 'timed out' | 'stopped'>({
      timeoutMs: this.o.connectTimeoutMs ?? REPORTER_DEFAULTS.connectTimeoutMs,
      signal: this.stopRequested.signal,
      timedOut: () => 'timed out',
      aborted: () => 'stopped',
      release: () => (ended = true),
      clock: this.clock,
    }, (finish) => {
      const check = (): void => {
        if (ended) return;
        // true: an IDLE channel starts connecting.
        const state = channel.getConnectivityState(true);
        if (state === ChannelState.READY || state === ChannelState.TRANSIENT_FAILURE || state === ChannelState.SHUTDOWN) return finish('settled');
        // No deadline of grpc-js's own: ours is on the Clock; closing the channel calls this back too.
        channel.watchConnectivityState(state, Infinity, check);
      };
      check();
    });
  }

  /** The attempt did not reach READY in time: its channel goes (the next attempt's connection may reach another backend). */
  private abandonConnection(): void {
    const timeoutMs = this.o.connectTimeoutMs ?? REPORTER_DEFAULTS.connectTimeoutMs;
    this.logger.warn({ [LOG.address]: this.o.address, timeoutMs, [LOG.attempt]: this.backoff.attempt }, 'connection to the decider not established in time; abandoned');
    this.renewClient();
  }

  /** A short jitter for the first not-leader refusals in a row (the next connection may well reach the
   * leader), then the normal capped exponential backoff, so a cluster with no leader is not hammered.
   * Within those first refusals the backoff also restarts: during a failover the Service alternates
   * between the refusing standby and the dead leader, whose connect failures would otherwise have
   * grown the backoff to seconds by the time the standby takes the Lease. */
  private retryDelay(notLeader: boolean): number {
    if (notLeader && ++this.notLeaderStreak <= REPORTER_DEFAULTS.notLeaderFastRetries) {
      this.backoff.reset();
      const { notLeaderDelayMinMs: min, notLeaderDelayMaxMs: max } = REPORTER_DEFAULTS;
      return Math.round(min + (this.o.random ?? Math.random)() * (max - min));
    }
    return this.backoff.next();
  }

  /** The next attempt's session, with a freshly read token; undefined when stopped meanwhile. */
  private async newSession(): Promise<ReportSession | undefined> {
    const o = this.o;
    const token = (await o.readToken()).trim();
    let runtime = { name: '', version: '' };
    try {
      runtime = await o.runtimeInfo();
    } catch (err) {
      this.logger.warn({ [LOG.err]: err }, 'runtime version unknown');
    }
    if (this.stopped) return undefined;
    return new ReportSession({
      client: this.client,
      token,
      hello: { nodeName: o.nodeName, agentVersion: o.agentVersion, runtimeName: runtime.name, runtimeVersion: runtime.version },
      engine: o.engine,
      pending: this.pending,
      logger: this.logger,
      clock: this.clock,
      batchWindowMs: o.batchWindowMs ?? REPORTER_DEFAULTS.batchWindowMs,
      maxBatchSize: o.maxBatchSize ?? REPORTER_DEFAULTS.maxBatchSize,
      planSettleMs: o.planSettleMs ?? REPORTER_DEFAULTS.planSettleMs,
      resyncIntervalMs: o.resyncIntervalMs ?? REPORTER_DEFAULTS.resyncIntervalMs,
      closeGraceMs: REPORTER_DEFAULTS.closeGraceMs,
      onPlan: () => this.setConnected(true),
    });
  }

  private setConnected(connected: boolean): void {
    if (this.isConnected === connected) return;
    this.isConnected = connected;
    this.logger.info({ connected, probes: this.o.engine.size }, connected ? 'connected to the decider' : 'disconnected from the decider');
    this.o.onConnectedChange?.(connected);
  }

  /** Disconnected, the engine keeps counting; everything goes with the next tick after reconnecting. */
  private scheduleCounters(): void {
    this.countersTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      this.session?.sendCounters();
      this.scheduleCounters();
    }, this.o.countersIntervalMs ?? REPORTER_DEFAULTS.countersIntervalMs);
  }
}
