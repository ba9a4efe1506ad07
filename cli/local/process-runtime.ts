// The ExecRuntime of `okg-sq local`: a quality's exec probe runs as a process on this machine,
// the way the agent runs it in a container through the CRI. argv as given (never a shell of ours),
// cwd = the user's work dir; env = the user's environment, then the container's (from the pod
// template), then POD_NAME / POD_NAMESPACE.
import { execa } from 'execa';
import { constants } from 'node:os';
import type { Readable } from 'node:stream';
import { systemClock, type Clock } from '../../common/clock.js';
import { MAX_OUTPUT_BYTES } from '../../common/probe-result.js';
import type { ExecOutput, ExecRuntime, ExecTarget } from '../../common/probe/types.js';
import { ProbeRunError } from '../../common/probe/probe-run-error.js';

/** Unix exit status of a process ended by a signal: 128 + the signal's number, as shells report it. */
const SIGNAL_EXIT_BASE = 128;

export interface ProcessRuntimeOptions {
  /** Working directory of every probe process. */
  readonly cwd: string;
  /** The environment probes inherit (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
  /** Cap on stdout and stderr each; the rest is read and discarded so the process never blocks. */
  readonly maxOutputBytes?: number;
  /** The pod template's variables for the target's container (they win over `env`). */
  readonly containerEnv?: (target: ExecTarget) => Record<string, string>;
  /** Told why a command could not start (missing binary, bad cwd): the outcome only says exec_failed. */
  readonly onCannotRun?: (message: string) => void;
  /** Times a probe's timeout; the system clock by default. */
  readonly clock?: Clock;
}

/** Reads a stream to its end, keeping at most `max` bytes. */
function boundedCollect(stream: Readable | null | undefined, max: number): () => Uint8Array {
  const chunks: Buffer[] = [];
  let kept = 0;
  stream?.on('data', (chunk: Buffer) => {
    if (kept >= max) return;
    const take = chunk.subarray(0, max - kept);
    chunks.push(take);
    kept += take.length;
  });
  return () => new Uint8Array(Buffer.concat(chunks, kept));
}

/** Kills the probe's whole process group (it runs detached, so it leads its own group). */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone: nothing to kill.
  }
}

export class ProcessRuntime implements ExecRuntime {
  private readonly cwd: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly maxOutputBytes: number;
  private readonly onCannotRun: (message: string) => void;
  private readonly containerEnv: (target: ExecTarget) => Record<string, string>;
  private readonly clock: Clock;
  /** Process groups still running, killed by close() so no probe outlives `okg-sq local`. */
  private readonly running = new Set<number>();

  constructor(options: ProcessRuntimeOptions) {
    this.cwd = options.cwd;
    this.env = options.env ?? process.env;
    this.maxOutputBytes = options.maxOutputBytes ?? MAX_OUTPUT_BYTES;
    this.onCannotRun = options.onCannotRun ?? (() => {});
    this.containerEnv = options.containerEnv ?? (() => ({}));
    this.clock = options.clock ?? systemClock;
  }

  async execSync(
    target: ExecTarget,
    argv: readonly string[],
    opts: { timeoutMs: number; signal: AbortSignal },
  ): Promise<ExecOutput> {
    const [file, ...args] = argv;
    if (file === undefined || file === '') {
      throw new ProbeRunError('exec_failed', `empty exec command for ${target.podName}/${target.containerName}`);
    }
    if (opts.signal.aborted) {
      throw new ProbeRunError('exec_failed', 'probe aborted before it started', { cause: opts.signal.reason });
    }
    const child = execa(file, args, {
      cwd: this.cwd,
      env: { ...this.env, ...this.containerEnv(target), POD_NAME: target.podName, POD_NAMESPACE: target.namespace },
      extendEnv: false,
      stdin: 'ignore',
      buffer: false,
      encoding: 'buffer',
      reject: false,
      // Own process group: a timeout kills the probe and everything it started (`sh -c 'sleep 100'`).
      detached: true,
      // Our own timer kills the group; execa's would kill only the direct child.
      timeout: 0,
    });
    const pid = child.pid;
    if (pid !== undefined) this.running.add(pid);
    const stdout = boundedCollect(child.stdout, this.maxOutputBytes);
    const stderr = boundedCollect(child.stderr, this.maxOutputBytes);

    let timedOut = false;
    let aborted = false;
    const timer = this.clock.setTimeout(() => {
      timedOut = true;
      killGroup(pid);
    }, opts.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup(pid);
    };
    opts.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const result = await child;
      if (timedOut) {
        throw new ProbeRunError('timeout', `${file} did not finish within ${opts.timeoutMs} ms; its process group was killed`);
      }
      if (aborted) {
        throw new ProbeRunError('exec_failed', `${file} was stopped: the probe was cancelled`, { cause: opts.signal.reason });
      }
      if (typeof result.exitCode === 'number') {
        return { exitCode: result.exitCode, stdout: stdout(), stderr: stderr() };
      }
      if (result.signal !== undefined && result.cause === undefined) {
        // Killed by someone else's signal: a failed run with the shell's exit status for it.
        const signalNumber = constants.signals[result.signal] ?? 0;
        return { exitCode: SIGNAL_EXIT_BASE + signalNumber, stdout: stdout(), stderr: stderr() };
      }
      // Could not start: missing binary, not executable, bad cwd.
      const why = result.cause instanceof Error ? result.cause.message : result.shortMessage;
      const message = `cannot run ${file} in ${this.cwd}: ${why}`;
      this.onCannotRun(message);
      throw new ProbeRunError('exec_failed', message, { cause: result.cause });
    } finally {
      timer.cancel();
      opts.signal.removeEventListener('abort', onAbort);
      if (pid !== undefined) {
        // The direct child is done; children it left behind in its group go with it.
        killGroup(pid);
        this.running.delete(pid);
      }
    }
  }

  /** Kills every probe still running. */
  close(): void {
    for (const pid of this.running) killGroup(pid);
    this.running.clear();
  }
}
