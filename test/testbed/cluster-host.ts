// What a cluster bed changes on the host outside its work dir, and how it is undone (docs/design.md, "The
// test bed's cluster mode"): the KUBE-* iptables chains of kube-proxy and the kubelet, and the kubepods
// cgroups the kubelet creates. Only one cluster bed runs at a time (a lock in the beds' state dir), so
// every KUBE-* chain and kubepods cgroup on the host is its own.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pidAlive } from './managed-process.js';
import { stateDir } from './slots.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const KUBEPODS = 'kubepods';
const IPTABLES_TABLES = ['filter', 'nat', 'mangle'] as const;
const IPTABLES_COMMANDS = ['iptables', 'ip6tables'] as const;

export interface ClusterLock {
  ownerPid: number;
  slot: number;
  workDir: string;
}

function lockFile(): string {
  return join(stateDir(), 'cluster.json');
}

export function readClusterLock(): ClusterLock | undefined {
  try {
    return JSON.parse(readFileSync(lockFile(), 'utf8')) as ClusterLock;
  } catch {
    return undefined;
  }
}

/**
 * Takes the one cluster bed's lock (O_EXCL create). A lock whose owner died is handed to `onStale` (which
 * undoes what that bed left on the host) and taken over; a live owner is an error naming it.
 */
export async function claimClusterLock(lock: ClusterLock, onStale: (stale: ClusterLock) => Promise<void>): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockFile(), 'wx');
      writeSync(fd, JSON.stringify(lock));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const existing = readClusterLock();
      if (existing && pidAlive(existing.ownerPid)) {
        throw new Error(`a cluster bed is already running (runner PID ${existing.ownerPid}, slot ${existing.slot}, ${existing.workDir}): `
          + 'kube-proxy\'s iptables rules and the kubelet\'s kubepods cgroups are global to the host, so one cluster bed runs at a time');
      }
      if (existing) await onStale(existing);
      rmSync(lockFile(), { force: true });
    }
  }
  throw new Error(`could not take the cluster bed lock ${lockFile()}`);
}

export function releaseClusterLock(ownerPid: number): void {
  if (readClusterLock()?.ownerPid === ownerPid) rmSync(lockFile(), { force: true });
}

/** `<table>/<chain>` of every KUBE-* chain, for iptables (v4) and ip6tables (v6). */
export function kubeChains(): string[] {
  const out: string[] = [];
  for (const command of IPTABLES_COMMANDS) {
    for (const table of IPTABLES_TABLES) {
      for (const line of iptablesRules(command, table)) {
        const m = /^-N (KUBE-\S+)$/.exec(line);
        if (m) out.push(`${command === 'iptables' ? 'v4' : 'v6'} ${table}/${m[1]}`);
      }
    }
  }
  return out.sort();
}

function iptablesRules(command: string, table: string): string[] {
  try {
    return execFileSync(command, ['-w', '-t', table, '-S'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n');
  } catch {
    return []; // no such table (or no ip6tables): nothing of ours there
  }
}

/** Deletes the rules that jump to KUBE-* chains, then flushes and deletes those chains. */
export function removeKubeChains(): void {
  for (const command of IPTABLES_COMMANDS) {
    for (const table of IPTABLES_TABLES) {
      const rules = iptablesRules(command, table);
      const chains = rules.map((l) => /^-N (KUBE-\S+)$/.exec(l)?.[1]).filter((c): c is string => c !== undefined);
      if (chains.length === 0) continue;
      for (const rule of rules) {
        const m = /^-A (\S+) (.*-j KUBE-\S+.*)$/.exec(rule);
        if (m && !m[1]!.startsWith('KUBE-')) iptables(command, table, ['-D', m[1]!, ...splitRule(m[2]!)]);
      }
      for (const chain of chains) iptables(command, table, ['-F', chain]);
      for (const chain of chains) iptables(command, table, ['-X', chain]);
    }
  }
}

function iptables(command: string, table: string, args: string[]): void {
  try {
    execFileSync(command, ['-w', '-t', table, ...args], { stdio: 'ignore' });
  } catch {
    // already gone (kube-proxy --cleanup raced us)
  }
}

/** Splits an `iptables -S` rule into arguments (quoted comments stay one argument). */
function splitRule(rule: string): string[] {
  return [...rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)].map((m) => (m[1] !== undefined ? m[1].replace(/\\"/g, '"') : m[2]!));
}

/** The kubepods cgroup folders on the host, one per hierarchy that has one. */
export function kubepodsCgroups(): string[] {
  const out: string[] = [];
  for (const hierarchy of safeReaddir(CGROUP_ROOT)) {
    const dir = join(CGROUP_ROOT, hierarchy, KUBEPODS);
    if (existsSync(dir)) out.push(dir);
  }
  if (existsSync(join(CGROUP_ROOT, KUBEPODS))) out.push(join(CGROUP_ROOT, KUBEPODS)); // cgroup v2
  return out.sort();
}

/** Removes the kubepods cgroup trees, deepest first (a cgroup can only be removed once it is empty). */
export function removeKubepodsCgroups(): string[] {
  const failed: string[] = [];
  const remove = (dir: string): void => {
    for (const entry of safeReaddir(dir)) {
      const child = join(dir, entry);
      if (isDirectory(child)) remove(child);
    }
    try {
      rmdirSync(dir);
    } catch (err) {
      failed.push(`${dir}: ${(err as Error).message}`);
    }
  };
  for (const dir of kubepodsCgroups()) remove(dir);
  return failed;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
