// Runs the test bed's promtool.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { testbedEnv } from '../testbed/env.js';

const execFileAsync = promisify(execFile);
const PROMTOOL_TIMEOUT_MS = 60_000;

export interface PromtoolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs promtool; resolves with its exit code and output instead of throwing, so tests can show them. */
export async function promtool(args: readonly string[], options: { cwd?: string } = {}): Promise<PromtoolResult> {
  try {
    const { stdout, stderr } = await execFileAsync(testbedEnv().promtoolBin, [...args], { timeout: PROMTOOL_TIMEOUT_MS, cwd: options.cwd });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Error & { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
