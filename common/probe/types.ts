// The probe engine's ports and data: what to probe (ProbeTarget), how to exec (ExecRuntime, implemented
// by the agent's CRI adapter, the decider's Kubernetes exec adapter and the local process runtime) and
// the per-quality run counters sent to the decider.
import type { ProbeKey } from '../outcome.js';
import type { ProbeHandler, ProbeTiming } from '../service-quality.js';

export type { ProbeKey } from '../outcome.js';

/** One service quality of one pod: everything needed to probe it. */
export interface ProbeTarget {
  readonly key: ProbeKey;
  readonly namespace: string;
  readonly podName: string;
  readonly gameServerSet: string;
  readonly containerName: string;
  /** Where http/tcp/grpc probes go (local mode passes 127.0.0.1). */
  readonly podIp: string;
  readonly handler: ProbeHandler;
  readonly timing: ProbeTiming;
  /** The container's start from the pod status, Unix ms; 0 = unknown. */
  readonly containerStartedAtMs: number;
}

/** The container an exec runs in. */
export interface ExecTarget {
  readonly namespace: string;
  readonly podName: string;
  readonly podUid: string;
  readonly containerName: string;
}

export interface ExecOutput {
  /** The process's exit code: 0 = success, anything else = a failed probe that answered. */
  readonly exitCode: number;
  readonly stdout: Uint8Array;
  readonly stderr: Uint8Array;
}

/**
 * Runs a command in a container and waits for it. An adapter throws ProbeRunError (and nothing else)
 * when the command could not run or did not finish: timeout, container_not_found,
 * container_not_running, exec_failed, runtime_unavailable.
 */
export interface ExecRuntime {
  execSync(target: ExecTarget, argv: readonly string[], opts: { timeoutMs: number; signal: AbortSignal }): Promise<ExecOutput>;
  /** When the container started, Unix ms, if the runtime knows (used for initialDelaySeconds). */
  containerStartedAtMs?(target: ExecTarget): Promise<number | undefined>;
  /**
   * Whether the container runs, for every handler kind (docs/design.md §18 "A container that is not
   * running"): from a cache in steady state; `fresh` asks the runtime itself (after a failed run).
   * undefined: the runtime cannot tell, and the probe runs as if it did.
   */
  containerState?(target: ExecTarget, opts?: ContainerStateOptions): Promise<ContainerRunState | undefined>;
}

export interface ContainerStateOptions {
  /** Ask the runtime itself, not its cache (after a first failed run). */
  readonly fresh?: boolean;
  /**
   * With `fresh`: the failure may be the container going down under the probe (no answer, or an exec
   * killed by a signal), so a container still running is asked again for a while, as the runtime may not
   * have handled its exit yet. Without it, one look: waiting would delay every real `false`
   * (docs/design.md §18, "The settle only after a failure without an answer").
   */
  readonly settle?: boolean;
}

/** What the runtime knows of a probe's container. */
export type ContainerRunState = 'running' | 'not_running' | 'not_found';

/** Where the probe engine learns whether a container runs, when that is not its ExecRuntime (the decider: pod status). */
export interface ContainerStates {
  containerState(target: ExecTarget, opts?: ContainerStateOptions): Promise<ContainerRunState | undefined>;
}

/** Every run of one quality since the previous report (same shape as okgsq.v1 QualityCounters). */
export interface QualityCounters {
  namespace: string;
  gameServerSet: string;
  quality: string;
  runs: { outcome: 'true' | 'false' | 'unknown'; errorKind: string; count: number }[];
  /** Per PROBE_DURATION_BUCKETS_SECONDS plus a last +Inf entry, non-cumulative. */
  durationBucketCounts: number[];
  durationSumSeconds: number;
}

export function execTargetOf(target: ProbeTarget): ExecTarget {
  return {
    namespace: target.namespace,
    podName: target.podName,
    podUid: target.key.podUid,
    containerName: target.containerName,
  };
}
