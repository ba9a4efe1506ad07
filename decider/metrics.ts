// Every metric the decider exports, in one registry. Labels are namespace / gameserverset / quality,
// never pod names, UIDs or anything rendered from a probe result. Set and quality names are user data
// too, bounded by the objects: a series exists only while its set declares the quality (the planner says
// which do), so deleting a set or a quality deletes its series. Created once in main.ts and handed to
// each component as its narrow port.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { ERROR_KINDS } from '../common/outcome.js';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../common/probe-duration-buckets.js';
import type { QualityCounters } from '../common/probe/types.js';
import { REJECT_REASONS, SESSION_REVOCATION_REASONS, STREAM_REFUSAL_REASONS, type IngestMetrics, type RejectReason, type SessionRevocationReason, type StreamRefusalReason } from './ingest/ports.js';
import type { PlannerMetrics } from './planner/planner.js';
import type { PipelineMetrics } from './pipeline/pipeline.js';
import { DECISION_WARNING_REASONS, type DecisionWarning } from '../rules/evaluate.js';
import type { StaleMetrics, StaleReason } from './pipeline/stale-tracker.js';
import type { BatcherMetrics } from './kube/write-batcher.js';
import type { WriteResource } from './kube/write-step.js';
import type { EventDropReason, EventMetrics } from './kube/event-recorder.js';
import { countOpsStates, type GameServerCount } from './ops-state-counts.js';

const LATENCY_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_SIZE_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 5000];
const WAIT_BUCKETS_SECONDS = [0, 0.001, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];

type SetLabels = 'namespace' | 'gameserverset';
type QualityLabels = SetLabels | 'quality';

/**
 * okgsq_probe_duration_seconds, fed from the agents' per-bucket counts (no per-run observation
 * reaches the decider), exposed as a Prometheus histogram.
 */
class ReportedHistogram {
  readonly name = 'okgsq_probe_duration_seconds';
  readonly help = 'Probe run durations as reported by the agents and the in-process prober.';
  private readonly series = new Map<string, { labels: Record<QualityLabels, string>; buckets: number[]; sum: number; count: number }>();

  add(c: QualityCounters): void {
    const key = qualityKey(c.namespace, c.gameServerSet, c.quality);
    let s = this.series.get(key);
    if (!s) {
      s = { labels: { namespace: c.namespace, gameserverset: c.gameServerSet, quality: c.quality }, buckets: new Array(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(key, s);
    }
    for (let i = 0; i < s.buckets.length; i++) {
      const n = c.durationBucketCounts[i] ?? 0;
      s.buckets[i]! += n;
      s.count += n;
    }
    s.sum += c.durationSumSeconds;
  }

  async get(): Promise<any> {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let cumulative = 0;
      PROBE_DURATION_BUCKETS_SECONDS.forEach((le, i) => {
        cumulative += s.buckets[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le }, value: cumulative });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { ...s.labels, le: '+Inf' }, value: s.count });
      values.push({ metricName: `${this.name}_sum`, labels: s.labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels: s.labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: 'histogram', aggregator: 'sum', values };
  }

  remove(namespace: string, gameServerSet: string, quality: string): void {
    this.series.delete(qualityKey(namespace, gameServerSet, quality));
  }
}

function qualityKey(namespace: string, gameServerSet: string, quality: string): string {
  return `${namespace}\u0000${gameServerSet}\u0000${quality}`;
}

/** Every (outcome, error_kind) pair okgsq_probe_runs_total can carry (ingest checks them), to remove a quality's series. */
const RUN_LABELS: readonly { outcome: string; error_kind: string }[] = ['true', 'false', 'unknown'].flatMap((outcome) =>
  ['', ...ERROR_KINDS].map((errorKind) => ({ outcome, error_kind: errorKind })),
);


export class DeciderMetrics implements IngestMetrics, PlannerMetrics, PipelineMetrics, StaleMetrics, BatcherMetrics, EventMetrics {
  readonly registry = new Registry();
  private readonly probeRuns: Counter<QualityLabels | 'outcome' | 'error_kind'>;
  private readonly probeDuration = new ReportedHistogram();
  private readonly actions: Counter<QualityLabels>;
  private readonly refusedValues: Counter<QualityLabels | 'reason'>;
  private readonly flipToPatchHist: Histogram<string>;
  private readonly kubeWrites: Counter<'resource' | 'verb' | 'code'>;
  private readonly eventsDroppedCounter: Counter<'reason'>;
  private readonly batchSizeHist: Histogram<string>;
  private readonly queueDepthGauge: Gauge<string>;
  private readonly limiterWait: Histogram<string>;
  private readonly agentsConnectedGauge: Gauge<string>;
  private readonly staleGauge: Gauge<SetLabels>;
  private readonly nodeStaleGauge: Gauge<'node' | 'reason'>;
  private readonly plannedNodesGauge: Gauge<string>;
  private readonly informerSynced: Gauge<'resource'>;
  private readonly leaderGauge: Gauge<string>;
  private readonly received: Counter<string>;
  private readonly rejected: Counter<'reason'>;
  private readonly throttled: Counter;
  private readonly refused: Counter<'reason'>;
  private readonly revoked: Counter<'reason'>;
  private readonly invalid: Gauge<SetLabels>;
  private readonly foreign: Counter<QualityLabels>;
  private gameServerSource: () => Iterable<GameServerCount> = () => [];
  /** namespace/set → the qualities it declares now: the only quality labels series may carry. */
  private readonly liveQualities = new Map<string, ReadonlySet<string>>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const source = (): Iterable<GameServerCount> => this.gameServerSource();
    this.probeRuns = new Counter({ name: 'okgsq_probe_runs_total', help: 'Probe runs by outcome and error kind, from the agents\' counters.', labelNames: ['namespace', 'gameserverset', 'quality', 'outcome', 'error_kind'], registers });
    this.registry.registerMetric(this.probeDuration as never);
    // No opsState label: a rendered opsState ("{{.Result}}") would make every probe result a series.
    this.actions = new Counter({ name: 'okgsq_actions_applied_total', help: 'Service quality actions applied to GameServers.', labelNames: ['namespace', 'gameserverset', 'quality'], registers });
    this.refusedValues = new Counter({ name: 'okgsq_action_values_refused_total', help: 'Values an action would set, left alone because Kubernetes or OKG would refuse them, by the Warning Event reason.', labelNames: ['namespace', 'gameserverset', 'quality', 'reason'], registers });
    this.flipToPatchHist = new Histogram({ name: 'okgsq_flip_to_patch_seconds', help: 'From an outcome change reaching the decider to its GameServer writes done.', buckets: LATENCY_BUCKETS_SECONDS, registers });
    this.kubeWrites = new Counter({ name: 'okgsq_kube_writes_total', help: 'Writes to the API server by resource, verb and HTTP code.', labelNames: ['resource', 'verb', 'code'], registers });
    this.eventsDroppedCounter = new Counter({ name: 'okgsq_events_dropped_total', help: 'Recorded Events no written Event counts, by reason: queue_full, expired (not written within the aggregation window), failed (write refused), not_leader.', labelNames: ['reason'], registers });
    this.batchSizeHist = new Histogram({ name: 'okgsq_batch_size', help: 'GameServers per flush of the write batcher.', buckets: BATCH_SIZE_BUCKETS, registers });
    this.queueDepthGauge = new Gauge({ name: 'okgsq_write_queue_depth', help: 'GameServers waiting to be written.', registers });
    this.limiterWait = new Histogram({ name: 'okgsq_ratelimiter_wait_seconds', help: 'Time writes waited for the client-side rate limiter.', buckets: WAIT_BUCKETS_SECONDS, registers });
    this.agentsConnectedGauge = new Gauge({ name: 'okgsq_agents_connected', help: 'Agents with an open stream.', registers });
    this.staleGauge = new Gauge({ name: 'okgsq_probes_stale', help: 'Planned probes whose node agent is missing, disconnected or silent.', labelNames: ['namespace', 'gameserverset'], registers });
    // One series per node whose probes are stale right now (none in a healthy cluster): bounded by the node count.
    this.nodeStaleGauge = new Gauge({ name: 'okgsq_node_probes_stale', help: 'Stale probes of a node whose agent is missing, disconnected or silent, by node and reason.', labelNames: ['node', 'reason'], registers });
    this.plannedNodesGauge = new Gauge({ name: 'okgsq_planned_nodes', help: 'Nodes with planned probes that need an agent (agentless nodes excluded): compare with okgsq_agents_connected.', registers });
    new Gauge({
      name: 'okgsq_gameservers',
      help: 'GameServers by opsState (per set: OKG\'s opsStates and the 10 most common others; the rest as _other).',
      labelNames: ['namespace', 'gameserverset', 'ops_state'],
      registers,
      collect() {
        this.reset();
        for (const c of countOpsStates(source())) this.set({ namespace: c.namespace, gameserverset: c.gameServerSet, ops_state: c.opsState }, c.count);
      },
    });
    this.informerSynced = new Gauge({ name: 'okgsq_informer_synced', help: '1 once the resource\'s first list has synced.', labelNames: ['resource'], registers });
    this.leaderGauge = new Gauge({ name: 'okgsq_leader', help: '1 while this replica holds the lease.', registers });
    this.received = new Counter({ name: 'okgsq_outcomes_received_total', help: 'Outcomes received from agents and the in-process prober.', registers });
    this.rejected = new Counter({ name: 'okgsq_outcomes_rejected_total', help: 'Outcomes not taken, by reason.', labelNames: ['reason'], registers });
    // A flooding agent is slowed (its stream paused), not dropped: this is how an operator sees it.
    this.throttled = new Counter({ name: 'okgsq_outcomes_throttled_total', help: 'Outcomes that arrived past a stream\'s rate limit and paused it (slowed, not dropped).', registers });
    // A standby refuses every agent the Service balances onto it: a steady not_leader rate there is normal.
    this.refused = new Counter({ name: 'okgsq_agent_streams_refused_total', help: 'Agent streams that got no session, by reason (not_leader on a standby is normal).', labelNames: ['reason'], registers });
    this.revoked = new Counter({ name: 'okgsq_agent_sessions_revoked_total', help: 'Agent sessions ended because their identity ended: token_expired, pod_gone.', labelNames: ['reason'], registers });
    this.invalid = new Gauge({ name: 'okgsq_invalid_qualities', help: 'serviceQualities entries skipped as invalid.', labelNames: ['namespace', 'gameserverset'], registers });
    this.foreign = new Counter({ name: 'okgsq_foreign_condition_writes_total', help: 'okg-sq pod conditions changed by another writer (e.g. kruise-daemon).', labelNames: ['namespace', 'gameserverset', 'quality'], registers });
    this.leaderGauge.set(0);
    this.agentsConnectedGauge.set(0);
    this.plannedNodesGauge.set(0);
    this.queueDepthGauge.set(0);
    // Every reason present from the start, so rate() sees the first refusal or rejection.
    for (const reason of STREAM_REFUSAL_REASONS) this.refused.inc({ reason }, 0);
    for (const reason of SESSION_REVOCATION_REASONS) this.revoked.inc({ reason }, 0);
    for (const reason of REJECT_REASONS) this.rejected.inc({ reason }, 0);
    for (const resource of ['gameserversets', 'gameservers', 'pods', 'nodes']) this.informerSynced.set({ resource }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Where okgsq_gameservers counts from (the GameServer cache), read at scrape time. */
  setGameServerSource(source: () => Iterable<GameServerCount>): void {
    this.gameServerSource = source;
  }

  // ingest
  outcomesReceived(count: number): void {
    this.received.inc(count);
  }
  outcomeRejected(reason: RejectReason, count: number): void {
    this.rejected.inc({ reason }, count);
  }
  outcomesThrottled(count: number): void {
    this.throttled.inc(count);
  }
  agentsConnected(count: number): void {
    this.agentsConnectedGauge.set(count);
  }
  streamRefused(reason: StreamRefusalReason): void {
    this.refused.inc({ reason });
  }
  sessionRevoked(reason: SessionRevocationReason): void {
    this.revoked.inc({ reason });
  }

  // planner
  /**
   * The qualities `gameServerSet` declares now (none: the set is gone). Series of qualities it no longer
   * declares are deleted, and no new series is made for them (an agent's late counters included).
   */
  qualitiesDeclared(namespace: string, gameServerSet: string, qualities: readonly string[]): void {
    const setKey = `${namespace}/${gameServerSet}`;
    const before = this.liveQualities.get(setKey) ?? new Set<string>();
    const now = new Set(qualities);
    if (now.size === 0) this.liveQualities.delete(setKey);
    else this.liveQualities.set(setKey, now);
    for (const quality of before) {
      if (now.has(quality)) continue;
      const labels = { namespace, gameserverset: gameServerSet, quality };
      for (const run of RUN_LABELS) this.probeRuns.remove({ ...labels, ...run });
      this.probeDuration.remove(namespace, gameServerSet, quality);
      this.actions.remove(labels);
      this.foreign.remove(labels);
      for (const reason of DECISION_WARNING_REASONS) this.refusedValues.remove({ ...labels, reason });
    }
  }

  private isLive(namespace: string, gameServerSet: string, quality: string): boolean {
    return this.liveQualities.get(`${namespace}/${gameServerSet}`)?.has(quality) ?? false;
  }

  invalidQualities(namespace: string, gameServerSet: string, count: number): void {
    if (count === 0) this.invalid.remove({ namespace, gameserverset: gameServerSet });
    else this.invalid.set({ namespace, gameserverset: gameServerSet }, count);
  }

  // pipeline
  probeCounters(counters: readonly QualityCounters[]): void {
    for (const c of counters) {
      if (!this.isLive(c.namespace, c.gameServerSet, c.quality)) continue;
      const labels = { namespace: c.namespace, gameserverset: c.gameServerSet, quality: c.quality };
      for (const r of c.runs) if (r.count > 0) this.probeRuns.inc({ ...labels, outcome: r.outcome, error_kind: r.errorKind }, r.count);
      this.probeDuration.add(c);
    }
  }
  actionApplied(namespace: string, gameServerSet: string, quality: string): void {
    if (this.isLive(namespace, gameServerSet, quality)) this.actions.inc({ namespace, gameserverset: gameServerSet, quality });
  }
  actionValueRefused(namespace: string, gameServerSet: string, quality: string, reason: DecisionWarning['reason']): void {
    if (this.isLive(namespace, gameServerSet, quality)) this.refusedValues.inc({ namespace, gameserverset: gameServerSet, quality, reason });
  }
  foreignConditionWrite(namespace: string, gameServerSet: string, quality: string): void {
    if (this.isLive(namespace, gameServerSet, quality)) this.foreign.inc({ namespace, gameserverset: gameServerSet, quality });
  }
  probesStale(counts: ReadonlyMap<string, { namespace: string; gameServerSet: string; count: number }>): void {
    this.staleGauge.reset();
    for (const c of counts.values()) this.staleGauge.set({ namespace: c.namespace, gameserverset: c.gameServerSet }, c.count);
  }
  nodesStale(plannedNodes: number, stale: ReadonlyMap<string, { reason: StaleReason; count: number }>): void {
    this.plannedNodesGauge.set(plannedNodes);
    this.nodeStaleGauge.reset();
    for (const [node, s] of stale) this.nodeStaleGauge.set({ node, reason: s.reason }, s.count);
  }

  // writes
  write(resource: WriteResource | 'events' | 'leases', verb: string, code: string): void {
    this.kubeWrites.inc({ resource, verb, code });
  }
  eventsDropped(reason: EventDropReason, occurrences: number): void {
    this.eventsDroppedCounter.inc({ reason }, occurrences);
  }
  batchSize(size: number): void {
    this.batchSizeHist.observe(size);
  }
  queueDepth(depth: number): void {
    this.queueDepthGauge.set(depth);
  }
  rateLimiterWait(seconds: number): void {
    this.limiterWait.observe(seconds);
  }
  flipToPatch(seconds: number): void {
    this.flipToPatchHist.observe(seconds);
  }

  // lifecycle
  synced(resource: string, synced: boolean): void {
    this.informerSynced.set({ resource }, synced ? 1 : 0);
  }
  leader(leading: boolean): void {
    this.leaderGauge.set(leading ? 1 : 0);
  }
}
