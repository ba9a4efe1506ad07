// Probes the pods of nodes without an agent (serverless / virtual nodes) from inside the decider: the
// agent's probe engine with other adapters. http/tcp/grpc go straight to the pod IP; exec goes through
// the Kubernetes exec API only when the operator opted in (OKGSQ_REMOTE_EXEC=true).
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { probeKeyString, type Outcome, type ProbeKey } from '../../common/outcome.js';
import { ProbeEngine } from '../../common/probe/probe-engine.js';
import type { ContainerStates, ExecRuntime, ProbeTarget } from '../../common/probe/types.js';
import { AGENTLESS_NODE, type IngestMetrics, type OutcomeSink, type PlanDelta, type PlanSource } from './ports.js';

/** How often run counters go to the sink (the agents report on their own batches). */
export const AGENTLESS_COUNTERS_INTERVAL_MS = 10_000;

/** The part of ProbeEngine the prober drives (tests may pass a fake). */
export interface AgentlessEngine {
  upsert(targets: ProbeTarget[]): void;
  remove(keys: ProbeKey[]): void;
  takeCounters(): ReturnType<ProbeEngine['takeCounters']>;
  start(): void;
  stop(): Promise<void>;
}

export interface AgentlessProberOptions {
  readonly plans: PlanSource;
  readonly sink: OutcomeSink;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  /** KubeExecRuntime when OKGSQ_REMOTE_EXEC=true; undefined: exec qualities are not probeable here. */
  readonly remoteExec?: ExecRuntime;
  /** Whether the pods' containers run (their status in the cache): a down container is not probed. */
  readonly containers?: ContainerStates;
  readonly maxConcurrentExecs?: number;
  readonly countersIntervalMs?: number;
  /** Times the counters flush and the engine's probes; the system clock by default. */
  readonly clock?: Clock;
  /** Builds the engine; the default is the shared ProbeEngine. */
  readonly createEngine?: (onOutcome: (outcome: Outcome, target: ProbeTarget) => void) => AgentlessEngine;
}

export class AgentlessProber {
  private engine: AgentlessEngine | undefined;
  private unsubscribe: (() => void) | undefined;
  private countersTimer: TimerHandle | undefined;
  private readonly clock: Clock;
  /** Exec targets we could not take, reported once each (until they leave the plan). */
  private readonly notProbeable = new Set<string>();
  private readonly logger: Logger;

  constructor(private readonly options: AgentlessProberOptions) {
    this.logger = options.logger.child({ [LOG.component]: 'agentless-prober' });
    this.clock = options.clock ?? systemClock;
  }

  get running(): boolean {
    return this.engine !== undefined;
  }

  /** Starts probing the agentless plan (on becoming leader). Idempotent. */
  activate(): void {
    if (this.engine) return;
    const onOutcome = (outcome: Outcome): void => {
      // A probe may finish just after its pod left the plan: such an outcome is dropped.
      if (this.options.plans.isPlanned(AGENTLESS_NODE, outcome)) this.options.sink.accept(AGENTLESS_NODE, [outcome]);
    };
    const engine = this.options.createEngine
      ? this.options.createEngine(onOutcome)
      : new ProbeEngine({
          exec: this.options.remoteExec,
          containers: this.options.containers,
          onOutcome,
          logger: this.logger,
          clock: this.clock,
          ...(this.options.maxConcurrentExecs ? { maxConcurrentExecs: this.options.maxConcurrentExecs } : {}),
        });
    this.engine = engine;
    const { initial, unsubscribe } = this.options.plans.subscribe(AGENTLESS_NODE, (delta) => this.apply(delta));
    this.unsubscribe = unsubscribe;
    this.apply({ upsert: initial, remove: [] });
    engine.start();
    this.options.sink.agentConnected(AGENTLESS_NODE);
    this.scheduleCounters();
    this.logger.info({ probes: initial.length, remoteExec: this.options.remoteExec !== undefined }, 'agentless prober started');
  }

  /** Shutdown: as deactivate. */
  stop(): Promise<void> {
    return this.deactivate();
  }

  /** Stops probing (lost leadership, shutdown); in-flight probes are aborted. Idempotent. */
  async deactivate(): Promise<void> {
    const engine = this.engine;
    if (!engine) return;
    this.engine = undefined;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.countersTimer?.cancel();
    this.countersTimer = undefined;
    await engine.stop();
    this.flushCountersOf(engine);
    this.notProbeable.clear();
    this.options.sink.agentDisconnected(AGENTLESS_NODE);
    this.logger.info({}, 'agentless prober stopped');
  }

  private apply(delta: PlanDelta): void {
    const engine = this.engine;
    if (!engine) return;
    const probeable: ProbeTarget[] = [];
    for (const t of delta.upsert) {
      if (t.handler.kind === 'exec' && !this.options.remoteExec) this.reportNotProbeable(t);
      else probeable.push(t);
    }
    for (const k of delta.remove) this.notProbeable.delete(probeKeyString(k));
    // A target whose handler changed to exec must stop running its old probe.
    const dropped = delta.upsert.filter((t) => !probeable.includes(t)).map((t) => t.key);
    if (probeable.length > 0) engine.upsert(probeable);
    if (delta.remove.length > 0 || dropped.length > 0) engine.remove([...delta.remove, ...dropped]);
  }

  /** No False outcome: the pod is healthy as far as we know, we just cannot look inside it. */
  private reportNotProbeable(t: ProbeTarget): void {
    const key = probeKeyString(t.key);
    if (this.notProbeable.has(key)) return;
    this.notProbeable.add(key);
    this.options.metrics.outcomeRejected('not_probeable', 1);
    this.logger.warn(
      { [LOG.namespace]: t.namespace, [LOG.gameServerSet]: t.gameServerSet, [LOG.pod]: t.podName, [LOG.quality]: t.key.quality },
      'exec quality on a node without an agent is not probed (set OKGSQ_REMOTE_EXEC=true to allow pods/exec)',
    );
  }

  private scheduleCounters(): void {
    this.countersTimer = this.clock.setTimeout(() => {
      if (!this.engine) return;
      this.flushCountersOf(this.engine);
      this.scheduleCounters();
    }, this.options.countersIntervalMs ?? AGENTLESS_COUNTERS_INTERVAL_MS);
  }

  private flushCountersOf(engine: AgentlessEngine): void {
    const counters = engine.takeCounters();
    if (counters.length > 0) this.options.sink.recordCounters(AGENTLESS_NODE, counters);
  }
}
