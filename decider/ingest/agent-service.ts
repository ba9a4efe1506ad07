// okgsq.v1 AgentService.Connect: authenticates each agent stream (bearer token + Hello), keeps one live
// stream per node, and hands the stream to an AgentSession. Serves only while told to (the leader).
// Every replica is Ready (so a PodDisruptionBudget can evict either), so the Service balances agents onto
// standbys too: a standby refuses them at once, before any TokenReview, with UNAVAILABLE and the trailer
// `okgsq-leader: false`, and the agent reconnects on a new connection until it reaches the leader.
import { Metadata, status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { LEADER_IDENTITY_TRAILER, LEADER_TRAILER } from '../../common/agent-protocol.js';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';
import { LOG } from '../../common/log-fields.js';
import type { AgentMessage, AgentServiceServer, DeciderMessage } from '../../proto/gen/okgsq/v1/agent.js';
import { AgentSession, type SessionLimits } from './agent-session.js';
import type { AgentAuthenticator, AgentIdentity, IngestMetrics, OutcomeSink, PlanSource, StreamRefusalReason } from './ports.js';

export interface IngestLimits extends SessionLimits {
  /** How long a new stream may take to send its Hello. */
  readonly helloTimeoutMs: number;
  /** TokenReviews in flight at once; a reconnect storm after a failover queues behind them. */
  readonly maxConcurrentAuthentications: number;
  /** An authentication (TokenReview) slower than this ends the stream with UNAVAILABLE; the agent retries. */
  readonly authenticationTimeoutMs: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = Object.freeze({
  helloTimeoutMs: 10_000,
  maxConcurrentAuthentications: 16,
  authenticationTimeoutMs: 15_000,
  // P4 wants 150k outcomes/s per decider core in total; one agent's steady share is far lower, its
  // resync after a reconnect (a whole node's plan) fits in the burst.
  outcomesPerSecondPerStream: 20_000,
  outcomeBurstPerStream: 50_000,
  maxPendingPlanUpdates: 1_000,
  resyncIntervalSeconds: 0,
});

export interface AgentServiceOptions {
  readonly plans: PlanSource;
  readonly sink: OutcomeSink;
  readonly authenticator: AgentAuthenticator;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  readonly limits?: Partial<IngestLimits>;
  /** Start accepting streams right away (default true); a non-leader passes false and calls start() later. */
  readonly serving?: boolean;
  /** The leader's identity as last seen in the Lease, for the refusal's trailer (when known). */
  readonly leaderIdentity?: () => string | undefined;
}

export const NOT_LEADER_DETAILS = 'not the leader: this decider replica is a standby; reconnect to reach the leader';

type Call = ServerDuplexStream<AgentMessage, DeciderMessage>;

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function bearerToken(metadata: Metadata): string | undefined {
  const value = metadata.get('authorization')[0];
  if (typeof value !== 'string') return undefined;
  return BEARER.exec(value)?.[1];
}

function fail(call: Call, code: GrpcStatus, details: string, metadata?: Metadata): void {
  try {
    call.emit('error', metadata ? { code, details, metadata } : { code, details });
  } catch {
    // Already closed by the peer.
  }
}

export class AgentService {
  /** The handlers to register with `server.addService(AgentServiceService, service.implementation)`. */
  readonly implementation: AgentServiceServer;
  private serving: boolean;
  private readonly limits: IngestLimits;
  private readonly logger: Logger;
  private readonly sessions = new Map<string, AgentSession>();
  /** Streams still before or inside authentication: drain() must end them too. */
  private readonly unauthenticated = new Set<Call>();
  private authenticating = 0;
  private refusedNotLeader = 0;
  private readonly authQueue: (() => void)[] = [];

  constructor(private readonly options: AgentServiceOptions) {
    this.limits = Object.freeze({ ...DEFAULT_INGEST_LIMITS, ...options.limits });
    this.logger = options.logger.child({ [LOG.component]: 'agent-service' });
    this.serving = options.serving ?? true;
    this.implementation = { connect: (call: Call) => this.connect(call) };
  }

  /** Accepts agent streams (on becoming leader). */
  start(): void {
    this.serving = true;
  }

  /** Stops accepting and ends every open stream with UNAVAILABLE, so agents reconnect to the new leader. */
  async drain(): Promise<void> {
    this.serving = false;
    for (const call of [...this.unauthenticated]) this.refuseNotLeader(call);
    this.unauthenticated.clear();
    for (const session of [...this.sessions.values()]) session.end(GrpcStatus.UNAVAILABLE, 'decider is not serving agents');
  }

  /** Streams refused because this replica is not the leader (standby or stepping down). */
  get notLeaderRefusals(): number {
    return this.refusedNotLeader;
  }

  private notLeaderTrailers(): Metadata {
    const trailers = new Metadata();
    trailers.set(LEADER_TRAILER, 'false');
    const leader = this.options.leaderIdentity?.();
    if (leader) trailers.set(LEADER_IDENTITY_TRAILER, leader);
    return trailers;
  }

  private refuseNotLeader(call: Call): void {
    this.refusedNotLeader++;
    this.options.metrics.streamRefused?.('not_leader');
    fail(call, GrpcStatus.UNAVAILABLE, NOT_LEADER_DETAILS, this.notLeaderTrailers());
  }

  connectedNodes(): string[] {
    return [...this.sessions.keys()];
  }

  private connect(call: Call): void {
    const peer = call.getPeer();
    if (!this.serving) {
      // Before reading the token: a standby must not spend a TokenReview on a stream it will not keep.
      this.logger.debug({ [LOG.peer]: peer }, 'agent stream refused: not the leader');
      this.refuseNotLeader(call);
      return;
    }
    const token = bearerToken(call.metadata);
    if (token === undefined) {
      this.logger.warn({ [LOG.peer]: peer }, 'agent stream without bearer token refused');
      this.options.metrics.streamRefused?.('unauthenticated');
      fail(call, GrpcStatus.UNAUTHENTICATED, 'missing "authorization: Bearer <token>" metadata');
      return;
    }
    this.unauthenticated.add(call);
    let settled = false;
    const refuse = (code: GrpcStatus, details: string): void => {
      settled = true;
      this.unauthenticated.delete(call);
      clearTimeout(helloTimer);
      this.options.metrics.streamRefused?.(refusalReason(code));
      fail(call, code, details);
    };
    const helloTimer = setTimeout(
      () => refuse(GrpcStatus.DEADLINE_EXCEEDED, `no Hello within ${this.limits.helloTimeoutMs} ms`),
      this.limits.helloTimeoutMs,
    );
    const gone = (): void => {
      if (settled) return;
      settled = true;
      this.unauthenticated.delete(call);
      clearTimeout(helloTimer);
    };
    call.once('cancelled', gone);
    call.once('close', gone);
    call.on('error', () => gone());

    call.once('data', (first: AgentMessage) => {
      if (settled) return;
      clearTimeout(helloTimer);
      // Hold everything after Hello until the session exists: its outcomes must not be lost or reordered.
      call.pause();
      if (first.body?.$case !== 'hello') return refuse(GrpcStatus.INVALID_ARGUMENT, 'the first message must be Hello');
      const hello = first.body.value;
      if (!hello.nodeName) return refuse(GrpcStatus.INVALID_ARGUMENT, 'Hello.node_name is empty');
      this.authenticateBounded(token, hello.nodeName, () => !settled).then(
        (identity) => {
          if (settled) return;
          if (!this.serving) {
            // Lost leadership while authenticating.
            settled = true;
            this.unauthenticated.delete(call);
            clearTimeout(helloTimer);
            return this.refuseNotLeader(call);
          }
          settled = true;
          this.unauthenticated.delete(call);
          this.open(call, identity.node, {
            agentPod: identity.podName,
            agentVersion: hello.agentVersion,
            runtime: `${hello.runtimeName}/${hello.runtimeVersion}`,
            [LOG.peer]: peer,
          });
        },
        (err: unknown) => {
          if (settled) return;
          const [code, details] = authFailureStatus(err);
          this.logger.warn({ [LOG.node]: hello.nodeName, [LOG.peer]: peer, [LOG.err]: err }, 'agent stream refused');
          refuse(code, details);
        },
      );
    });
  }

  /** The authenticator behind a concurrency limit and a deadline; skipped for streams already gone. */
  private async authenticateBounded(token: string, node: string, wanted: () => boolean): Promise<AgentIdentity> {
    if (this.authenticating < this.limits.maxConcurrentAuthentications) this.authenticating++;
    else await new Promise<void>((resolve) => this.authQueue.push(resolve)); // the slot is handed over
    let timer: NodeJS.Timeout | undefined;
    try {
      if (!wanted()) throw new OkgSqError(ERROR_CODES.STOPPED, 'stream ended before authentication');
      return await Promise.race([
        this.options.authenticator.authenticate(token, node),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new OkgSqError(ERROR_CODES.KUBE_API, `authentication took over ${this.limits.authenticationTimeoutMs} ms`)),
            this.limits.authenticationTimeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
      const next = this.authQueue.shift();
      if (next) next();
      else this.authenticating--;
    }
  }

  private open(call: Call, node: string, facts: Record<string, string>): void {
    const previous = this.sessions.get(node);
    if (previous) {
      this.logger.info({ [LOG.node]: node }, 'agent stream replaced by a newer one');
      previous.end(GrpcStatus.ABORTED, 'replaced by a newer stream for the same node');
    }
    const session = new AgentSession(
      node,
      call,
      {
        plans: this.options.plans,
        sink: this.options.sink,
        metrics: this.options.metrics,
        logger: this.logger,
        limits: this.limits,
      },
      (ended) => this.onSessionEnded(ended),
    );
    this.sessions.set(node, session);
    this.options.metrics.agentsConnected(this.sessions.size);
    this.options.sink.agentConnected(node);
    this.logger.info({ [LOG.node]: node, ...facts }, 'agent connected');

    call.on('data', (message: AgentMessage) => session.handle(message));
    call.on('end', () => session.end(GrpcStatus.OK, 'OK'));
    call.on('cancelled', () => session.end(GrpcStatus.CANCELLED, 'cancelled'));
    call.on('close', () => session.end(GrpcStatus.CANCELLED, 'closed'));
    call.on('error', () => session.end(GrpcStatus.CANCELLED, 'error'));
    session.start();
    call.resume();
  }

  private onSessionEnded(session: AgentSession): void {
    if (this.sessions.get(session.node) !== session) return;
    this.sessions.delete(session.node);
    this.options.metrics.agentsConnected(this.sessions.size);
    this.options.sink.agentDisconnected(session.node);
    this.logger.info({ [LOG.node]: session.node }, 'agent disconnected');
  }
}

/** The refusal's metric label, from the status the stream is ended with (UNAVAILABLE here: the TokenReview). */
function refusalReason(code: GrpcStatus): StreamRefusalReason {
  switch (code) {
    case GrpcStatus.UNAUTHENTICATED:
      return 'unauthenticated';
    case GrpcStatus.PERMISSION_DENIED:
      return 'permission_denied';
    case GrpcStatus.INVALID_ARGUMENT:
      return 'invalid_argument';
    case GrpcStatus.DEADLINE_EXCEEDED:
      return 'deadline_exceeded';
    default:
      return 'auth_unavailable';
  }
}

/** Only typed statuses cross the wire, with no internals: the reason is in our log. */
function authFailureStatus(err: unknown): [GrpcStatus, string] {
  if (err instanceof OkgSqError) {
    if (err.code === ERROR_CODES.UNAUTHENTICATED) return [GrpcStatus.UNAUTHENTICATED, 'token not accepted'];
    if (err.code === ERROR_CODES.PERMISSION_DENIED) return [GrpcStatus.PERMISSION_DENIED, err.message];
  }
  return [GrpcStatus.UNAVAILABLE, 'cannot authenticate agents right now'];
}
