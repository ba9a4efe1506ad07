// A child process of the bed: output to a log file, stopped by PID (SIGTERM, then SIGKILL after a grace
// period), and its PID recorded so a crashed runner's leftovers can be stopped by the next `down`.
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { GiveUpWaiting } from './wait-for.js';

const STOP_GRACE_MS = 5_000;
const LOG_TAIL_BYTES = 4_000;

export class ManagedProcess {
  readonly name: string;
  readonly logFile: string;
  readonly pid: number;
  private readonly child: ChildProcess;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly exited: Promise<void>;

  constructor(name: string, command: string, args: readonly string[], options: { logFile: string; env?: NodeJS.ProcessEnv; cwd?: string }) {
    this.name = name;
    this.logFile = options.logFile;
    const fd = openSync(options.logFile, 'a');
    try {
      // detached: its own process group, so a Ctrl-C to the runner does not hit it before we stop it in order.
      this.child = spawn(command, args, { stdio: ['ignore', fd, fd], env: options.env ?? process.env, cwd: options.cwd, detached: true });
    } finally {
      closeSync(fd);
    }
    if (this.child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve();
      });
      this.child.once('error', () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve();
      });
    });
  }

  get running(): boolean {
    return this.exitInfo === undefined;
  }

  /** Throws with the log's tail if the process has exited (used while waiting for readiness). */
  assertRunning(): void {
    if (this.exitInfo) throw new GiveUpWaiting(`${this.name} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}); log ${this.logFile}:\n${this.logTail()}`);
  }

  logTail(): string {
    try {
      const text = readFileSync(this.logFile, 'utf8');
      return text.slice(-LOG_TAIL_BYTES);
    } catch {
      return '';
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const killTimer = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(killTimer);
  }
}

/**
 * True while a process with this PID exists and is not a zombie (an exited process its parent has not reaped
 * yet; here PID 1 may never reap re-parented shims).
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may contain spaces, so read after the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
