import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRuntime } from '../../../cli/local/process-runtime.js';
import { ProbeRunError } from '../../../common/probe/probe-run-error.js';
import { MAX_OUTPUT_BYTES } from '../../../common/probe-result.js';
import type { ExecTarget } from '../../../common/probe/types.js';
import { waitFor } from '../../testbed/wait-for.js';

const target: ExecTarget = { namespace: 'default', podName: 'minecraft-1', podUid: 'uid-1', containerName: 'minecraft' };
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString('utf8');
const opts = (timeoutMs = 5_000) => ({ timeoutMs, signal: new AbortController().signal });
const runtime = new ProcessRuntime({ cwd: tmpdir(), env: { PATH: process.env.PATH } });

/** Whether a pid still runs (a zombie awaiting its reaper counts as gone). */
async function running(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return !/^State:\s*Z/m.test(status);
}

test('exit code 0 is returned with stdout and stderr', async () => {
  const out = await runtime.execSync(target, ['sh', '-c', 'echo gate; echo oops >&2'], opts());
  assert.equal(out.exitCode, 0);
  assert.equal(text(out.stdout), 'gate\n');
  assert.equal(text(out.stderr), 'oops\n');
});

test('a non-zero exit keeps stdout (the result OKG actions compare)', async () => {
  const out = await runtime.execSync(target, ['sh', '-c', 'echo 2 players; exit 3'], opts());
  assert.equal(out.exitCode, 3);
  assert.equal(text(out.stdout), '2 players\n');
});

test('argv is passed as given, never through a shell', async () => {
  const out = await runtime.execSync(target, ['echo', '$HOME;', 'ls', '|', 'x'], opts());
  assert.equal(text(out.stdout), '$HOME; ls | x\n');
});

test('cwd is the work dir; env has POD_NAME, POD_NAMESPACE and the user environment', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'okgsq-cwd-'));
  try {
    const rt = new ProcessRuntime({ cwd: dir, env: { PATH: process.env.PATH, GAME_MODE: 'pvp', POD_NAME: 'overridden' } });
    const out = await rt.execSync(target, ['sh', '-c', 'pwd; echo "$POD_NAME $POD_NAMESPACE $GAME_MODE"'], opts());
    assert.equal(text(out.stdout), `${await realpath(dir)}\nminecraft-1 default pvp\n`);
    // A relative command (`./probe.sh`, as in OKG's examples) is found in the work dir.
    await writeFile(join(dir, 'probe.sh'), '#!/bin/sh\necho "from $0"\n', { mode: 0o755 });
    const relative = await rt.execSync(target, ['./probe.sh'], opts());
    assert.equal(text(relative.stdout), 'from ./probe.sh\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('binary output comes back byte for byte', async () => {
  const out = await runtime.execSync(target, ['printf', '\\377\\000\\001gate\\n'], opts());
  assert.deepEqual([...out.stdout], [0xff, 0x00, 0x01, ...Buffer.from('gate\n')]);
});

test('1 MiB of output is cut at MAX_OUTPUT_BYTES and the process still finishes', async () => {
  const out = await runtime.execSync(target, ['sh', '-c', 'head -c 1048576 /dev/zero | tr "\\0" x; echo done >&2'], opts());
  assert.equal(out.exitCode, 0);
  assert.equal(out.stdout.length, MAX_OUTPUT_BYTES);
  assert.ok(out.stdout.every((b) => b === 0x78));
  assert.equal(text(out.stderr), 'done\n');
});

test('a timeout kills the probe and the processes it started, and reports kind timeout', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'okgsq-timeout-'));
  try {
    const started = Date.now();
    const err = await runtime
      .execSync(target, ['sh', '-c', `sleep 100 & echo $! > ${dir}/child.pid; wait`], opts(300))
      .then(() => assert.fail('expected a timeout'), (e: unknown) => e);
    const elapsed = Date.now() - started;
    assert.ok(err instanceof ProbeRunError, `got ${String(err)}`);
    assert.equal(err.kind, 'timeout');
    // Not before its timeout, and long before `sleep 100` would have ended on its own.
    assert.ok(elapsed >= 300 && elapsed < 100_000, `timed out after ${elapsed} ms`);
    const childPid = Number(await readFile(join(dir, 'child.pid'), 'utf8'));
    await waitFor(async () => !(await running(childPid)), { what: `sleep ${childPid} to be killed`, timeoutMs: 10_000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a missing binary is exec_failed, naming the command; the reason is told to onCannotRun', async () => {
  const told: string[] = [];
  const rt = new ProcessRuntime({ cwd: tmpdir(), env: { PATH: process.env.PATH }, onCannotRun: (m) => told.push(m) });
  const err = await rt.execSync(target, ['./no-such-probe.sh'], opts()).then(
    () => assert.fail('expected exec_failed'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ProbeRunError, `got ${String(err)}`);
  assert.equal(err.kind, 'exec_failed');
  assert.match(err.message, /no-such-probe\.sh/);
  assert.equal(told.length, 1);
  assert.match(told[0]!, /cannot run \.\/no-such-probe\.sh in .*ENOENT/);
});

test('an empty command is exec_failed', async () => {
  const err = await runtime.execSync(target, [], opts()).then(() => assert.fail('expected exec_failed'), (e: unknown) => e);
  assert.ok(err instanceof ProbeRunError);
  assert.equal(err.kind, 'exec_failed');
});

test('aborting the signal stops a running probe at once', async () => {
  const controller = new AbortController();
  const run = runtime.execSync(target, ['sleep', '100'], { timeoutMs: 60_000, signal: controller.signal });
  setImmediate(() => controller.abort(new Error('engine stopping')));
  const err = await run.then(() => assert.fail('expected a rejection'), (e: unknown) => e);
  assert.ok(err instanceof ProbeRunError);
  // Stopped by the abort, not by its 60 s timeout nor by `sleep 100` ending.
  assert.equal(err.kind, 'exec_failed');
  assert.match(err.message, /cancelled/);
});

test('a probe killed by a signal is a failed run with the shell-style status 128+n', async () => {
  const out = await runtime.execSync(target, ['sh', '-c', 'echo partial; kill -TERM $$'], opts());
  assert.equal(out.exitCode, 128 + 15);
  assert.equal(text(out.stdout), 'partial\n');
});

test("the container's env from the pod template is set, over the user's; POD_NAME always wins", async () => {
  const rt = new ProcessRuntime({
    cwd: tmpdir(),
    env: { PATH: process.env.PATH, GAME_MODE: 'user', KEEP: 'kept' },
    containerEnv: (t) => ({ GAME_MODE: `template-${t.containerName}`, POD_NAME: 'template' }),
  });
  const out = await rt.execSync(target, ['sh', '-c', 'echo "$GAME_MODE $KEEP $POD_NAME"'], opts());
  assert.equal(text(out.stdout), 'template-minecraft kept minecraft-1\n');
});
