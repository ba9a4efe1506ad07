// CPU and RSS of a pod's processes, from /proc (the pods' cgroups name their uid), per component of
// OKG's chain and of okg-sq (bench/vs-okg.ts).
import { readdirSync, readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { RELEASE_NAME, RELEASE_NAMESPACE } from '../test/testbed/cluster-bed.js';
import type { OkgBed } from '../test/okg-tier/okg-kit.js';

export interface ProcSample {
  ticks: number;
  rssKiB: number;
  pids: number;
  comms: string[];
}

export function podProcesses(uid: string): number[] {
  const forms = [uid, uid.replaceAll('-', '_')];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      if (!forms.some((f) => cgroup.includes(f))) continue;
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'pause') continue;
      out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

export function sampleProcs(pids: number[]): ProcSample {
  let ticks = 0;
  let rssKiB = 0;
  let alive = 0;
  const comms: string[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      rssKiB += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      alive++;
      comms.push(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
    } catch {
      // gone meanwhile
    }
  }
  return { ticks, rssKiB, pids: alive, comms };
}

export const CLK_TCK = 100;

/** The components whose footprint is compared: pods by namespace and name prefix. */
export const COMPONENTS = {
  'kruise-daemon': ['kruise-system', 'kruise-daemon-'],
  'kruise-manager': ['kruise-system', 'kruise-controller-manager-'],
  'kruise-game-manager': ['kruise-game-system', 'kruise-game-controller-manager-'],
  'okg-sq agent': [RELEASE_NAMESPACE, `${RELEASE_NAME}-agent-`],
  'okg-sq decider': [RELEASE_NAMESPACE, `${RELEASE_NAME}-decider-`],
} as const;
export type Component = keyof typeof COMPONENTS;

export interface Footprint {
  pods: number;
  processes: number;
  comms?: string[];
  cpuCores: number;
  rssMiB: number;
}

export async function componentPids(bed: OkgBed): Promise<Map<Component, { pods: number; pids: number[] }>> {
  const out = new Map<Component, { pods: number; pids: number[] }>();
  for (const [name, [namespace, prefix]] of Object.entries(COMPONENTS) as [Component, readonly [string, string]][]) {
    const pods = (await bed.core.listNamespacedPod({ namespace }).catch(() => ({ items: [] as V1Pod[] }))).items
      .filter((p) => p.metadata!.name!.startsWith(prefix) && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    if (pods.length === 0) continue;
    out.set(name, { pods: pods.length, pids: pods.flatMap((p) => podProcesses(p.metadata!.uid!)) });
  }
  return out;
}
