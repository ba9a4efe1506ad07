// One authenticated agent stream: pushes the node's plan (full, then coalesced deltas with increasing
// generations) and takes the agent's outcome batches (checked, filtered to the node's plan, throttled).
import { status as GrpcStatus, type ServerDuplexStream } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { probeKeyString, type Outcome, type ProbeKey } from '../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../common/probe/types.js';
import type { DeciderMessage, OutcomeBatch } from '../../proto/gen/okgsq/v1/agent.js';
import { isUndecodable, type IncomingMessage } from './agent-message.js';
import { countersFromWire, outcomeFromWire } from '../../common/wire/outcomes.js';
import { planUpdates } from '../../common/wire/plan.js';
import type { AgentIdentity, IngestMetrics, OutcomeSink, PlanDelta, PlanSource, RejectReason } from './ports.js';
import { TokenBucket } from '../../common/token-bucket.js';

export interface SessionLimits {
  /** Sustained outcomes per second one stream may deliver before it is slowed down. */
  readonly outcomesPerSecondPerStream: number;
  /** Outcomes a stream may deliver at once (a full resync of a big node) before it is slowed down. */
  readonly outcomeBurstPerStream: number;
  /** Plan messages queued for an agent that does not read; beyond it the stream is ended. */
  readonly maxPendingPlanUpdates: number;
  /** Sent in every PlanUpdate; 0 keeps the agent's default. */
  readonly resyncIntervalSeconds: number;
}

export interface SessionDeps {
  readonly plans: PlanSource;
  readonly sink: OutcomeSink;
  readonly metrics: IngestMetrics;
  readonly logger: Logger;
  readonly limits: SessionLimits;
  readonly clock: Clock;
}

type Call = ServerDuplexStream<IncomingMessage, DeciderMessage>;
type PendingChange = { upsert: ProbeTarget } | { remove: ProbeKey };

function labelKey(namespace: string, gameServerSet: string, quality: string): string {
  return `${namespace}\u0000${gameServerSet}\u0000${quality}`;
}

export class AgentSession {
  private generation = 0;
  private ended = false;
  private unsubscribe: (() => void) | undefined;
  private pending = new Map<string, PendingChange>();
  private flushScheduled = false;
  private resumeTimer: TimerHandle | undefined;
  /** (namespace, set, quality) ever planned on this stream: the only labels its counters may use. */
  private readonly plannedLabels = new Set<string>();
  private readonly loggedRejections = new Set<RejectReason>();
  private readonly bucket: TokenBucket;

  constructor(
    /** Who the stream authenticated as; the service ends the session when this no longer holds. */
    readonly identity: AgentIdentity,
    private readonly call: Call,
    private readonly deps: SessionDeps,
    private readonly onEnded: (session: AgentSession) => void,
  ) {
    this.bucket = new TokenBucket(deps.limits.outcomesPerSecondPerStream, deps.limits.outcomeBurstPerStream, deps.clock);
  }

  get node(): string {
    return this.identity.node;
  }

  /**
   * Takes the stream's events, subscribes to the node's plan and sends it in full. From here every way
   * the stream can end (the agent ends or cancels it, the transport fails, the service ends it) goes
   * through end(), which undoes all of this once.
   */
  start(): void {
    this.call.on('data', this.onData);
    this.call.on('end', this.onEnd);
    this.call.on('cancelled', this.onGone);
    this.call.on('close', this.onGone);
    this.call.on('error', this.onGone);
    const { initial, unsubscribe } = this.deps.plans.subscribe(this.node, (delta) => this.onDelta(delta));
    this.unsubscribe = unsubscribe;
    for (const t of initial) this.rememberLabels(t);
    this.send(planUpdates(true, initial, [], this.deps.limits.resyncIntervalSeconds));
    this.deps.logger.info({ [LOG.node]: this.node, [LOG.generation]: this.generation, probes: initial.length }, 'agent plan sent');
  }

  handle(message: IncomingMessage): void {
    if (this.ended) return;
    if (isUndecodable(message)) {
      this.deps.logger.warn({ [LOG.node]: this.node, [LOG.reason]: message.undecodable }, 'agent message does not decode');
      this.end(GrpcStatus.INVALID_ARGUMENT, 'a message does not decode as an okgsq.v1.AgentMessage');
      return;
    }
    const body = message.body;
    if (body?.$case === 'outcomes') {
      this.onBatch(body.value);
    } else {
      this.end(GrpcStatus.INVALID_ARGUMENT, 'only OutcomeBatch messages may follow Hello');
    }
  }

  /** The one way out: ends the stream (status OK ends it cleanly), lets go of its events, stops the plan
   * subscription and the throttle, and tells the service once. Idempotent. */
  end(code: GrpcStatus, details: string): void {
    if (this.ended) return;
    this.ended = true;
    this.call.off('data', this.onData);
    this.call.off('end', this.onEnd);
    this.call.off('cancelled', this.onGone);
    this.call.off('close', this.onGone);
    this.call.off('error', this.onGone);
    this.unsubscribe?.();
    this.pending.clear();
    this.resumeTimer?.cancel();
    try {
      if (code === GrpcStatus.OK) this.call.end();
      else this.call.emit('error', { code, details });
    } catch {
      // The call is already closed by the peer: nothing left to tell it.
    }
    this.onEnded(this);
  }

  private readonly onData = (message: IncomingMessage): void => this.handle(message);
  /** The agent closed its side: it is done, the stream ends cleanly. */
  private readonly onEnd = (): void => this.end(GrpcStatus.OK, 'OK');
  /** Cancelled by the agent, closed or failed underneath: nothing more will come. */
  private readonly onGone = (): void => this.end(GrpcStatus.CANCELLED, 'stream gone');

  get isEnded(): boolean {
    return this.ended;
  }

  private onDelta(delta: PlanDelta): void {
    if (this.ended) return;
    // Coalesce per key until the next turn of the event loop: the planner may emit many small deltas
    // for one informer event, the agent gets one message.
    for (const t of delta.upsert) this.pending.set(probeKeyString(t.key), { upsert: t });
    for (const k of delta.remove) this.pending.set(probeKeyString(k), { remove: k });
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flushDelta());
    }
  }

  private flushDelta(): void {
    this.flushScheduled = false;
    if (this.ended || this.pending.size === 0) return;
    const upsert: ProbeTarget[] = [];
    const remove: ProbeKey[] = [];
    for (const change of this.pending.values()) {
      if ('upsert' in change) {
        upsert.push(change.upsert);
        this.rememberLabels(change.upsert);
      } else {
        remove.push(change.remove);
      }
    }
    this.pending.clear();
    this.send(planUpdates(false, upsert, remove, this.deps.limits.resyncIntervalSeconds));
    this.deps.logger.debug(
      { [LOG.node]: this.node, [LOG.generation]: this.generation, upserts: upsert.length, removals: remove.length },
      'agent plan delta sent',
    );
  }

  private send(updates: ReturnType<typeof planUpdates>): void {
    for (const update of updates) {
      if (this.ended) return;
      // An agent that stops reading would make us buffer every delta forever: cut it off instead;
      // when it reconnects it gets a fresh full plan.
      if (this.call.writableLength >= this.deps.limits.maxPendingPlanUpdates) {
        this.end(GrpcStatus.RESOURCE_EXHAUSTED, 'agent is not reading its plan updates');
        return;
      }
      this.generation += 1;
      this.call.write({ body: { $case: 'plan', value: { ...update, generation: this.generation } } });
    }
  }

  private onBatch(batch: OutcomeBatch): void {
    const received = batch.outcomes.length;
    if (received > 0) this.deps.metrics.outcomesReceived(received);

    const accepted: Outcome[] = [];
    let invalid = 0;
    let unplanned = 0;
    for (const wire of batch.outcomes) {
      const outcome = outcomeFromWire(wire);
      if (outcome === undefined) {
        invalid++;
        this.logRejection('invalid', wire.podUid, wire.quality);
      } else if (!this.deps.plans.isPlanned(this.node, outcome)) {
        unplanned++;
        this.logRejection('unplanned', outcome.podUid, outcome.quality);
      } else {
        accepted.push(outcome);
      }
    }
    if (invalid > 0) this.deps.metrics.outcomeRejected('invalid', invalid);
    if (unplanned > 0) this.deps.metrics.outcomeRejected('unplanned', unplanned);
    if (accepted.length > 0) this.deps.sink.accept(this.node, accepted);

    const counters: QualityCounters[] = [];
    for (const wire of batch.counters) {
      const c = countersFromWire(wire);
      // Only labels of this node's plan: an agent must not be able to mint metric series.
      if (c !== undefined && this.plannedLabels.has(labelKey(c.namespace, c.gameServerSet, c.quality))) {
        counters.push(c);
      } else {
        this.logRejection('invalid', '', wire.quality);
      }
    }
    if (counters.length > 0) this.deps.sink.recordCounters(this.node, counters);

    this.throttle(received);
  }

  /** Past its rate, a stream is paused (HTTP/2 flow control then stops the agent): slowed, not dropped. */
  private throttle(count: number): void {
    if (count === 0) return;
    const waitMs = this.bucket.take(count);
    if (waitMs === 0 || this.ended) return;
    this.deps.metrics.outcomesThrottled?.(count);
    this.call.pause();
    this.resumeTimer?.cancel();
    this.resumeTimer = this.deps.clock.setTimeout(() => {
      this.resumeTimer = undefined;
      if (!this.ended) this.call.resume();
    }, waitMs);
  }

  private rememberLabels(t: ProbeTarget): void {
    this.plannedLabels.add(labelKey(t.namespace, t.gameServerSet, t.key.quality));
  }

  private logRejection(reason: RejectReason, podUid: string, quality: string): void {
    // Once per reason per stream at warn: a misbehaving agent must not flood the log.
    const level = this.loggedRejections.has(reason) ? 'debug' : 'warn';
    this.loggedRejections.add(reason);
    this.deps.logger[level]({ [LOG.node]: this.node, [LOG.podUid]: podUid, [LOG.quality]: quality, reason }, 'agent outcome rejected');
  }
}
