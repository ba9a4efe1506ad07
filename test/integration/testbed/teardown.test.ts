// The bed leaves nothing behind: a nested bed runs a pod that its test "forgets", and after the runner
// exits every process it started (etcd, kube-apiserver, containerd, shims, the pod's processes) is gone,
// with its bridge, work dir and slot. A runner killed with SIGKILL is cleaned up by `cleanup`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
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

test('after `run` exits, nothing the bed or its pods started is still running', async () => {
  const result = await runNested(['run', '--', process.execPath, PROBE]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split('\n').pop()!) as { slot: SlotState; containerPids: number[]; shimPids: number[]; podIp: string };
  assert.equal(report.slot.pids.length, 3, 'etcd, kube-apiserver and containerd were recorded');
  assert.ok(report.containerPids.length >= 2, `the pod's processes were found: ${report.containerPids}`);
  assert.ok(report.shimPids.length >= 1, 'the pod had a shim');
  assertGone(report.slot, [...report.containerPids, ...report.shimPids]);
  const again = readSlot(report.slot.slot);
  assert.ok(!again || again.ownerPid !== report.slot.ownerPid, 'the slot was released');
});

test('a runner killed with SIGKILL is cleaned up by `cleanup`', async () => {
  const child = spawn(process.execPath, [CLI, 'run', '--', 'sleep', '600'], { stdio: 'ignore' });
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
