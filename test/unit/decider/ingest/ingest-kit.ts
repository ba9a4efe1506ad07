// Fakes of the ingest ports and a real grpc-js client, shared by the ingest unit tests.
import { credentials, Metadata, type ChannelCredentials, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import pino from 'pino';
import { ERROR_CODES, OkgSqError } from '../../../../common/errors.js';
import { probeKeyString, type Outcome, type ProbeKey } from '../../../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../../../common/probe/types.js';
import {
  AgentServiceClient,
  type AgentMessage,
  type DeciderMessage,
  type Outcome as WireOutcome,
  type QualityCounters as WireCounters,
} from '../../../../proto/gen/okgsq/v1/agent.js';
import type {
  AgentAuthenticator,
  AgentIdentity,
  IngestMetrics,
  OutcomeSink,
  PlanDelta,
  PlanSource,
  RejectReason,
  Revocation,
  SessionRevocationReason,
  StreamRefusalReason,
} from '../../../../decider/ingest/ports.js';
import { waitFor } from '../../../testbed/wait-for.js';

export const silentLogger = pino({ level: 'silent' });

export function target(node: string, podUid: string, quality = 'healthy', extra: Partial<ProbeTarget> = {}): ProbeTarget {
  return {
    key: { podUid, quality },
    namespace: 'games',
    podName: `pod-${podUid}`,
    gameServerSet: 'minecraft',
    containerName: 'game',
    podIp: '10.254.77.5',
    handler: { kind: 'exec', command: ['/bin/sh', '-c', `check ${node}`] },
    timing: { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
    containerStartedAtMs: 0,
    ...extra,
  };
}

/** A planner: a plan per node that tests change, pushing deltas to subscribers. */
export class FakePlanSource implements PlanSource {
  readonly plans = new Map<string, Map<string, ProbeTarget>>();
  private readonly listeners = new Map<string, Set<(delta: PlanDelta) => void>>();

  set(node: string, targets: ProbeTarget[]): void {
    const plan = this.plan(node);
    for (const t of targets) plan.set(probeKeyString(t.key), t);
    for (const l of this.listeners.get(node) ?? []) l({ upsert: targets, remove: [] });
  }

  remove(node: string, keys: ProbeKey[]): void {
    for (const k of keys) this.plan(node).delete(probeKeyString(k));
    for (const l of this.listeners.get(node) ?? []) l({ upsert: [], remove: keys });
  }

  subscriberCount(node: string): number {
    return this.listeners.get(node)?.size ?? 0;
  }

  subscribe(node: string, listener: (delta: PlanDelta) => void): { initial: ProbeTarget[]; unsubscribe(): void } {
    const set = this.listeners.get(node) ?? new Set();
    this.listeners.set(node, set);
    set.add(listener);
    return { initial: [...this.plan(node).values()], unsubscribe: () => set.delete(listener) };
  }

  isPlanned(node: string, key: ProbeKey): boolean {
    return this.plan(node).has(probeKeyString(key));
  }

  private plan(node: string): Map<string, ProbeTarget> {
    let plan = this.plans.get(node);
    if (!plan) this.plans.set(node, (plan = new Map()));
    return plan;
  }
}

export class FakeSink implements OutcomeSink {
  readonly accepted: { node: string; outcome: Outcome }[] = [];
  readonly counters: { node: string; counters: QualityCounters }[] = [];
  readonly events: string[] = [];
  accept(node: string, outcomes: readonly Outcome[]): void {
    for (const outcome of outcomes) this.accepted.push({ node, outcome });
  }
  recordCounters(node: string, counters: readonly QualityCounters[]): void {
    for (const c of counters) this.counters.push({ node, counters: c });
  }
  agentConnected(node: string): void {
    this.events.push(`connected ${node}`);
  }
  agentDisconnected(node: string): void {
    this.events.push(`disconnected ${node}`);
  }
}

/**
 * Tokens are `token-<node>`; "agent" tokens of other identities are `user-<node>`. `revoke(node)` makes
 * that node's identity (and its open session) end.
 */
export class FakeAuthenticator implements AgentAuthenticator {
  calls = 0;
  readonly revokedNodes = new Map<string, Revocation>();
  private readonly listeners: (() => void)[] = [];
  async authenticate(token: string, claimedNode: string, _signal?: AbortSignal): Promise<AgentIdentity> {
    this.calls++;
    const m = /^(token|user)-(.+)$/.exec(token);
    if (!m) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, 'token not recognised');
    if (m[1] === 'user') throw new OkgSqError(ERROR_CODES.PERMISSION_DENIED, 'not the agent ServiceAccount');
    if (m[2] !== claimedNode) throw new OkgSqError(ERROR_CODES.PERMISSION_DENIED, `token is bound to node ${m[2]}`);
    if (this.revokedNodes.has(claimedNode)) throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, this.revokedNodes.get(claimedNode)!.message);
    return { node: claimedNode, podName: `agent-${claimedNode}`, podUid: `uid-agent-${claimedNode}`, expiresAtMs: Number.MAX_SAFE_INTEGER };
  }
  revoked(identity: AgentIdentity): Revocation | undefined {
    return this.revokedNodes.get(identity.node);
  }
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
  revoke(node: string, revocation: Revocation = { reason: 'pod_gone', message: `agent pod of ${node} is gone` }): void {
    this.revokedNodes.set(node, revocation);
    for (const l of this.listeners) l();
  }
}

export class FakeMetrics implements IngestMetrics {
  received = 0;
  rejected = new Map<RejectReason, number>();
  connected = 0;
  throttled = 0;
  refused = new Map<StreamRefusalReason, number>();
  revoked = new Map<SessionRevocationReason, number>();
  outcomesReceived(count: number): void {
    this.received += count;
  }
  outcomeRejected(reason: RejectReason, count: number): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + count);
  }
  agentsConnected(count: number): void {
    this.connected = count;
  }
  outcomesThrottled(count: number): void {
    this.throttled += count;
  }
  streamRefused(reason: StreamRefusalReason): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }
  sessionRevoked(reason: SessionRevocationReason): void {
    this.revoked.set(reason, (this.revoked.get(reason) ?? 0) + 1);
  }
}

/** A real client stream that records what the decider sends and how the stream ended. */
export class TestAgent {
  readonly client: AgentServiceClient;
  readonly stream: ClientDuplexStream<AgentMessage, DeciderMessage>;
  readonly received: DeciderMessage[] = [];
  error: ServiceError | undefined;
  ended = false;

  constructor(address: string, token: string | undefined, creds: ChannelCredentials = credentials.createInsecure(), options: Record<string, string> = {}) {
    this.client = new AgentServiceClient(address, creds, options);
    const md = new Metadata();
    if (token !== undefined) md.set('authorization', `Bearer ${token}`);
    this.stream = this.client.connect(md);
    this.stream.on('data', (m: DeciderMessage) => this.received.push(m));
    this.stream.on('error', (e: ServiceError) => (this.error = e));
    this.stream.on('end', () => (this.ended = true));
  }

  hello(nodeName: string): this {
    this.stream.write({ body: { $case: 'hello', value: { nodeName, agentVersion: 'test', runtimeName: 'containerd', runtimeVersion: '1.6.20' } } });
    return this;
  }

  sendOutcomes(outcomes: WireOutcome[], counters: WireCounters[] = []): void {
    this.stream.write({ body: { $case: 'outcomes', value: { outcomes, resync: false, counters, planGeneration: 0 } } });
  }

  plans() {
    return this.received.flatMap((m) => (m.body?.$case === 'plan' ? [m.body.value] : []));
  }

  async waitForError(timeoutMs = 5_000): Promise<ServiceError> {
    await waitFor(() => this.error !== undefined, { what: 'the stream to fail', timeoutMs });
    return this.error!;
  }

  close(): void {
    this.stream.cancel();
    this.client.close();
  }
}

export function wireOutcome(podUid: string, quality = 'healthy', state = true, result = 'ok'): WireOutcome {
  return { podUid, quality, state, result, exitCode: 0, errorKind: '', durationMs: 3, observedUnixMs: Date.now() };
}
