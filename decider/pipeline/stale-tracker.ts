// A node whose agent is disconnected, missing or silent makes its probes stale. Stale is never False:
// nothing is written, the last written state stands; it is counted (okgsq_probes_stale) and reported
// with a Warning Event on each affected GameServerSet.
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import type { ProbeTarget } from '../../common/probe/types.js';
import { AGENTLESS_NODE } from '../ingest/ports.js';
import { gameServerSetRef, type EventSink } from '../kube/object-ref.js';

/** How often stale agents are looked for while the tracker runs. */
export const STALE_CHECK_INTERVAL_MS = 5_000;

export interface StaleMetrics {
  /** Replaces the whole okgsq_probes_stale gauge: (namespace, set) → stale probes. */
  probesStale(counts: ReadonlyMap<string, { namespace: string; gameServerSet: string; count: number }>): void;
  /**
   * okgsq_planned_nodes (nodes with planned probes that need an agent: what okgsq_agents_connected is
   * compared with) and okgsq_node_probes_stale (node → its stale probes and why), replaced as a whole.
   */
  nodesStale(plannedNodes: number, stale: ReadonlyMap<string, { reason: StaleReason; count: number }>): void;
}

export interface StaleTrackerOptions {
  readonly plans: { nodes(): string[]; planOf(node: string): ProbeTarget[] };
  readonly staleAfterMs: number;
  readonly clock: Clock;
  readonly events: EventSink;
  readonly metrics: StaleMetrics;
  readonly logger: Logger;
}

interface NodeState {
  connected: boolean;
  lastHeardMs: number;
}

export type StaleReason = 'disconnected' | 'silent' | 'no_agent';

export class StaleTracker {
  private readonly nodes = new Map<string, NodeState>();
  private readonly stale = new Map<string, StaleReason>();
  private startedMs: number;
  private readonly log: Logger;
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: StaleTrackerOptions) {
    this.startedMs = opts.clock.now();
    this.log = opts.logger.child({ [LOG.component]: 'stale-tracker' });
  }

  /** Checks every STALE_CHECK_INTERVAL_MS until stop(). */
  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.check();
      this.timer = this.opts.clock.setTimeout(tick, STALE_CHECK_INTERVAL_MS);
    };
    this.timer = this.opts.clock.setTimeout(tick, STALE_CHECK_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /** Forget every node (became leader: agents reconnect to us now; give them the stale period to do so). */
  activate(): void {
    this.nodes.clear();
    this.stale.clear();
    this.startedMs = this.opts.clock.now();
  }

  connected(node: string): void {
    this.nodes.set(node, { connected: true, lastHeardMs: this.opts.clock.now() });
  }

  disconnected(node: string): void {
    const s = this.nodes.get(node);
    if (s) s.connected = false;
  }

  heard(node: string): void {
    const s = this.nodes.get(node);
    if (s) s.lastHeardMs = this.opts.clock.now();
    else this.nodes.set(node, { connected: true, lastHeardMs: this.opts.clock.now() });
  }

  /** Why `node`'s outcomes are stale right now, or undefined. */
  staleReason(node: string): StaleReason | undefined {
    if (node === AGENTLESS_NODE) return undefined;
    const now = this.opts.clock.now();
    const s = this.nodes.get(node);
    if (!s) return now - this.startedMs > this.opts.staleAfterMs ? 'no_agent' : undefined;
    if (!s.connected) return 'disconnected';
    return now - s.lastHeardMs > this.opts.staleAfterMs ? 'silent' : undefined;
  }

  /** Re-evaluates every planned node; call on a short interval. */
  check(): void {
    const counts = new Map<string, { namespace: string; gameServerSet: string; count: number }>();
    const nowStale = new Map<string, StaleReason>();
    const perNode = new Map<string, { reason: StaleReason; count: number }>();
    let plannedNodes = 0;
    for (const node of this.opts.plans.nodes()) {
      if (node !== AGENTLESS_NODE && this.opts.plans.planOf(node).length > 0) plannedNodes++;
      const reason = this.staleReason(node);
      if (!reason) continue;
      nowStale.set(node, reason);
      perNode.set(node, { reason, count: this.opts.plans.planOf(node).length });
      const perSet = new Map<string, { namespace: string; gameServerSet: string; count: number }>();
      for (const t of this.opts.plans.planOf(node)) {
        const k = `${t.namespace}/${t.gameServerSet}`;
        const c = counts.get(k) ?? { namespace: t.namespace, gameServerSet: t.gameServerSet, count: 0 };
        c.count++;
        counts.set(k, c);
        const s = perSet.get(k) ?? { namespace: t.namespace, gameServerSet: t.gameServerSet, count: 0 };
        s.count++;
        perSet.set(k, s);
      }
      if (this.stale.get(node) !== reason) {
        this.log.warn({ [LOG.node]: node, [LOG.reason]: reason }, 'probes stale');
        for (const s of perSet.values()) {
          this.opts.events.record(
            gameServerSetRef(s.namespace, s.gameServerSet),
            'Warning',
            'ProbesStale',
            `${s.count} probes on node ${node} are stale (${reason}); the last written states stand`,
            node,
          );
        }
      }
    }
    for (const node of this.stale.keys()) {
      if (!nowStale.has(node)) this.log.info({ [LOG.node]: node }, 'probes fresh again');
    }
    this.stale.clear();
    for (const [n, r] of nowStale) this.stale.set(n, r);
    this.opts.metrics.probesStale(counts);
    this.opts.metrics.nodesStale(plannedNodes, perNode);
  }
}
