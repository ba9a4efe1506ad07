// What the benchmarks measure of a process: CPU from /proc (another process) or process.cpuUsage (this
// one), RSS, event-loop lag, and V8's sampling CPU profile.
import { readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { round } from './bench-kit.js';

/** CPU seconds (user + system) of a process, from /proc (clock ticks of 1/100 s). */
export function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** RSS of a process, from /proc, in MiB with one decimal. */
export function procRssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round((Number(kb) / 1024) * 10) / 10;
}

export interface Window {
  cpuCores: number;
  /** The simulated agents' process: it shares the 2 cores with the apiserver. */
  simCpuCores: number;
  lagP99Ms: number;
  lagMaxMs: number;
  rssMiB: number;
}
/** Sampling interval of the lag histogram; it records whole intervals, so this is subtracted from them. */
export const LAG_RESOLUTION_MS = 10;

/** CPU (cores), event-loop lag (delay beyond the sampling interval) and RSS of this process (the decider; the agents are the child's). */
export function measureWindow(simPid: number): () => Window {
  const sim0 = procCpuSeconds(simPid);
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
  lag.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  return () => {
    lag.disable();
    const cpu = process.cpuUsage(cpu0);
    return {
      cpuCores: round((cpu.user + cpu.system) / 1000 / (performance.now() - t0), 3),
      simCpuCores: round(((procCpuSeconds(simPid) - sim0) * 1000) / (performance.now() - t0), 3),
      lagP99Ms: round(Math.max(0, lag.percentile(99) / 1e6 - LAG_RESOLUTION_MS)),
      lagMaxMs: round(Math.max(0, lag.max / 1e6 - LAG_RESOLUTION_MS)),
      rssMiB: round(process.memoryUsage().rss / 2 ** 20),
    };
  };
}

export interface CpuProfile {
  nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
}

/** Starts V8's sampling profiler on this process; the function returned stops it and gives the profile. */
export async function startCpuProfile(): Promise<() => Promise<CpuProfile>> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    return profile as unknown as CpuProfile;
  };
}

/** The functions with the most self time (share of samples), "name file:line". */
export function topSelfTime(profile: CpuProfile, n: number): { fn: string; selfPct: number }[] {
  const byFn = new Map<string, number>();
  let total = 0;
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    total += hits;
    const f = node.callFrame;
    const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}`;
    byFn.set(key, (byFn.get(key) ?? 0) + hits);
  }
  return [...byFn].sort((a, b) => b[1] - a[1]).slice(0, n).map(([fn, hits]) => ({ fn, selfPct: round((100 * hits) / Math.max(1, total), 1) }));
}
