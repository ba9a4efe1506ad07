// The bed leaves nothing behind: a nested bed runs a pod that its test "forgets", and after the runner
// exits every process it started (etcd, kube-apiserver, containerd or CRI-O, shims or conmons, the pod's processes) is gone,
// with its bridge, work dir and slot; likewise after SIGINT. A runner killed with SIGKILL is cleaned up by `cleanup`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bridgeExists } from '../../testbed/cni.js';
import { pidAlive } from '../../testbed/managed-process.js';
import { listSlots, readSlot, type SlotState } from '../../testbed/slots.js';
import { waitFor } from '../../testbed/wait-for.js';

const CLI = fileURLToPath(new URL('../../testbed/cli.js', import.meta.url));
const PROBE = fileURLToPath(new URL('../../testbed/teardown-probe.js', import.meta.url));
const NESTED_BED_TIMEOUT_MS = 180_000;

function runNested(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), NESTED_BED_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function assertGone(slot: SlotState, extraPids: number[]): void {
  const alive = [...slot.pids, ...extraPids].filter(pidAlive);
  assert.deepEqual(alive, [], `still running: ${alive.map((p) => { try { return execFileSync('ps', ['-o', 'pid=,args=', '-p', String(p)], { encoding: 'utf8' }).trim(); } catch { return String(p); } }).join('; ')}`);
  assert.equal(bridgeExists(slot.network.bridge), false, `bridge ${slot.network.bridge} deleted`);
  assert.equal(existsSync(slot.workDir), false, `work dir ${slot.workDir} removed`);
}

/** The cgroups CRI-O made for these containers (its own and its conmons'), in any hierarchy. */
function crioCgroups(containerIds: string[]): string[] {
  const root = '/sys/fs/cgroup';
  return [root, ...readdirSync(root).map((h) => join(root, h))].flatMap((base) =>
    containerIds.flatMap((id) => [join(base, `crio-conmon-${id}`), join(base, `crio-${id}`), join(base, 'crio', `crio-${id}`)]).filter((p) => existsSync(p)),
  );
}

for (const runtime of ['containerd', 'cri-o'] as const) {
  test(`after \`run --runtime ${runtime}\` exits, nothing the bed or its pods started is still running`, async () => {
    const result = await runNested(['run', '--runtime', runtime, '--', process.execPath, PROBE]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { slot: SlotState; containerPids: number[]; shimPids: number[]; containerIds: string[]; podIp: string };
    assert.equal(report.slot.pids.length, 3, `etcd, kube-apiserver and ${runtime} were recorded`);
    // CRI-O runs no infra container for the pod (docs/design.md §27): only the container's process.
    assert.ok(report.containerPids.length >= (runtime === 'cri-o' ? 1 : 2), `the pod's processes were found: ${report.containerPids}`);
    assert.ok(report.shimPids.length >= 1, `the pod had a ${runtime === 'cri-o' ? 'conmon' : 'shim'}`);
    assertGone(report.slot, [...report.containerPids, ...report.shimPids]);
    if (runtime === 'cri-o') assert.deepEqual(crioCgroups(report.containerIds), [], 'CRI-O\'s cgroups of the pod are removed');
    const again = readSlot(report.slot.slot);
    assert.ok(!again || again.ownerPid !== report.slot.ownerPid, 'the slot was released');
  });
}

for (const runtime of ['containerd', 'cri-o'] as const) {
  test(`a runner on ${runtime} killed with SIGKILL is cleaned up by \`cleanup\``, async () => {
    const child = spawn(process.execPath, [CLI, 'run', '--runtime', runtime, '--', 'sleep', '600'], { stdio: 'ignore' });
    try {
      const slot = await waitFor(() => listSlots().find((s) => s.ownerPid === child.pid && s.env !== undefined), { timeoutMs: NESTED_BED_TIMEOUT_MS, intervalMs: 200, what: 'the nested bed to be up' });
      assert.ok(slot.pids.every(pidAlive));
      child.kill('SIGKILL');
      await waitFor(() => !pidAlive(child.pid!), { timeoutMs: 10_000, what: 'the runner to die' });
      assert.ok(slot.pids.some(pidAlive), 'SIGKILL leaves the bed running (it is what cleanup is for)');
      const result = await runNested(['cleanup']);
      assert.equal(result.code, 0, result.stderr);
      assertGone(slot, []);
      assert.equal(readSlot(slot.slot)?.ownerPid === child.pid, false, 'the slot was released');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
}

test('a runner interrupted with SIGINT (Ctrl-C) tears its whole bed down before it exits', async () => {
  const child = spawn(process.execPath, [CLI, 'run', '--', 'sleep', '600'], { stdio: 'ignore' });
  try {
    const slot = await waitFor(() => listSlots().find((s) => s.ownerPid === child.pid && s.env !== undefined), { timeoutMs: NESTED_BED_TIMEOUT_MS, intervalMs: 200, what: 'the nested bed to be up' });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // SIGINT reaches the runner and the command (as Ctrl-C does the foreground group): the command's exit
    // must not cut the runner's teardown short.
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assertGone(slot, []);
    assert.equal(readSlot(slot.slot)?.ownerPid === child.pid, false, 'the slot was released');
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
