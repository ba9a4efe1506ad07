// Runs the built `okg-sq` CLI as a child process and follows its `--output json` lines, so tests
// can wait (with deadlines, never fixed sleeps) for the GameServer states a user would see.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

/** The CLI of the build this test belongs to: <outDir>/cli/main.js (dist/ under npm test). */
export const BUILT_CLI = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'cli', 'main.js');

export interface GameServerJson {
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: { opsState?: string; deletionPriority?: number | string; updatePriority?: number | string; networkDisabled?: boolean };
  status?: { serviceQualitiesConditions?: { name: string; status?: string; result?: string; lastActionTransitionTime?: string | null }[] };
}

export type CliEvent =
  | { event: 'update'; gameServer: GameServerJson }
  | { event: 'final'; gameServers: GameServerJson[] };

interface Waiter {
  readonly from: number;
  readonly match: (e: CliEvent) => boolean;
  readonly resolve: (found: { event: CliEvent; index: number }) => void;
}

export class CliRun {
  readonly child: ChildProcess;
  readonly events: CliEvent[] = [];
  stdoutOther = '';
  stderr = '';
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #waiters = new Set<Waiter>();

  constructor(args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv }) {
    this.child = spawn(process.execPath, [BUILT_CLI, ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.#line(line));
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  #line(line: string): void {
    let event: CliEvent;
    try {
      event = JSON.parse(line) as CliEvent;
    } catch {
      this.stdoutOther += `${line}\n`;
      return;
    }
    const index = this.events.push(event) - 1;
    for (const waiter of this.#waiters) {
      if (index >= waiter.from && waiter.match(event)) {
        this.#waiters.delete(waiter);
        waiter.resolve({ event, index });
      }
    }
  }

  /** The first event at or after `from` that matches; fails after `timeoutMs` with the run's output. */
  waitFor(what: string, match: (e: CliEvent) => boolean, opts: { from?: number; timeoutMs?: number } = {}): Promise<{ event: CliEvent; index: number }> {
    const from = opts.from ?? 0;
    const found = this.events.findIndex((e, i) => i >= from && match(e));
    if (found >= 0) return Promise.resolve({ event: this.events[found]!, index: found });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`timed out after ${opts.timeoutMs ?? 15_000} ms waiting for ${what}\n${this.describe()}`));
      }, opts.timeoutMs ?? 15_000);
      const waiter: Waiter = {
        from,
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      };
      this.#waiters.add(waiter);
    });
  }

  /** Waits for an update of GameServer `name` that satisfies `check`. */
  waitForGameServer(name: string, what: string, check: (gs: GameServerJson) => boolean, opts: { from?: number; timeoutMs?: number } = {}) {
    return this.waitFor(`${name}: ${what}`, (e) => e.event === 'update' && e.gameServer.metadata.name === name && check(e.gameServer), opts);
  }

  describe(): string {
    const last = this.events.slice(-5).map((e) => JSON.stringify(e)).join('\n  ');
    return `last events:\n  ${last}\nstderr:\n${this.stderr}\nother stdout:\n${this.stdoutOther}`;
  }

  /** Stops the CLI if it still runs (test cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGKILL');
      await this.exited;
    }
  }
}

export const healthyCondition = (gs: GameServerJson, quality: string) =>
  gs.status?.serviceQualitiesConditions?.find((c) => c.name === quality);
