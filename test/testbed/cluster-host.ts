// What a cluster bed changes on the host outside its work dir, and how it is undone (docs/design.md, "The
// test bed's cluster mode"): the KUBE-* iptables chains of kube-proxy and the kubelet (and, with --netpol,
// kube-router's KUBE-ROUTER-*, KUBE-POD-FW-*, KUBE-NWPLCY-* chains and its ipsets), and the kubepods
// cgroups the kubelet creates. Only one cluster bed runs at a time (a lock in the beds' state dir; others wait), so
// every KUBE-* chain and kubepods cgroup on the host is its own.
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { pidAlive } from './managed-process.js';
import { stateDir, withSlotLock } from './slots.js';

const CGROUP_ROOT = '/sys/fs/cgroup';
const KUBEPODS = 'kubepods';
const IPTABLES_TABLES = ['filter', 'nat', 'mangle'] as const;
const IPTABLES_COMMANDS = ['iptables', 'ip6tables'] as const;
const LOCK_POLL_MS = 2000;

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
 * undoes what that bed left on the host; it runs holding the slots' lock, withSlotLock) and taken over. While a live runner holds it, this waits (told
 * once through `onWait`): parallel runs on one machine queue for the cluster bed instead of failing.
 */
export async function claimClusterLock(
  lock: ClusterLock,
  onStale: (stale: ClusterLock) => Promise<void>,
  onWait: (holder: ClusterLock) => void,
): Promise<void> {
  let told = false;
  for (;;) {
    try {
      const fd = openSync(lockFile(), 'wx');
      writeSync(fd, JSON.stringify(lock));
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const existing = readClusterLock();
    if (existing && pidAlive(existing.ownerPid)) {
      if (!told) onWait(existing);
      told = true;
      await delay(LOCK_POLL_MS);
      continue;
    }
    // Taking over a dead holder's lock happens under the slots' lock, re-read there: two waiters that saw
    // the same dead holder clean up once, and neither removes the lock the other has taken since.
    await withSlotLock(async () => {
      const still = readClusterLock();
      if (still && still.ownerPid !== existing?.ownerPid) return;
      if (still) await onStale(still);
      rmSync(lockFile(), { force: true });
    });
  }
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

/** A rule of a built-in chain (`-A CHAIN … -j KUBE-…`) that jumps into the cluster bed's chains. */
function isKubeRule(rule: string): { chain: string; spec: string } | undefined {
  const m = /^-A (\S+) (.*-j KUBE-\S+.*)$/.exec(rule);
  return m && !m[1]!.startsWith('KUBE-') ? { chain: m[1]!, spec: m[2]! } : undefined;
}

/** `<family> <table>: <rule>` of every rule isKubeRule() finds, for the teardown test's comparison. */
export function kubeRules(): string[] {
  const out: string[] = [];
  for (const command of IPTABLES_COMMANDS) {
    for (const table of IPTABLES_TABLES) {
      for (const line of iptablesRules(command, table)) {
        if (isKubeRule(line)) out.push(`${command === 'iptables' ? 'v4' : 'v6'} ${table}: ${line}`);
      }
    }
  }
  return out.sort();
}

/** Deletes the rules that jump to KUBE-* chains, then flushes and deletes those chains. */
export function removeKubeChains(): void {
  for (const command of IPTABLES_COMMANDS) {
    for (const table of IPTABLES_TABLES) {
      const rules = iptablesRules(command, table);
      for (const rule of rules) {
        const own = isKubeRule(rule);
        if (own) iptables(command, table, ['-D', own.chain, ...splitRule(own.spec)]);
      }
      const chains = rules.map((l) => /^-N (KUBE-\S+)$/.exec(l)?.[1]).filter((c): c is string => c !== undefined);
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

/**
 * kube-router's address sets (ipset): KUBE-SRC-*, KUBE-DST-*, its TMP-* sets while it swaps them, with an
 * `inet6:` prefix for IPv6. Empty when ipset is not installed.
 */
const KUBE_ROUTER_IPSET = /^(inet6:)?(KUBE-|TMP-)/;

export function kubeRouterIpsets(): string[] {
  let out: string;
  try {
    out = execFileSync('ipset', ['list', '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return [];
  }
  return out.split('\n').filter((name) => KUBE_ROUTER_IPSET.test(name)).sort();
}

/** Destroys kube-router's ipsets (after removeKubeChains(): a set still referenced by a rule cannot go); returns those that stay. */
export function removeKubeRouterIpsets(): string[] {
  for (const name of kubeRouterIpsets()) {
    try {
      execFileSync('ipset', ['destroy', name], { stdio: 'ignore' });
    } catch {
      // reported below if it stays
    }
  }
  return kubeRouterIpsets();
}

/**
 * Bridged traffic (pod to pod on the bed's bridge) meets iptables only while br_netfilter's
 * bridge-nf-call-iptables is 1: kube-proxy's hairpin DNAT and kube-router's FORWARD rules need it. Most
 * hosts have it on (Docker and kubeadm set it); where it is 0 the bed turns it on and the teardown (or the
 * next bed, after a runner died) turns it back, from the value kept in the beds' state dir.
 */
export const BRIDGE_NF_SYSCTLS = ['net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables'] as const;

function bridgeNfFile(): string {
  return join(stateDir(), 'bridge-nf-call.json');
}

export function enableBridgeNetfilter(): void {
  const changed: Record<string, string> = {};
  for (const name of BRIDGE_NF_SYSCTLS) {
    const path = `/proc/sys/${name}`;
    if (!existsSync(path)) throw new Error(`${path} is missing: the kernel's br_netfilter (CONFIG_BRIDGE_NETFILTER) is not loaded; --netpol needs bridged pod traffic to pass iptables (modprobe br_netfilter)`);
    const value = readFileSync(path, 'utf8').trim();
    if (value !== '1') changed[name] = value;
  }
  if (Object.keys(changed).length === 0) return;
  writeFileSync(bridgeNfFile(), JSON.stringify(changed));
  for (const name of Object.keys(changed)) writeFileSync(`/proc/sys/${name}`, '1\n');
}

/** Puts back the bridge-nf-call values enableBridgeNetfilter() changed, if it changed any. */
export function restoreBridgeNetfilter(): void {
  let changed: Record<string, string>;
  try {
    changed = JSON.parse(readFileSync(bridgeNfFile(), 'utf8')) as Record<string, string>;
  } catch {
    return;
  }
  for (const [name, value] of Object.entries(changed)) writeFileSync(`/proc/sys/${name}`, `${value}\n`);
  rmSync(bridgeNfFile(), { force: true });
}

/**
 * Undoes what a dead cluster bed left on the host (its kube-proxy and kube-router are gone, so nothing adds
 * it back): the KUBE-* chains, kube-router's ipsets, the bridge-nf-call values, the kubepods cgroups.
 * Returns what could not be undone. A live bed's teardown runs the same steps one by one (cluster-bed.ts).
 */
export function undoClusterHostChanges(): string[] {
  removeKubeChains();
  const left = removeKubeRouterIpsets().map((set) => `ipset ${set} stays`);
  restoreBridgeNetfilter();
  return left.concat(removeKubepodsCgroups().map((failure) => `cgroup: ${failure}`));
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
