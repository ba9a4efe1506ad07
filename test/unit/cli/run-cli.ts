// Runs the built okg-sq CLI as a child process, as a user would.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The CLI built next to this test (same output directory), not a path into the source tree. */
const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
/** Bounds a hung CLI; the tests themselves are fast. */
const CLI_TIMEOUT_MS = 20_000;

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  /** Written to the CLI's standard input, which is then closed (otherwise stdin is closed at once). */
  readonly input?: string;
  /** The whole environment of the CLI (default: this process's). */
  readonly env?: NodeJS.ProcessEnv;
}

export function runCli(args: readonly string[], cwd?: string, options: CliRunOptions = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, [CLI, ...args], { cwd, env: options.env, timeout: CLI_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') {
        // Not an exit code: the CLI did not run, or was killed by the timeout.
        reject(new Error(`okg-sq ${args.join(' ')} did not complete: ${err.message}`, { cause: err }));
        return;
      }
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}
