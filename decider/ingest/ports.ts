// The seam between the agent-facing ingest (gRPC service, agentless prober) and the rest of the
// decider (planner, pipeline, metrics). Ingest only depends on these interfaces.
import type { Outcome, ProbeKey } from '../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../common/probe/types.js';

/** The pseudo-node whose plan the in-process prober takes: pods on nodes without an agent. */
export const AGENTLESS_NODE = '<agentless>';

export interface PlanDelta {
  readonly upsert: ProbeTarget[];
  readonly remove: ProbeKey[];
}

/** Implemented by the planner: which probes each node must run. */
export interface PlanSource {
  /** `initial` is the node's full plan at subscription time; the listener then gets every change. */
  subscribe(node: string, listener: (delta: PlanDelta) => void): { initial: ProbeTarget[]; unsubscribe(): void };
  isPlanned(node: string, key: ProbeKey): boolean;
}

/** Implemented by the pipeline: where published outcomes and run counters go. */
export interface OutcomeSink {
  /** Only outcomes planned on `node` (checked with PlanSource.isPlanned), already validated. */
  accept(node: string, outcomes: readonly Outcome[]): void;
  recordCounters(node: string, counters: readonly QualityCounters[]): void;
  /**
   * Called in pairs per node: agentConnected when a stream is authenticated, agentDisconnected when
   * it ends. A newer stream replacing an older one gives agentDisconnected (old) then agentConnected.
   */
  agentConnected(node: string): void;
  agentDisconnected(node: string): void;
}

/** Who an agent is, proven by its pod-bound ServiceAccount token. */
export interface AgentIdentity {
  readonly node: string;
  readonly podName: string;
  readonly podUid: string;
  /** When the token expires (its `exp`), Unix ms: the identity ends then. */
  readonly expiresAtMs: number;
}

/** Why an identity authenticated earlier no longer holds. */
export interface Revocation {
  readonly reason: SessionRevocationReason;
  readonly message: string;
}

export interface AgentAuthenticator {
  /**
   * Throws OkgSqError UNAUTHENTICATED (bad token) or PERMISSION_DENIED (wrong identity or node), KUBE_API
   * when it cannot tell right now, STOPPED when `signal` aborted it (the TokenReview is cancelled with it).
   */
  authenticate(token: string, claimedNode: string, signal: AbortSignal): Promise<AgentIdentity>;
  /** Undefined while `identity` still holds; else why not (its token expired, its pod is gone or replaced). */
  revoked(identity: AgentIdentity): Revocation | undefined;
  /** Called when something `revoked` depends on changed (an agent pod), so sessions are re-checked at once. */
  onChange(listener: () => void): void;
}

/** Why an open agent session was ended by the decider: its token's `exp` passed, or its bound pod went. */
export const SESSION_REVOCATION_REASONS = ['token_expired', 'pod_gone'] as const;
export type SessionRevocationReason = (typeof SESSION_REVOCATION_REASONS)[number];

/**
 * Why an outcome was not taken: `unplanned` (not planned on the reporting node), `invalid` (malformed),
 * `not_probeable` (an exec quality on an agentless pod without OKGSQ_REMOTE_EXEC; counted once per
 * target), `time_out_of_range` (observed later than the decider's clock plus the allowed skew, or before
 * its pod existed). A flooding agent is slowed down (outcomesThrottled), not rejected.
 */
export const REJECT_REASONS = ['unplanned', 'invalid', 'not_probeable', 'time_out_of_range'] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

/**
 * Why an agent stream ended before it got a session (every such stream is counted under one reason):
 * `not_leader` (a standby, or a leader stepping down or stopping), `unauthenticated` (no bearer token,
 * or the token was not accepted), `permission_denied` (not the agent ServiceAccount, or bound to another
 * node), `invalid_argument` (first message undecodable or not a Hello, or a bad node name),
 * `deadline_exceeded` (no Hello in time), `auth_unavailable` (the TokenReview failed or took too long;
 * the agent retries), `peer_limit` (too many streams awaiting authentication, or too many failed ones,
 * from the same address), `overloaded` (the authentication queue is full), `cancelled` (the stream ended
 * before its Hello was handled without a refusal of ours: the peer went, or gRPC itself refused the first
 * message, e.g. one over the 4 MiB limit).
 */
export const STREAM_REFUSAL_REASONS = [
  'not_leader',
  'unauthenticated',
  'permission_denied',
  'invalid_argument',
  'deadline_exceeded',
  'auth_unavailable',
  'peer_limit',
  'overloaded',
  'cancelled',
] as const;
export type StreamRefusalReason = (typeof STREAM_REFUSAL_REASONS)[number];

/**
 * The metrics ingest writes. DeciderMetrics (decider/metrics.ts) implements it; tests use a fake.
 * okgsq_outcomes_received_total, okgsq_outcomes_rejected_total{reason}, okgsq_agents_connected,
 * okgsq_agent_streams_refused_total{reason}, okgsq_agent_sessions_revoked_total{reason}.
 */
export interface IngestMetrics {
  /** Every outcome that arrived from an agent, taken or rejected. */
  outcomesReceived(count: number): void;
  outcomeRejected(reason: RejectReason, count: number): void;
  agentsConnected(count: number): void;
  /** Outcomes that arrived faster than a stream's rate and slowed it down (not dropped). Optional. */
  outcomesThrottled?(count: number): void;
  /** An agent stream refused before it got a session. Optional (the ingest bench leaves it out). */
  streamRefused?(reason: StreamRefusalReason): void;
  /** An open session ended because its identity no longer holds. Optional (the ingest bench leaves it out). */
  sessionRevoked?(reason: SessionRevocationReason): void;
}
