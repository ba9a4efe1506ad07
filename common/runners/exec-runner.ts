// exec probes through the ExecRuntime port: exit code 0 → true, anything else → false, and stdout is the
// result on EVERY exit code (kruise keeps only stderr on failure, so `state: false` + result could
// never match there). Output is bounded before it is decoded.
import { MAX_OUTPUT_BYTES, normaliseResult } from '../probe-result.js';
import { isProbeRunError } from '../probe/probe-run-error.js';
import type { ExecRuntime, ExecTarget } from '../probe/types.js';
import { failedRun, type RunnerResult } from './runner-result.js';

export async function execRunner(
  runtime: ExecRuntime | undefined,
  target: ExecTarget,
  command: readonly string[],
  opts: { timeoutMs: number; signal: AbortSignal },
): Promise<RunnerResult> {
  if (!runtime) return failedRun('exec_failed', 'exec probes cannot run here: no exec runtime');
  if (command.length === 0 || command[0] === '') return failedRun('exec_failed', 'empty exec command');
  try {
    const out = await runtime.execSync(target, command, opts);
    const stdout = out.stdout.length > MAX_OUTPUT_BYTES ? out.stdout.subarray(0, MAX_OUTPUT_BYTES) : out.stdout;
    return { state: out.exitCode === 0, result: normaliseResult(stdout), exitCode: out.exitCode, errorKind: '' };
  } catch (err) {
    if (isProbeRunError(err)) return failedRun(err.kind, err.message);
    // An adapter broke its contract; still data, never thrown through the engine.
    return failedRun('exec_failed', `exec runtime error: ${err instanceof Error ? err.message : String(err)}`);
  }
}
