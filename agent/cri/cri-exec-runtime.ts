// The agent's ExecRuntime: exec probes through CRI ExecSync in the container the kubelet runs for
// (pod uid, container name). Container IDs come from a cached ListContainers indexed by the kubelet's
// labels, refreshed on a miss (rate-limited, coalesced) and periodically, so a steady-state exec probe
// costs exactly one CRI call. A stale ID (container restarted) costs one refresh and one retry.
import type { Logger } from 'pino';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { systemClock, type Clock, type TimerHandle } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import type { ErrorKind } from '../../common/outcome.js';
import { ProbeRunError } from '../../common/probe/probe-run-error.js';
import { containerPath } from '../../common/probe/probe-worker.js';
import type { ContainerRunState, ContainerStateOptions, ExecOutput, ExecRuntime, ExecTarget } from '../../common/probe/types.js';
import { ContainerState, type Container, type ContainerStatus, type ExecSyncResponse } from '../../proto/gen/cri/runtime/v1/api.js';
import { isServiceError } from './cri-client.js';
import { criNanosToMs } from './cri-time.js';

/** Labels the kubelet puts on every container it creates. */
export const KUBELET_LABELS = Object.freeze({
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
});
/** Background refresh, so containers that appeared are known before their first probe. */
export const CONTAINER_REFRESH_INTERVAL_MS = 30_000;
/** A probe for a container that really is missing must not list all containers on every run. */
export const MIN_MISS_REFRESH_INTERVAL_MS = 1_000;
/** How long a fresh look with `settle` waits for the runtime to see a dying container's exit (see containerState). */
export const FRESH_SETTLE_MS = 1_000;
export const FRESH_SETTLE_POLL_MS = 100;
/**
 * CRI-O answers an ExecSync that ran out of time with a normal response, not DEADLINE_EXCEEDED: exit code -1
 * and this stderr (conmon's message), as the kubelet's prober expects (docs/design.md §27).
 */
export const CRIO_EXEC_TIMED_OUT = Object.freeze({ exitCode: -1, stderr: 'command timed out' });
/** The CRI call's own deadline beyond the exec timeout: the runtime should answer DEADLINE_EXCEEDED first. */
export const EXEC_DEADLINE_SLACK_MS = 2_000;

/** The CRI calls the runtime makes (CriClient implements it; unit tests fake it). */
export interface CriPort {
  listContainers(): Promise<Container[]>;
  containerStatus(containerId: string): Promise<ContainerStatus | undefined>;
  execSync(containerId: string, cmd: readonly string[], timeoutSeconds: number, deadlineMs: number, signal: AbortSignal): Promise<ExecSyncResponse>;
}

/** Just what picking the current container needs (the listed messages also carry all labels). */
interface RunningContainer {
  readonly id: string;
  readonly attempt: number;
  /** Unix ns, compared as is. */
  readonly createdAt: bigint;
}

interface Resolved {
  /** The running container, if any. */
  readonly running: RunningContainer | undefined;
  /** Some container of that name exists but none runs. */
  readonly exists: boolean;
}

function keyOf(podUid: string, containerName: string): string {
  return `${podUid}/${containerName}`;
}

function errorKindOf(err: unknown): ErrorKind | 'stale' {
  if (!isServiceError(err)) return 'exec_failed';
  switch (err.code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
    case GrpcStatus.CANCELLED:
      return 'timeout';
    case GrpcStatus.NOT_FOUND:
      return 'stale';
    case GrpcStatus.UNAVAILABLE:
      return 'runtime_unavailable';
    case GrpcStatus.FAILED_PRECONDITION:
      return 'container_not_running';
    default:
      // containerd answers UNKNOWN both for a missing binary and for a container that stopped.
      return /not running|CONTAINER_EXITED|stopped|not found|no such container/i.test(err.details) &&
        !/executable file not found|no such file or directory/i.test(err.details)
        ? 'stale'
        : 'exec_failed';
  }
}

export class CriExecRuntime implements ExecRuntime {
  private readonly cri: CriPort;
  private readonly clock: Clock;
  private readonly logger: Logger | undefined;
  private readonly refreshIntervalMs: number;
  private index = new Map<string, Resolved>();
  private readonly startedAtById = new Map<string, number>();
  private refreshing: Promise<void> | undefined;
  private lastRefreshMs = -Infinity;
  /** The index holds a real listing (a runtime that never answered tells nothing about containers). */
  private listed = false;
  private timer: TimerHandle | undefined;
  private stopped = false;

  constructor(cri: CriPort, options: { clock?: Clock; logger?: Logger; refreshIntervalMs?: number } = {}) {
    this.cri = cri;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.refreshIntervalMs = options.refreshIntervalMs ?? CONTAINER_REFRESH_INTERVAL_MS;
  }

  /** Starts the periodic refresh. */
  start(): void {
    const loop = (): void => {
      if (this.stopped) return;
      void this.refresh().finally(() => {
        if (!this.stopped) this.timer = this.clock.setTimeout(loop, this.refreshIntervalMs);
      });
    };
    loop();
  }

  /** Stops the refresh; a re-list in flight is let finish (it only updates the cache). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Re-lists the containers (one call shared by concurrent callers). Never throws. */
  refresh(): Promise<void> {
    if (this.refreshing) return this.refreshing;
    this.refreshing = this.list().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async list(): Promise<void> {
    this.lastRefreshMs = this.clock.now();
    let containers: Container[];
    try {
      containers = await this.cri.listContainers();
    } catch (err) {
      this.logger?.warn({ [LOG.err]: err }, 'CRI ListContainers failed');
      return;
    }
    const index = new Map<string, Resolved>();
    for (const c of containers) {
      const uid = c.labels[KUBELET_LABELS.podUid];
      const name = c.labels[KUBELET_LABELS.containerName];
      if (!uid || !name) continue; // not a kubelet container
      const key = keyOf(uid, name);
      const prev = index.get(key);
      let running = prev?.running;
      const attempt = c.metadata?.attempt ?? 0;
      if (c.state === ContainerState.CONTAINER_RUNNING && (!running || attempt > running.attempt || (attempt === running.attempt && c.createdAt > running.createdAt))) {
        running = { id: c.id, attempt, createdAt: c.createdAt };
      }
      index.set(key, { running, exists: true });
    }
    this.index = index;
    this.listed = true;
    // Start times of containers that are gone are not needed any more.
    const live = new Set(containers.map((c) => c.id));
    for (const id of this.startedAtById.keys()) if (!live.has(id)) this.startedAtById.delete(id);
  }

  /** The running container for the target, refreshing once on a miss (rate-limited). */
  private async resolve(target: ExecTarget, forceRefresh: boolean): Promise<Resolved | undefined> {
    const key = keyOf(target.podUid, target.containerName);
    const hit = this.index.get(key);
    if (hit?.running && !forceRefresh) return hit;
    if (forceRefresh || this.clock.now() - this.lastRefreshMs >= MIN_MISS_REFRESH_INTERVAL_MS) await this.refresh();
    else if (this.refreshing) await this.refreshing;
    return this.index.get(key);
  }

  async execSync(target: ExecTarget, argv: readonly string[], opts: { timeoutMs: number; signal: AbortSignal }): Promise<ExecOutput> {
    let resolved = await this.resolve(target, false);
    for (let attempt = 0; ; attempt++) {
      if (!resolved?.running) {
        if (resolved?.exists) throw new ProbeRunError('container_not_running', `container ${containerPath(target)} is not running`);
        throw new ProbeRunError('container_not_found', `no container ${containerPath(target)} on this node`);
      }
      const id = resolved.running.id;
      let res: ExecSyncResponse;
      try {
        res = await this.cri.execSync(id, argv, Math.max(1, Math.ceil(opts.timeoutMs / 1000)), opts.timeoutMs + EXEC_DEADLINE_SLACK_MS, opts.signal);
      } catch (err) {
        const kind = errorKindOf(err);
        const detail = isServiceError(err) ? err.details : String(err);
        if (kind !== 'stale' && kind !== 'container_not_running') {
          if (kind === 'runtime_unavailable') this.logger?.warn({ [LOG.err]: err }, 'CRI runtime unavailable');
          throw new ProbeRunError(kind, `exec in ${containerPath(target)}: ${detail}`, { cause: err });
        }
        // The cached ID may be of a container that stopped or was replaced: look again, retry once.
        if (attempt > 0 || opts.signal.aborted) {
          throw new ProbeRunError(kind === 'stale' ? 'container_not_found' : kind, `exec in ${containerPath(target)}: ${detail}`, { cause: err });
        }
        this.logger?.debug({ [LOG.containerId]: id, [LOG.container]: containerPath(target) }, 'container ID stale; relisting');
        resolved = await this.resolve(target, true);
        if (resolved?.running?.id === id) {
          throw new ProbeRunError(kind === 'stale' ? 'container_not_found' : kind, `exec in ${containerPath(target)}: ${detail}`, { cause: err });
        }
        continue;
      }
      if (res.exitCode === CRIO_EXEC_TIMED_OUT.exitCode && Buffer.from(res.stderr).toString('utf8') === CRIO_EXEC_TIMED_OUT.stderr) {
        throw new ProbeRunError('timeout', `exec in ${containerPath(target)}: ${CRIO_EXEC_TIMED_OUT.stderr}`);
      }
      return { exitCode: res.exitCode, stdout: res.stdout, stderr: res.stderr };
    }
  }

  /**
   * From the listing (refreshed on a miss); `fresh`: a container listed as running is asked for its status
   * (one ContainerStatus call; with `settle`, again until FRESH_SETTLE_MS), and relisted if it stopped or
   * went, so a crash since the last listing is seen.
   */
  async containerState(target: ExecTarget, opts: ContainerStateOptions = {}): Promise<ContainerRunState | undefined> {
    let resolved = await this.resolve(target, false);
    if (!this.listed) return undefined;
    const id = resolved?.running?.id;
    if (id && opts.fresh) {
      const running = await this.stillRunning(id, opts.settle === true ? FRESH_SETTLE_MS : 0);
      if (running === undefined) return undefined;
      if (!running) resolved = await this.resolve(target, true);
    }
    if (resolved?.running) return 'running';
    return resolved?.exists ? 'not_running' : 'not_found';
  }

  /**
   * Whether the container still runs, asked through ContainerStatus. A probe that failed because its
   * container was dying (an exec killed with it, a refused connection) can end before the runtime has
   * handled the container's own exit, so "running" is asked again for up to `settleMs` (FRESH_SETTLE_MS
   * for such a failure, 0 = one look). undefined: the runtime cannot tell now.
   */
  private async stillRunning(id: string, settleMs: number): Promise<boolean | undefined> {
    const until = this.clock.now() + settleMs;
    for (;;) {
      try {
        if ((await this.cri.containerStatus(id))?.state !== ContainerState.CONTAINER_RUNNING) return false;
      } catch (err) {
        // NOT_FOUND: removed since the listing. Anything else: the runtime cannot tell now.
        return isServiceError(err) && err.code === GrpcStatus.NOT_FOUND ? false : undefined;
      }
      if (this.clock.now() >= until) return true;
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, FRESH_SETTLE_POLL_MS));
    }
  }

  async containerStartedAtMs(target: ExecTarget): Promise<number | undefined> {
    const resolved = await this.resolve(target, false);
    const id = resolved?.running?.id;
    if (!id) return undefined;
    const cached = this.startedAtById.get(id);
    // 0 caches "the runtime did not say": asking again for the same container would cost a call per run.
    if (cached !== undefined) return cached > 0 ? cached : undefined;
    let startedAtMs = 0;
    try {
      startedAtMs = criNanosToMs((await this.cri.containerStatus(id))?.startedAt ?? 0n);
    } catch (err) {
      this.logger?.debug({ [LOG.err]: err, [LOG.containerId]: id }, 'CRI ContainerStatus failed; start time unknown');
    }
    this.startedAtById.set(id, Math.max(0, startedAtMs));
    return startedAtMs > 0 ? startedAtMs : undefined;
  }
}
