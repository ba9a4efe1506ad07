// The agent's own /metrics (prom-client, its own registry). Labels are low-cardinality: outcome, error
// kind, CRI method and code; never pod names (the decider has the per-quality view).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../common/probe-duration-buckets.js';

export class AgentMetrics {
  readonly registry = new Registry();
  private readonly runs: Counter<'outcome' | 'error_kind'>;
  private readonly duration: Histogram;
  private readonly criCalls: Counter<'method' | 'code'>;
  private readonly connected: Gauge;

  constructor(probeCount: () => number) {
    // The event-loop lag sampler wakes the process at this precision; the default 10 ms costs ~1 % of a
    // core on an idle agent, on every node.
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 100 });
    this.runs = new Counter({
      name: 'okgsq_agent_probe_runs_total',
      help: 'Probe runs on this node by outcome (true, false, unknown = could not run) and error kind.',
      labelNames: ['outcome', 'error_kind'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'okgsq_agent_probe_duration_seconds',
      help: 'Duration of probe runs on this node.',
      buckets: [...PROBE_DURATION_BUCKETS_SECONDS],
      registers: [this.registry],
    });
    this.criCalls = new Counter({
      name: 'okgsq_agent_cri_calls_total',
      help: 'CRI calls by method and gRPC status code.',
      labelNames: ['method', 'code'],
      registers: [this.registry],
    });
    this.connected = new Gauge({
      name: 'okgsq_agent_stream_connected',
      help: '1 while the stream to the decider is up.',
      registers: [this.registry],
    });
    new Gauge({
      name: 'okgsq_agent_probes',
      help: 'Probes registered on this node.',
      registers: [this.registry],
      collect() {
        this.set(probeCount());
      },
    });
  }

  probeRun(outcome: string, errorKind: string, durationMs: number): void {
    this.runs.inc({ outcome, error_kind: errorKind });
    this.duration.observe(durationMs / 1000);
  }

  criCall(method: string, code: string): void {
    this.criCalls.inc({ method, code });
  }

  streamConnected(connected: boolean): void {
    this.connected.set(connected ? 1 : 0);
  }
}
