// okgsq.v1 AgentService.Connect: authenticates each agent stream (bearer token + Hello), keeps one live
// stream per node, and hands the stream to an AgentSession. Serves only while told to (the leader).
// Every replica is Ready (so a PodDisruptionBudget can evict either), so the Service balances agents onto
// standbys too: a standby refuses them at once, before any TokenReview, with UNAVAILABLE and the trailer
// `okgsq-leader: false`, and the agent reconnects on a new connection until it reaches the leader.
// Every stream that does not get a session is counted once, under one reason
// (okgsq_agent_streams_refused_total); a session ends when its identity does (token expired, pod gone).
import { Metadata, status as GrpcStatus, type handleBidiStreamingCall, type ServerDuplexStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { LEADER_IDENTITY_TRAILER, LEADER_TRAILER } from '../../common/agent-protocol.js';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import type { DeciderMessage } from '../../proto/gen/okgsq/v1/agent.js';
import type { IncomingMessage } from './agent-message.js';
import { AgentSession, type SessionLimits } from './agent-session.js';
import { peerAddress, PeerLimits } from './peer-limits.js';
import { AuthGate, type AuthGateLimits } from './auth-gate.js';
import { authFailure, bearerToken, fail, helloOf, MAX_HELLO_TEXT, type Refusal } from './stream-admission.js';
import type { AgentAuthenticator, AgentIdentity, IngestMetrics, OutcomeSink, PlanSource } from './ports.js';

export interface IngestLimits extends SessionLimits, AuthGateLimits {
  /** How long a new stream may take to send its Hello. */
  readonly helloTimeoutMs: number;
  /** Streams from one address awaiting their Hello or authentication at once (`peer_limit` beyond). */
  readonly maxPendingStreamsPerPeer: number;
  /** Failed authentications one address may make per second once its burst is spent (`peer_limit` beyond). */
  readonly failedAuthenticationsPerSecondPerPeer: number;
  readonly failedAuthenticationBurstPerPeer: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = Object.freeze({
  helloTimeoutMs: 10_000,
  maxConcurrentAuthentications: 16,
  // A failover's reconnect storm of 1,000 agents mostly hits the review cache; 256 waiting is ample.
  maxQueuedAuthentications: 256,
  authenticationTimeoutMs: 15_000,
  maxPendingStreamsPerPeer: 8,
  failedAuthenticationsPerSecondPerPeer: 1,
  failedAuthenticationBurstPerPeer: 10,
  // P4 wants 150k outcomes/s per decider core in total; one agent's steady share is far lower, its
  // resync after a reconnect (a whole node's plan) fits in the burst.
  outcomesPerSecondPerStream: 20_000,
  outcomeBurstPerStream: 50_000,
  maxPendingPlanUpdates: 1_000,
  resyncIntervalSeconds: 0,
});

/** How often open sessions are re-checked for an expired token (pod changes re-check them at once). */
export const SESSION_CHECK_INTERVAL_MS = 1_000;

export interface AgentServiceOptions {
  readonly plans: PlanSource;
  readonly sink: OutcomeSink;
  readonly authenticator: AgentAuthenticator;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly limits?: Partial<IngestLimits>;
  /** Start accepting streams right away (default true); a non-leader passes false and calls start() later. */
  readonly serving?: boolean;
  /** The leader's identity as last seen in the Lease, for the refusal's trailer (when known). */
  readonly leaderIdentity?: () => string | undefined;
}

export const NOT_LEADER_DETAILS = 'not the leader: this decider replica is a standby; reconnect to reach the leader';

type Call = ServerDuplexStream<IncomingMessage, DeciderMessage>;

/** A stream from its start until it has a session or is refused: one signal, one way out (`finish`). */
interface Admission {
  readonly call: Call;
  readonly peer: string;
  /** Aborted on the way out: cancels a queued or running authentication and its TokenReview. */
  readonly abort: AbortController;
  helloTimer: TimerHandle | undefined;
  done: boolean;
  readonly onGone: () => void;
}

export class AgentService {
  /** The handlers to register with `server.addService(agentServiceDefinition, service.implementation)`. */
  readonly implementation: UntypedServiceImplementation;
  private serving: boolean;
  private readonly limits: IngestLimits;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sessions = new Map<string, AgentSession>();
  /** Streams before their session: deactivate() must end them too. */
  private readonly admissions = new Set<Admission>();
  private readonly peers: PeerLimits;
  private readonly auth: AuthGate;
  private refusedNotLeader = 0;
  private sweepTimer: TimerHandle | undefined;

  constructor(private readonly options: AgentServiceOptions) {
    this.limits = Object.freeze({ ...DEFAULT_INGEST_LIMITS, ...options.limits });
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger.child({ [LOG.component]: 'agent-service' });
    this.serving = options.serving ?? true;
    this.peers = new PeerLimits({
      maxPending: this.limits.maxPendingStreamsPerPeer,
      failuresPerSecond: this.limits.failedAuthenticationsPerSecondPerPeer,
      failureBurst: this.limits.failedAuthenticationBurstPerPeer,
      now: () => this.clock.now(),
    });
    this.auth = new AuthGate(options.authenticator, this.limits, this.clock);
    const connect: handleBidiStreamingCall<IncomingMessage, DeciderMessage> = (call) => this.connect(call);
    this.implementation = { connect };
    options.authenticator.onChange(() => this.checkSessions());
  }

  /** Accepts agent streams (on becoming leader). */
  activate(): void {
    this.serving = true;
  }

  /** Stops accepting and ends every open stream with UNAVAILABLE, so agents reconnect to the new leader. */
  async deactivate(): Promise<void> {
    this.serving = false;
    for (const a of [...this.admissions]) this.finish(a, this.notLeader());
    for (const session of [...this.sessions.values()]) session.end(GrpcStatus.UNAVAILABLE, 'decider is not serving agents');
  }

  /** Streams refused because this replica is not the leader (standby or stepping down). */
  get notLeaderRefusals(): number {
    return this.refusedNotLeader;
  }

  connectedNodes(): string[] {
    return [...this.sessions.keys()];
  }

  /** Streams awaiting their Hello or authentication right now. */
  get pendingStreams(): number {
    return this.admissions.size;
  }

  private notLeader(): Refusal {
    const trailers = new Metadata();
    trailers.set(LEADER_TRAILER, 'false');
    const leader = this.options.leaderIdentity?.();
    if (leader) trailers.set(LEADER_IDENTITY_TRAILER, leader);
    return { reason: 'not_leader', code: GrpcStatus.UNAVAILABLE, details: NOT_LEADER_DETAILS, trailers };
  }

  /** A refusal before any admission state exists. */
  private refuse(call: Call, refusal: Refusal): void {
    this.count(refusal);
    if (refusal.code !== undefined) fail(call, refusal.code, refusal.details ?? '', refusal.trailers);
  }

  private count(refusal: Refusal): void {
    if (refusal.reason === 'not_leader') this.refusedNotLeader++;
    this.options.metrics.streamRefused?.(refusal.reason);
  }

  private connect(call: Call): void {
    const peer = peerAddress(call.getPeer());
    if (!this.serving) {
      // Before reading the token: a standby must not spend a TokenReview on a stream it will not keep.
      this.logger.debug({ [LOG.peer]: peer }, 'agent stream refused: not the leader');
      return this.refuse(call, this.notLeader());
    }
    const token = bearerToken(call.metadata);
    if (token === undefined) {
      this.logger.warn({ [LOG.peer]: peer }, 'agent stream without bearer token refused');
      return this.refuse(call, { reason: 'unauthenticated', code: GrpcStatus.UNAUTHENTICATED, details: 'missing "authorization: Bearer <token>" metadata' });
    }
    const verdict = this.peers.admit(peer);
    if (verdict !== 'ok') {
      this.logger.debug({ [LOG.peer]: peer, [LOG.reason]: verdict }, 'agent stream refused: peer limit');
      const details = verdict === 'too_many_pending' ? 'too many streams awaiting authentication from this address' : 'too many failed authentications from this address; retry later';
      return this.refuse(call, { reason: 'peer_limit', code: GrpcStatus.RESOURCE_EXHAUSTED, details });
    }
    // Ended by the peer, or by gRPC itself (a first message over the size limit), before a session.
    const onGone = (): void => this.finish(a, { reason: 'cancelled' });
    const a: Admission = { call, peer, abort: new AbortController(), helloTimer: undefined, done: false, onGone };
    this.admissions.add(a);
    call.once('cancelled', onGone);
    call.once('close', onGone);
    call.on('error', onGone);
    a.helloTimer = this.clock.setTimeout(
      () => this.finish(a, { reason: 'deadline_exceeded', code: GrpcStatus.DEADLINE_EXCEEDED, details: `no Hello within ${this.limits.helloTimeoutMs} ms` }),
      this.limits.helloTimeoutMs,
    );
    call.once('data', (first: IncomingMessage) => this.onFirstMessage(a, token, first));
  }

  private onFirstMessage(a: Admission, token: string, first: IncomingMessage): void {
    if (a.done) return;
    a.helloTimer?.cancel();
    // Hold everything after Hello until the session exists: its outcomes must not be lost or reordered.
    a.call.pause();
    const hello = helloOf(first);
    if (typeof hello === 'string') {
      this.logger.warn({ [LOG.peer]: a.peer, [LOG.reason]: hello }, 'agent stream refused');
      return this.finish(a, { reason: 'invalid_argument', code: GrpcStatus.INVALID_ARGUMENT, details: hello });
    }
    if (this.auth.full) {
      this.logger.warn({ [LOG.node]: hello.nodeName, [LOG.peer]: a.peer }, 'agent stream refused: authentication queue full');
      return this.finish(a, { reason: 'overloaded', code: GrpcStatus.UNAVAILABLE, details: 'too many agents authenticating; retry later' });
    }
    this.auth.authenticate(token, hello.nodeName, a.abort.signal).then(
      (identity) => {
        if (a.done) return;
        if (!this.serving) return this.finish(a, this.notLeader()); // lost leadership while authenticating
        this.finish(a);
        this.open(a.call, identity, {
          agentPod: identity.podName,
          agentVersion: hello.agentVersion.slice(0, MAX_HELLO_TEXT),
          runtime: `${hello.runtimeName}/${hello.runtimeVersion}`.slice(0, MAX_HELLO_TEXT),
          [LOG.peer]: a.peer,
        });
      },
      (err: unknown) => {
        if (a.done) return;
        const refusal = authFailure(err);
        if (refusal.reason === 'unauthenticated' || refusal.reason === 'permission_denied') this.peers.failed(a.peer);
        this.logger.warn({ [LOG.node]: hello.nodeName, [LOG.peer]: a.peer, [LOG.err]: err }, 'agent stream refused');
        this.finish(a, refusal);
      },
    );
  }

  /** The one way out of an admission: with a refusal (counted, sent unless the stream is gone), or to a session. */
  private finish(a: Admission, refusal?: Refusal): void {
    if (a.done) return;
    a.done = true;
    a.helloTimer?.cancel();
    a.abort.abort();
    this.admissions.delete(a);
    this.peers.release(a.peer);
    a.call.off('cancelled', a.onGone);
    a.call.off('close', a.onGone);
    a.call.off('error', a.onGone);
    if (refusal) this.refuse(a.call, refusal);
  }

  private open(call: Call, identity: AgentIdentity, facts: Record<string, string>): void {
    const node = identity.node;
    const previous = this.sessions.get(node);
    if (previous) {
      this.logger.info({ [LOG.node]: node }, 'agent stream replaced by a newer one');
      previous.end(GrpcStatus.ABORTED, 'replaced by a newer stream for the same node');
    }
    const session = new AgentSession(
      identity,
      call,
      {
        plans: this.options.plans,
        sink: this.options.sink,
        metrics: this.options.metrics,
        logger: this.logger,
        limits: this.limits,
        clock: this.clock,
      },
      (ended) => this.onSessionEnded(ended),
    );
    this.sessions.set(node, session);
    this.options.metrics.agentsConnected(this.sessions.size);
    this.options.sink.agentConnected(node);
    this.logger.info({ [LOG.node]: node, ...facts }, 'agent connected');

    session.start();
    call.resume();
    this.scheduleSweep();
  }

  private onSessionEnded(session: AgentSession): void {
    if (this.sessions.get(session.node) !== session) return;
    this.sessions.delete(session.node);
    this.options.metrics.agentsConnected(this.sessions.size);
    this.options.sink.agentDisconnected(session.node);
    this.logger.info({ [LOG.node]: session.node }, 'agent disconnected');
  }

  /** Ends every session whose identity no longer holds: its token expired, its pod went or was replaced. */
  private checkSessions(): void {
    for (const session of [...this.sessions.values()]) {
      const revoked = this.options.authenticator.revoked(session.identity);
      if (!revoked) continue;
      this.logger.warn({ [LOG.node]: session.node, [LOG.pod]: session.identity.podName, [LOG.reason]: revoked.reason }, 'agent session ended: identity no longer valid');
      this.options.metrics.sessionRevoked?.(revoked.reason);
      session.end(GrpcStatus.UNAUTHENTICATED, revoked.message);
    }
  }

  private scheduleSweep(): void {
    if (this.sweepTimer) return;
    this.sweepTimer = this.clock.setTimeout(() => {
      this.sweepTimer = undefined;
      this.checkSessions();
      if (this.sessions.size > 0) this.scheduleSweep();
    }, SESSION_CHECK_INTERVAL_MS);
  }
}
