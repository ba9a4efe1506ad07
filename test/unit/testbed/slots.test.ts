// Test-bed slots claimed by several runners at once, in separate processes as real runners are: a slot
// left by a dead runner is cleaned up once and taken by one runner only, and a killed holder of the slots'
// lock does not keep it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { repoPath } from '../../testbed/repo-root.js';

const SLOTS_MODULE = pathToFileURL(repoPath('dist', 'test', 'testbed', 'slots.js')).href;
const dir = mkdtempSync(join(tmpdir(), 'okgsq-slots-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A runner in its own process, alive until `end()`: claims a slot (a stale one's cleanup takes `cleanupMs`). */
function runner(stateDir: string, cleanupLog: string, cleanupMs: number): { slot: Promise<number>; end: () => void } {
  const script = `
    const { claimSlot } = await import(${JSON.stringify(SLOTS_MODULE)});
    const { appendFileSync } = await import('node:fs');
    const slot = await claimSlot('/nowhere', async (stale) => {
      appendFileSync(${JSON.stringify(cleanupLog)}, stale.slot + '\\n');
      await new Promise((r) => setTimeout(r, ${cleanupMs}));
    });
    process.stdout.write(String(slot.slot));
    process.stdin.resume();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, OKGSQ_TB_STATE_DIR: stateDir }, stdio: ['pipe', 'pipe', 'inherit'] });
  const slot = new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (c: Buffer) => resolve(Number(c.toString())));
    child.once('exit', (code) => reject(new Error(`runner exited ${code} before it claimed a slot`)));
  });
  return { slot, end: () => child.stdin.end() };
}

/** A slot file whose owner is dead (a PID above the kernel's pid_max never runs). */
function writeStaleSlot(stateDir: string, slot: number): void {
  writeFileSync(join(stateDir, `slot-${slot}.json`), JSON.stringify({ slot, ownerPid: 99_999_999, workDir: '/gone', pids: [], network: {} }));
}

test("runners racing for a dead runner's slot: one cleanup, one owner, each runner its own slot", async () => {
  const stateDir = mkdtempSync(join(dir, 'state-'));
  const cleanups = join(dir, 'cleanups.log');
  writeFileSync(cleanups, '');
  writeStaleSlot(stateDir, 0);
  const runners = [runner(stateDir, cleanups, 300), runner(stateDir, cleanups, 300), runner(stateDir, cleanups, 300)];
  const slots = await Promise.all(runners.map((r) => r.slot)).finally(() => runners.forEach((r) => r.end()));
  assert.deepEqual(readFileSync(cleanups, 'utf8').split('\n').filter(Boolean), ['0'], 'the stale slot was cleaned up exactly once');
  assert.deepEqual([...slots].sort(), [0, 1, 2], 'no two runners hold one slot');
});

test("a runner killed while it holds the slots' lock does not keep it: the next runner claims a slot", async () => {
  const stateDir = mkdtempSync(join(dir, 'state-'));
  const script = `
    const { withSlotLock } = await import(${JSON.stringify(SLOTS_MODULE)});
    await withSlotLock(() => { process.stdout.write('locked'); return new Promise(() => {}); });`;
  const holder = spawn(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, OKGSQ_TB_STATE_DIR: stateDir }, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => holder.stdout.on('data', (c: Buffer) => c.toString().includes('locked') && resolve()));
  const exited = new Promise((resolve) => holder.on('exit', resolve));
  holder.kill('SIGKILL');
  await exited;
  const next = runner(stateDir, join(dir, 'none.log'), 0);
  assert.equal(await next.slot.finally(next.end), 0);
});
