// One stream to the decider, from Hello to its end: the plan in (full + deltas → the probe engine; keys a
// full plan lacks dropped once its messages stop coming), outcomes out (latest per key, coalesced for a
// few ms, bounded batches, held back by flow control), a full resync once the plan has settled and then
// periodically, counters when the reporter's tick asks. The connection loop around it (channels,
// backoff, the not-leader dance) is AgentReporter's; what a session held ends with it, in one place.
import type { Logger } from 'pino';
import { Metadata, status as GrpcStatus, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import type { Clock, TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { probeKeyString, type Outcome, type ProbeKey } from '../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../common/probe/types.js';
import { countersToWire, outcomeToWire } from '../../common/wire/outcomes.js';
import { assignmentToTarget, refToKey } from '../../common/wire/plan.js';
import type { AgentMessage, AgentServiceClient, DeciderMessage, Hello, PlanUpdate } from '../../proto/gen/okgsq/v1/agent.js';

/** The part of ProbeEngine the reporter drives. */
export interface ReporterEngine {
  upsert(targets: ProbeTarget[]): void;
  remove(keys: ProbeKey[]): void;
  published(): Outcome[];
  keys(): ProbeKey[];
  takeCounters(): QualityCounters[];
  readonly size: number;
}

export interface ReportSessionOptions {
  readonly client: AgentServiceClient;
  /** The ServiceAccount token ('' for none). */
  readonly token: string;
  readonly hello: Hello;
  readonly engine: ReporterEngine;
  /** Outcomes not sent yet, latest per key: the reporter's, kept across sessions. */
  readonly pending: Map<string, Outcome>;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly batchWindowMs: number;
  readonly maxBatchSize: number;
  readonly planSettleMs: number;
  /** Until a plan says otherwise. */
  readonly resyncIntervalMs: number;
  readonly closeGraceMs: number;
  /** The first plan arrived: the agent counts as connected from here. */
  readonly onPlan: () => void;
}

type Stream = ClientDuplexStream<AgentMessage, DeciderMessage>;

export class ReportSession {
  private readonly o: ReportSessionOptions;
  private stream: Stream | undefined;
  private gotPlan = false;
  private planSettled = false;
  private generation = 0;
  private resyncIntervalMs: number;
  private fullPlanKeys: Set<string> | undefined;
  private settleTimer: TimerHandle | undefined;
  private flushTimer: TimerHandle | undefined;
  private resyncTimer: TimerHandle | undefined;
  private waitingDrain = false;
  private closing = false;
  private forcedClose: TimerHandle | undefined;

  constructor(options: ReportSessionOptions) {
    this.o = options;
    this.resyncIntervalMs = options.resyncIntervalMs;
  }

  /** Whether the stream carried a plan (the decider took the agent). */
  get carriedPlan(): boolean {
    return this.gotPlan;
  }

  /**
   * Runs the stream. Resolves when the decider ends it with OK or after close(); rejects with the
   * stream's ServiceError otherwise. Either way everything the session held is released first.
   */
  run(): Promise<void> {
    const metadata = new Metadata();
    if (this.o.token) metadata.set('authorization', `Bearer ${this.o.token}`);
    const stream = this.o.client.connect(metadata);
    this.stream = stream;
    return new Promise<void>((resolve, reject) => {
      stream.on('data', (msg: DeciderMessage) => {
        if (msg.body?.$case !== 'plan') return;
        if (!this.gotPlan) {
          this.gotPlan = true;
          this.o.onPlan();
        }
        this.applyPlan(msg.body.value);
      });
      stream.on('drain', () => {
        this.waitingDrain = false;
        this.flush();
      });
      stream.on('error', (err: ServiceError) => {
        this.end();
        if (err.code === GrpcStatus.CANCELLED && this.closing) resolve();
        else reject(err);
      });
      stream.on('status', (s: { code: number }) => {
        this.end();
        if (s.code === GrpcStatus.OK) resolve();
      });
      stream.write({ body: { $case: 'hello', value: this.o.hello } });
    });
  }

  /** Sends what is pending, half-closes, and cancels the stream if the decider has not ended it after a grace. */
  close(): void {
    const stream = this.stream;
    if (!stream || this.closing) return;
    this.closing = true;
    this.flush();
    stream.end();
    this.forcedClose = this.o.clock.setTimeout(() => stream.cancel(), this.o.closeGraceMs);
  }

  /** New outcomes are pending: sent after the batch window. */
  offered(): void {
    if (this.flushTimer || !this.planSettled) return;
    this.flushTimer = this.o.clock.setTimeout(() => {
      this.flushTimer = undefined;
      this.flush();
    }, this.o.batchWindowMs);
  }

  /** Sends the engine's counters since the last report; false (nothing taken) before the first plan. */
  sendCounters(): boolean {
    const stream = this.stream;
    if (!stream || !this.gotPlan) return false;
    const counters = this.o.engine.takeCounters();
    if (counters.length > 0) {
      stream.write({ body: { $case: 'outcomes', value: { outcomes: [], resync: false, counters: counters.map(countersToWire), planGeneration: this.generation } } });
    }
    return true;
  }

  /** The one cleanup: the stream is over, nothing of it may act any more. */
  private end(): void {
    this.stream = undefined;
    this.planSettled = false;
    this.waitingDrain = false;
    for (const t of [this.settleTimer, this.flushTimer, this.resyncTimer, this.forcedClose]) t?.cancel();
    this.flushTimer = undefined;
  }

  private applyPlan(update: PlanUpdate): void {
    const { engine, pending, logger } = this.o;
    this.generation = update.generation;
    if (update.resyncIntervalSeconds > 0) this.resyncIntervalMs = update.resyncIntervalSeconds * 1000;
    const targets: ProbeTarget[] = [];
    for (const a of update.upsert) {
      const t = assignmentToTarget(a);
      if (t) targets.push(t);
      else logger.warn({ [LOG.podUid]: a.podUid, [LOG.quality]: a.quality }, 'plan assignment without a usable handler; skipped');
    }
    const removals = update.remove.map(refToKey);
    if (update.full) this.fullPlanKeys = new Set();
    if (this.fullPlanKeys) {
      for (const t of targets) this.fullPlanKeys.add(probeKeyString(t.key));
      for (const r of removals) this.fullPlanKeys.delete(probeKeyString(r));
    }
    engine.upsert(targets);
    engine.remove(removals);
    for (const r of removals) pending.delete(probeKeyString(r));
    if (this.fullPlanKeys) {
      // Keys the full plan lacks are dropped once its messages stop coming; until then the engine keeps
      // their state, so a reconnect never loses an outcome the new plan still has.
      this.settleTimer?.cancel();
      this.settleTimer = this.o.clock.setTimeout(() => this.settlePlan(), this.o.planSettleMs);
    }
    logger.debug({ [LOG.generation]: update.generation, full: update.full, upserts: targets.length, removals: removals.length }, 'plan applied');
  }

  private settlePlan(): void {
    const keep = this.fullPlanKeys ?? new Set<string>();
    this.fullPlanKeys = undefined;
    const gone = this.o.engine.keys().filter((k) => !keep.has(probeKeyString(k)));
    this.o.engine.remove(gone);
    for (const k of gone) this.o.pending.delete(probeKeyString(k));
    this.planSettled = true;
    this.resync();
  }

  private resync(): void {
    this.resyncTimer?.cancel();
    const stream = this.stream;
    if (!stream || this.closing) return;
    const all = this.o.engine.published();
    this.o.pending.clear();
    const max = this.o.maxBatchSize;
    let i = 0;
    do {
      const chunk = all.slice(i, i + max);
      i += chunk.length;
      stream.write({ body: { $case: 'outcomes', value: { outcomes: chunk.map(outcomeToWire), resync: true, counters: [], planGeneration: this.generation } } });
    } while (i < all.length);
    this.o.logger.debug({ outcomes: all.length }, 'resync sent');
    this.resyncTimer = this.o.clock.setTimeout(() => this.resync(), this.resyncIntervalMs);
  }

  private flush(): void {
    const stream = this.stream;
    if (!stream || !this.planSettled || this.waitingDrain) return;
    const pending = this.o.pending;
    while (pending.size > 0) {
      const batch: Outcome[] = [];
      for (const [key, o] of pending) {
        batch.push(o);
        pending.delete(key);
        if (batch.length >= this.o.maxBatchSize) break;
      }
      const ok = stream.write({ body: { $case: 'outcomes', value: { outcomes: batch.map(outcomeToWire), resync: false, counters: [], planGeneration: this.generation } } });
      if (!ok) {
        // Flow control: the rest waits for 'drain' (and stays latest-per-key meanwhile).
        this.waitingDrain = true;
        return;
      }
    }
  }
}
