// The probe engine shared by the agent (CRI exec), the decider's agentless prober (Kubernetes exec, or
// none) and `okg-sq local` (processes). It owns timing and thresholds like the kubelet's prober: each
// key runs every period after an initial jitter and its initial delay; keys are grouped into time slots
// (one timer for the engine, not one per probe: timer wake-ups dominate an idle agent's CPU); execs are
// admitted by ExecSlots; onOutcome is called only when a key's published (state, result) changes.
import type { Logger } from 'pino';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import { LOG } from '../log-fields.js';
import { probeKeyString, type Outcome, type ProbeKey } from '../outcome.js';
import { ExecSlots } from './exec-slots.js';
import { ProbeCounters } from './probe-counters.js';
import { ProbeWorker, type CompletedRun, type StepResult } from './probe-worker.js';
import type { ContainerStates, ExecRuntime, ProbeTarget, QualityCounters } from './types.js';
import type { LifecycleState } from '../lifecycle.js';

export const DEFAULT_MAX_CONCURRENT_EXECS = 16;
/** Probes due within the same slot run together on one timer wake-up. */
export const DEFAULT_SLOT_MS = 100;

export interface ProbeEngineOptions {
  readonly exec?: ExecRuntime | undefined;
  /** Whether containers run (docs/design.md §18 "A container that is not running"); default: `exec`. */
  readonly containers?: ContainerStates | undefined;
  readonly onOutcome: (outcome: Outcome, target: ProbeTarget) => void;
  readonly clock?: Clock;
  readonly maxConcurrentExecs?: number;
  readonly slotMs?: number;
  readonly logger?: Logger;
  /** Every completed run, for the program's own metrics. */
  readonly onRun?: (run: CompletedRun, target: ProbeTarget) => void;
  /** [0, 1) source for the initial jitter; tests pass a constant. */
  readonly random?: () => number;
}

interface Scheduled {
  readonly worker: ProbeWorker;
  /** When this key is next due, Unix ms. */
  dueMs: number;
  slot: number;
  running: Promise<void> | undefined;
}

/** Which probe a log line is about (built only when a line is written: this is the hot path). */
function targetFields(target: ProbeTarget): Record<string, string> {
  return { [LOG.namespace]: target.namespace, [LOG.pod]: target.podName, [LOG.quality]: target.key.quality };
}

export class ProbeEngine {
  private readonly options: ProbeEngineOptions;
  private readonly clock: Clock;
  private readonly slotMs: number;
  private readonly random: () => number;
  private readonly slots: ExecSlots;
  private readonly counters = new ProbeCounters();
  private readonly scheduled = new Map<string, Scheduled>();
  /** slot index → keys due in it */
  private readonly due = new Map<number, Set<Scheduled>>();
  private readonly inFlight = new Set<Promise<void>>();
  private timer: TimerHandle | undefined;
  private timerSlot = Infinity;
  private state: LifecycleState = 'new';
  private stopping: Promise<void> | undefined;

  constructor(options: ProbeEngineOptions) {
    this.options = options;
    this.clock = options.clock ?? systemClock;
    this.slotMs = Math.max(1, options.slotMs ?? DEFAULT_SLOT_MS);
    this.random = options.random ?? Math.random;
    this.slots = new ExecSlots(options.maxConcurrentExecs ?? DEFAULT_MAX_CONCURRENT_EXECS, this.clock);
  }

  /** Registered keys. */
  get size(): number {
    return this.scheduled.size;
  }

  /** Execs running now / waiting for a slot. */
  get execsActive(): number {
    return this.slots.active;
  }

  /** The plan, replaced: keys not in `targets` are removed, the others added or updated. */
  replaceAll(targets: ProbeTarget[]): void {
    const keep = new Set(targets.map((t) => probeKeyString(t.key)));
    const gone: ProbeKey[] = [];
    for (const s of this.scheduled.values()) if (!keep.has(probeKeyString(s.worker.target.key))) gone.push(s.worker.target.key);
    this.remove(gone);
    this.upsert(targets);
  }

  upsert(targets: ProbeTarget[]): void {
    if (this.state === 'stopped') return;
    const now = this.clock.now();
    for (const target of targets) {
      const id = probeKeyString(target.key);
      const existing = this.scheduled.get(id);
      if (existing) {
        const periodChanged = existing.worker.target.timing.periodSeconds !== target.timing.periodSeconds;
        existing.worker.update(target);
        if (periodChanged) this.schedule(existing, now + this.jitter(target));
        continue;
      }
      const worker = new ProbeWorker(target, {
        clock: this.clock,
        exec: this.options.exec,
        containers: this.options.containers,
        slots: this.slots,
        counters: this.counters,
        ...(this.options.onRun ? { onRun: this.options.onRun } : {}),
      });
      const s: Scheduled = { worker, dueMs: 0, slot: NaN, running: undefined };
      this.scheduled.set(id, s);
      // Jitter: a plan of many pods arriving at once must not probe them all in the same slot.
      this.schedule(s, now + this.jitter(target));
    }
    this.arm();
  }

  remove(keys: ProbeKey[]): void {
    for (const key of keys) {
      const id = probeKeyString(key);
      const s = this.scheduled.get(id);
      if (!s) continue;
      this.scheduled.delete(id);
      this.unschedule(s);
      s.worker.cancel();
    }
  }

  /** Every registered key. */
  keys(): ProbeKey[] {
    return [...this.scheduled.values()].map((s) => s.worker.target.key);
  }

  /** The latest published outcome of every key (for resyncs). */
  published(): Outcome[] {
    const out: Outcome[] = [];
    for (const s of this.scheduled.values()) {
      const o = s.worker.lastPublished;
      if (o) out.push(o);
    }
    return out;
  }

  /** Run counters per quality since the previous call. */
  takeCounters(): QualityCounters[] {
    return this.counters.take();
  }

  start(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    this.arm();
  }

  /** Stops the schedule and aborts the probes in flight. Idempotent. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.state = 'stopped';
    this.timer?.cancel();
    this.timer = undefined;
    for (const s of this.scheduled.values()) s.worker.cancel();
    this.stopping = Promise.allSettled([...this.inFlight]).then(() => undefined);
    return this.stopping;
  }

  private jitter(target: ProbeTarget): number {
    return Math.floor(this.random() * Math.max(1, target.timing.periodSeconds) * 1000);
  }

  private schedule(s: Scheduled, dueMs: number): void {
    this.unschedule(s);
    s.dueMs = dueMs;
    s.slot = Math.ceil(dueMs / this.slotMs);
    let set = this.due.get(s.slot);
    if (!set) {
      set = new Set();
      this.due.set(s.slot, set);
    }
    set.add(s);
  }

  private unschedule(s: Scheduled): void {
    const set = this.due.get(s.slot);
    if (!set) return;
    set.delete(s);
    if (set.size === 0) this.due.delete(s.slot);
  }

  /** Sets the one timer for the earliest slot with work, if it is not already set for it. */
  private arm(): void {
    if (this.state !== 'running') return;
    let next = Infinity;
    for (const slot of this.due.keys()) if (slot < next) next = slot;
    if (next === Infinity || next >= this.timerSlot) {
      if (next === Infinity) {
        this.timer?.cancel();
        this.timer = undefined;
        this.timerSlot = Infinity;
      }
      return;
    }
    this.timer?.cancel();
    this.timerSlot = next;
    this.timer = this.clock.setTimeout(() => this.tick(), next * this.slotMs - this.clock.now());
  }

  private tick(): void {
    this.timer = undefined;
    this.timerSlot = Infinity;
    if (this.state !== 'running') return;
    const now = this.clock.now();
    const current = Math.floor(now / this.slotMs);
    const ready: Scheduled[] = [];
    // Keys, not entries: no [slot, set] pair allocated per slot on every tick.
    for (const slot of this.due.keys()) {
      if (slot > current) continue;
      for (const s of this.due.get(slot)!) ready.push(s);
      this.due.delete(slot);
    }
    for (const s of ready) {
      const period = Math.max(1, s.worker.target.timing.periodSeconds) * 1000;
      // Keep the cadence; after a long stall, start again from now rather than catching up.
      const next = s.dueMs + period > now ? s.dueMs + period : now + period;
      s.slot = NaN;
      this.schedule(s, next);
      // A key still running (slow probe) skips this period, as the kubelet's sequential worker does.
      if (!s.running) this.launch(s);
    }
    this.arm();
  }

  private launch(s: Scheduled): void {
    const running = s.worker
      .probeOnce()
      .then((step) => this.handle(step, s))
      .catch((err: unknown) => {
        // A program error in one probe must never stop the others.
        this.options.logger?.error({ [LOG.err]: err, [LOG.podUid]: s.worker.target.key.podUid, [LOG.quality]: s.worker.target.key.quality }, 'probe step failed');
      })
      .finally(() => {
        s.running = undefined;
        this.inFlight.delete(running);
      });
    s.running = running;
    this.inFlight.add(running);
  }

  private handle(step: StepResult, s: Scheduled): void {
    if (step.kind !== 'ran') return;
    const target = s.worker.target;
    const logger = this.options.logger;
    if (logger?.isLevelEnabled('debug')) {
      logger.debug(
        {
          ...targetFields(target),
          [LOG.state]: step.run.state,
          [LOG.errorKind]: step.run.errorKind,
          [LOG.durationMs]: step.run.durationMs,
          detail: step.run.detail,
        },
        'probe ran',
      );
    }
    if (!step.published || this.state === 'stopped' || this.scheduled.get(probeKeyString(target.key)) !== s) return;
    logger?.info(
      {
        ...targetFields(target),
        [LOG.state]: step.published.state,
        [LOG.result]: step.published.result,
        [LOG.errorKind]: step.published.errorKind,
      },
      'probe outcome changed',
    );
    this.options.onOutcome(step.published, target);
  }
}
