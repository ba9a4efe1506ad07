// One (pod, quality) key: one probe step per probeOnce() call, with the initial delay, the exec
// admission, a watchdog that reports a hanging probe as a timeout, the thresholds and publish-on-change.
// The timed loop lives in ProbeEngine, so tests can step a worker without timers.
import type { Clock } from '../clock.js';
import { COULD_NOT_RUN, type ErrorKind, type Outcome } from '../outcome.js';
import { initialDelayPassed, Thresholds } from '../thresholds.js';
import { runProbe } from '../runners/run-probe.js';
import { failedRun, type RunnerResult } from '../runners/runner-result.js';
import type { ExecSlots } from './exec-slots.js';
import type { ProbeCounters, RunOutcome } from './probe-counters.js';
import { execTargetOf, type ContainerRunState, type ContainerStateOptions, type ContainerStates, type ExecRuntime, type ProbeTarget } from './types.js';

/** A probe whose runner ignores its timeout is reported failed this long after the timeout. */
export const HANG_GRACE_MS = 500;

export interface WorkerDeps {
  readonly clock: Clock;
  readonly exec: ExecRuntime | undefined;
  /** Whether containers run; default: the exec runtime's containerState. */
  readonly containers?: ContainerStates | undefined;
  readonly slots: ExecSlots;
  readonly counters: ProbeCounters;
  /** Every run (after the delay), for the program's own metrics. */
  readonly onRun?: (run: CompletedRun, target: ProbeTarget) => void;
}

export interface CompletedRun extends RunnerResult {
  readonly outcome: RunOutcome;
  readonly durationMs: number;
  readonly observedAtMs: number;
}

/** Exit codes above this are a process killed by signal (exit − 128), as shells and runtimes report them. */
const SIGNAL_EXIT_BASE = 128;

/**
 * Whether a failed run may be its container going down under it: no answer at all (a refused
 * connection, a timeout, an exec the runtime could not finish) or an exec killed by a signal (137 when
 * its container's init died). A command's own exit code, an HTTP or gRPC status came from a live
 * container (docs/design.md §18, "The settle only after a failure without an answer").
 */
function mayBeKilled(result: RunnerResult): boolean {
  return result.errorKind !== '' || result.exitCode > SIGNAL_EXIT_BASE;
}

/** What one step did. */
export type StepResult =
  | { readonly kind: 'delayed' }
  | { readonly kind: 'stale' } // removed or replaced while running: nothing counted or published
  | { readonly kind: 'ran'; readonly run: CompletedRun; readonly published: Outcome | undefined };

function timingChanged(a: ProbeTarget, b: ProbeTarget): boolean {
  const x = a.timing;
  const y = b.timing;
  return (
    x.successThreshold !== y.successThreshold ||
    x.failureThreshold !== y.failureThreshold ||
    x.initialDelaySeconds !== y.initialDelaySeconds
  );
}

/** namespace/pod/container, for messages: built only when a message needs it, never on a probe's steady path. */
export function containerPath(target: Pick<ProbeTarget, 'namespace' | 'podName' | 'containerName'>): string {
  return `${target.namespace}/${target.podName}/${target.containerName}`;
}

export class ProbeWorker {
  private currentTarget: ProbeTarget;
  private thresholds: Thresholds;
  private publishedOutcome: Outcome | undefined;
  private delayPassed = false;
  private runtimeStartedAt: number | undefined;
  private generation = 0;
  private inFlight: AbortController | undefined;
  private lastRunOutcome: RunOutcome | undefined;
  private readonly addedAtMs: number;
  private readonly deps: WorkerDeps;

  constructor(target: ProbeTarget, deps: WorkerDeps) {
    this.currentTarget = target;
    this.deps = deps;
    this.thresholds = new Thresholds(target.timing);
    this.addedAtMs = deps.clock.now();
  }

  get target(): ProbeTarget {
    return this.currentTarget;
  }

  get running(): boolean {
    return this.inFlight !== undefined;
  }

  get lastPublished(): Outcome | undefined {
    return this.publishedOutcome;
  }

  /**
   * Takes a new version of the target. Threshold counting restarts when the thresholds or the delay
   * change, and the delay is re-checked when the container's start changed (a restart); the last
   * published outcome is kept, so publish-on-change still compares against what the decider has.
   */
  update(target: ProbeTarget): void {
    const old = this.currentTarget;
    this.currentTarget = target;
    if (timingChanged(old, target) || JSON.stringify(old.handler) !== JSON.stringify(target.handler)) {
      this.thresholds = new Thresholds(target.timing);
      this.generation++;
    }
    if (old.containerStartedAtMs !== target.containerStartedAtMs || old.timing.initialDelaySeconds !== target.timing.initialDelaySeconds) {
      this.delayPassed = false;
    }
  }

  /** Aborts a run in flight; its result is dropped. */
  cancel(): void {
    this.generation++;
    this.inFlight?.abort();
  }

  /** One probe step. Never throws for a probe's own failure. */
  async probeOnce(): Promise<StepResult> {
    const target = this.currentTarget;
    const generation = this.generation;
    // Like the kubelet and kruise-daemon, a container that is not running is not probed; unlike kruise,
    // nothing is published for it: its last outcome stands until it runs again
    // (docs/design.md §18 "A container that is not running").
    const down = await this.notRunning(target, {});
    if (down) return this.finish(target, generation, down, this.deps.clock.now());
    const fromRuntime = await this.runtimeStartedAtMs(target);
    if (fromRuntime !== undefined) {
      // The container restarted (the runtime reports a new start): like the kubelet, count the
      // thresholds afresh and wait for the initial delay again. The last published outcome stands.
      if (this.runtimeStartedAt !== undefined && fromRuntime !== this.runtimeStartedAt) {
        this.thresholds = new Thresholds(target.timing);
        this.delayPassed = false;
      }
      this.runtimeStartedAt = fromRuntime;
    }
    if (!this.delayPassed) {
      const startedAt = fromRuntime ?? (target.containerStartedAtMs > 0 ? target.containerStartedAtMs : this.addedAtMs);
      if (!initialDelayPassed(startedAt, this.deps.clock.now(), target.timing.initialDelaySeconds)) return { kind: 'delayed' };
      this.delayPassed = true;
    }
    const controller = new AbortController();
    this.inFlight = controller;
    let result: RunnerResult;
    let startedAtMs: number;
    try {
      ({ result, startedAtMs } = await this.run(target, controller));
    } finally {
      if (this.inFlight === controller) this.inFlight = undefined;
    }
    if (generation !== this.generation) return { kind: 'stale' };
    // A failure may be the container going down under the probe (a refused connection, an exec killed
    // with it): asked afresh, a container that no longer runs makes this run one that could not run.
    // Only a first failure is asked about (a fresh look costs CRI calls); the runs after it start with the
    // look at the runtime's listing above. Only a failure without an answer waits for the runtime to
    // catch up (settle): a command's own exit code is published after one look.
    const failed = result.errorKind === '' ? !result.state : !COULD_NOT_RUN.has(result.errorKind);
    if (failed && this.lastRunOutcome !== 'false') {
      const downNow = await this.notRunning(target, { fresh: true, settle: mayBeKilled(result) });
      if (downNow) result = downNow;
      if (generation !== this.generation) return { kind: 'stale' };
    }
    return this.finish(target, generation, result, startedAtMs);
  }

  /** A could-not-run result when the runtime says the container is not running; undefined otherwise. */
  private async notRunning(target: ProbeTarget, opts: ContainerStateOptions): Promise<RunnerResult | undefined> {
    let state: ContainerRunState | undefined;
    try {
      const source = this.deps.containers ?? this.deps.exec;
      state = await source?.containerState?.(execTargetOf(target), opts);
    } catch {
      return undefined; // the runtime cannot tell: probe as usual
    }
    if (state === 'not_running') return failedRun('container_not_running', `container ${containerPath(target)} is not running`);
    if (state === 'not_found') return failedRun('container_not_found', `no container ${containerPath(target)} on this node`);
    return undefined;
  }

  /** Counts the run and publishes it past its threshold. */
  private finish(target: ProbeTarget, generation: number, result: RunnerResult, startedAtMs: number): StepResult {
    if (generation !== this.generation) return { kind: 'stale' };
    const observedAtMs = this.deps.clock.now();
    const couldNotRun = result.errorKind !== '' && COULD_NOT_RUN.has(result.errorKind as ErrorKind);
    const outcome: RunOutcome = couldNotRun ? 'unknown' : result.state ? 'true' : 'false';
    const run: CompletedRun = { ...result, outcome, durationMs: Math.max(0, observedAtMs - startedAtMs), observedAtMs };
    this.lastRunOutcome = outcome;
    this.deps.counters.record(
      { namespace: target.namespace, gameServerSet: target.gameServerSet, quality: target.key.quality },
      outcome,
      result.errorKind,
      run.durationMs,
    );
    this.deps.onRun?.(run, target);
    // A probe that could not run is not a failed probe: the published state stands.
    if (couldNotRun || !this.thresholds.observe(run)) return { kind: 'ran', run, published: undefined };
    const last = this.publishedOutcome;
    if (last && last.state === run.state && last.result === run.result) return { kind: 'ran', run, published: undefined };
    const published: Outcome = {
      podUid: target.key.podUid,
      quality: target.key.quality,
      state: run.state,
      result: run.result,
      exitCode: run.exitCode,
      errorKind: run.errorKind,
      durationMs: run.durationMs,
      observedAtMs,
    };
    this.publishedOutcome = published;
    return { kind: 'ran', run, published };
  }

  /** The container's start as the runtime reports it (free in steady state: adapters cache it per container). */
  private async runtimeStartedAtMs(target: ProbeTarget): Promise<number | undefined> {
    try {
      const v = await this.deps.exec?.containerStartedAtMs?.(execTargetOf(target));
      return v !== undefined && v > 0 ? v : undefined;
    } catch {
      return undefined; // the runtime does not know: fall back to the plan, then to when we saw it
    }
  }

  private async run(target: ProbeTarget, controller: AbortController): Promise<{ result: RunnerResult; startedAtMs: number }> {
    const { clock, slots, exec } = this.deps;
    const timeoutMs = Math.max(1, target.timing.timeoutSeconds) * 1000;
    let release: (() => void) | undefined;
    if (target.handler.kind === 'exec') {
      const container = `${target.key.podUid}/${target.containerName}`;
      release = await slots.acquire(container, timeoutMs, controller.signal);
      if (!release) {
        // Other probes held every exec slot (or this container's) for a whole timeout: this run could
        // not happen, which is not this container's failure.
        const why = controller.signal.aborted ? 'probe cancelled' : 'no exec slot within the probe timeout';
        return { result: failedRun('runtime_unavailable', why), startedAtMs: clock.now() };
      }
    }
    const startedAtMs = clock.now();
    try {
      const result = await new Promise<RunnerResult>((resolve) => {
        // The watchdog: a runner or runtime that ignores its timeout cannot hold this key (or the
        // engine's schedule) longer than timeout + HANG_GRACE_MS.
        const watchdog = clock.setTimeout(() => {
          controller.abort();
          resolve(failedRun('timeout', `no result within ${timeoutMs} ms`));
        }, timeoutMs + HANG_GRACE_MS);
        const onAbort = (): void => resolve(failedRun('timeout', 'probe cancelled'));
        controller.signal.addEventListener('abort', onAbort, { once: true });
        runProbe(target, exec, { timeoutMs, signal: controller.signal }).then(
          (r) => {
            watchdog.cancel();
            controller.signal.removeEventListener('abort', onAbort);
            resolve(r);
          },
          (err: unknown) => {
            watchdog.cancel();
            resolve(failedRun('exec_failed', `runner error: ${err instanceof Error ? err.message : String(err)}`));
          },
        );
      });
      return { result, startedAtMs };
    } finally {
      release?.();
    }
  }
}
