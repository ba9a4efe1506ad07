// Several beds may run at once on one machine (parallel engineers, CI jobs): each takes a numbered slot
// with its own bridge and pod subnet. A slot file records the owner's PID and what it started, so a bed
// whose runner died can be cleaned up by the next one (or by `down`). Claims and cleanups of dead slots
// hold one machine-wide lock, so two runners never clean the same slot or take it from each other.
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { CniNetwork } from './cni.js';
import { pidAlive } from './managed-process.js';

const MAX_SLOTS = 40;
const FIRST_SUBNET_OCTET = 77; // 10.254.77.0/24, 10.254.78.0/24, … (never the machine's 192.0.2.0/24)

export interface SlotState {
  slot: number;
  ownerPid: number;
  network: CniNetwork;
  workDir: string;
  /** PIDs of the bed's processes (etcd, kube-apiserver, containerd; a cluster bed's too), for cleanup after a crash. */
  pids: number[];
  containerdSocket?: string;
  /** A bed on CRI-O (crio.ts): its crio binary, to restart it on the dead bed's config for cleanup. */
  crio?: string;
  /** A cluster bed (cluster-bed.ts): its cleanup also undoes its host-wide changes (cluster-host.ts). */
  cluster?: boolean;
  /** Set by `up`: the env a client of this bed needs. */
  env?: Record<string, string>;
}

export function stateDir(): string {
  return process.env.OKGSQ_TB_STATE_DIR || '/tmp/okgsq-testbed';
}

function slotFile(slot: number): string {
  return join(stateDir(), `slot-${slot}.json`);
}

export function slotNetwork(slot: number): CniNetwork {
  return { bridge: `okgsq${slot}`, subnet: `10.254.${FIRST_SUBNET_OCTET + slot}.0/24` };
}

export function readSlot(slot: number): SlotState | undefined {
  try {
    return JSON.parse(readFileSync(slotFile(slot), 'utf8')) as SlotState;
  } catch {
    return undefined;
  }
}

export function listSlots(): SlotState[] {
  const out: SlotState[] = [];
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const state = readSlot(slot);
    if (state) out.push(state);
  }
  return out;
}

/**
 * Runs `fn` holding the slots' lock: an abstract Unix socket of the state dir, which only one process can
 * bind and the kernel releases when its holder dies, so a killed runner never leaves the lock taken.
 */
export async function withSlotLock<T>(fn: () => Promise<T>): Promise<T> {
  const name = `\0okgsq-testbed-slots-${createHash('sha256').update(stateDir()).digest('hex').slice(0, 16)}`;
  const lock = createServer();
  for (;;) {
    const taken = await new Promise<boolean>((resolve, reject) => {
      lock.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve(false) : reject(err)));
      lock.listen(name, () => resolve(true));
    });
    lock.removeAllListeners('error');
    if (taken) break;
    await delay(100); // a held timer: this process has nothing else to wait for
  }
  try {
    return await fn();
  } finally {
    lock.close();
  }
}

/**
 * Claims the first free slot (O_EXCL create). A slot whose owner is dead is handed to `onStale` for cleanup
 * and then reused.
 */
export function claimSlot(workDir: string, onStale: (state: SlotState) => Promise<void>): Promise<SlotState> {
  return withSlotLock(async () => {
    mkdirSync(stateDir(), { recursive: true });
    for (let slot = 0; slot < MAX_SLOTS; slot++) {
      const state: SlotState = { slot, ownerPid: process.pid, network: slotNetwork(slot), workDir, pids: [] };
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const fd = openSync(slotFile(slot), 'wx');
          writeSync(fd, JSON.stringify(state));
          closeSync(fd);
          return state;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          const existing = readSlot(slot);
          if (existing && pidAlive(existing.ownerPid)) break; // in use: next slot
          if (existing) await onStale(existing);
          rmSync(slotFile(slot), { force: true });
        }
      }
    }
    throw new Error(`all ${MAX_SLOTS} test bed slots in ${stateDir()} are in use`);
  });
}

export function updateSlot(state: SlotState): void {
  writeFileSync(slotFile(state.slot), JSON.stringify(state));
}

export function releaseSlot(state: SlotState): void {
  const current = readSlot(state.slot);
  if (current && current.ownerPid === state.ownerPid) rmSync(slotFile(state.slot), { force: true });
}
