// The agent benchmark's measuring core (bench/agent-probes.ts): arguments, probe targets, an instant
// ExecRuntime, and one measurement window over a ProbeEngine (CPU, RSS, runs, CRI calls).
import type { ExecOutput, ExecRuntime, ProbeTarget } from '../common/probe/types.js';
import { ProbeEngine } from '../common/probe/probe-engine.js';

export interface Args {
  seconds: number;
  probes: number;
  period: number;
}

export function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 20, probes: 1000, period: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') as keyof Args;
    const value = Number(argv[i + 1]);
    if (!(name in args) || !Number.isFinite(value) || value <= 0) throw new Error(`bad argument ${argv[i]} ${argv[i + 1]}`);
    args[name] = value;
  }
  return args;
}

export const STDOUT = new TextEncoder().encode('gate\n');

/** Answers every exec at once with "gate", like a runtime that costs nothing. */
export class InstantRuntime implements ExecRuntime {
  execs = 0;
  async execSync(): Promise<ExecOutput> {
    this.execs++;
    return { exitCode: 0, stdout: STDOUT, stderr: new Uint8Array() };
  }
  async containerStartedAtMs(): Promise<number | undefined> {
    return Date.now() - 60_000;
  }
}

export const EXEC_HANDLER: ProbeTarget['handler'] = { kind: 'exec', command: ['/probe.sh'] };

export function targets(
  count: number,
  period: number,
  pod: (i: number) => { uid: string; name: string; namespace: string; container: string },
  handler: ProbeTarget['handler'] = EXEC_HANDLER,
): ProbeTarget[] {
  return Array.from({ length: count }, (_, i) => {
    const p = pod(i);
    return {
      key: { podUid: p.uid, quality: `q${i}` },
      namespace: p.namespace,
      podName: p.name,
      gameServerSet: 'bench',
      containerName: p.container,
      podIp: '127.0.0.1',
      handler,
      timing: { initialDelaySeconds: 0, timeoutSeconds: 5, periodSeconds: period, successThreshold: 1, failureThreshold: 3 },
      containerStartedAtMs: 0,
    } satisfies ProbeTarget;
  });
}

export interface Figures {
  runtime: string;
  registeredProbes: number;
  probesPerSecond: number;
  cpuPercentOfOneCore: number;
  cpuPercentPer100ProbesPerSecond: number;
  rssMiB: number;
  heapUsedMiB: number;
  runsCounted: number;
  /** CRI requests the agent's client made in the window, by method, and per probe run. */
  criCalls?: Record<string, number>;
  criCallsPerRun?: number;
}

/** Counts the agent's CRI requests by method (CriClient's onCall hook, one call per request). */
export class CallCounter {
  readonly byMethod = new Map<string, number>();
  readonly onCall = (method: string): void => void this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
}

export async function measure(runtimeName: string, exec: ExecRuntime | undefined, list: ProbeTarget[], seconds: number, period: number, calls?: CallCounter): Promise<Figures> {
  let runs = 0;
  const engine = new ProbeEngine({ exec, onOutcome: () => {}, onRun: () => void runs++, maxConcurrentExecs: 16 });
  engine.replaceAll(list);
  engine.start();
  // Warm-up: two periods, so every key has run and the first runs' backlog (channel connect, first
  // container listing) is not counted in the window.
  await new Promise((r) => setTimeout(r, 2 * period * 1000 + 500));
  engine.takeCounters();
  runs = 0;
  calls?.byMethod.clear();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  // The reporter takes counters every few seconds; do the same so that cost is included.
  const counters = setInterval(() => engine.takeCounters(), 5_000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  clearInterval(counters);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const mem = process.memoryUsage();
  await engine.stop();
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rate = runs / wall;
  const cpuPercent = (cpuSeconds / wall) * 100;
  return {
    runtime: runtimeName,
    registeredProbes: list.length,
    probesPerSecond: Math.round(rate * 10) / 10,
    cpuPercentOfOneCore: Math.round(cpuPercent * 100) / 100,
    cpuPercentPer100ProbesPerSecond: Math.round((cpuPercent / (rate / 100)) * 100) / 100,
    rssMiB: Math.round((mem.rss / 2 ** 20) * 10) / 10,
    heapUsedMiB: Math.round((mem.heapUsed / 2 ** 20) * 10) / 10,
    runsCounted: runs,
    ...(calls
      ? {
          criCalls: Object.fromEntries(calls.byMethod),
          criCallsPerRun: Math.round(([...calls.byMethod.values()].reduce((a, b) => a + b, 0) / Math.max(1, runs)) * 1000) / 1000,
        }
      : {}),
  };
}


export function p99(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
}


/** V8 flags for the measured processes, e.g. AGENT_BENCH_NODE_FLAGS=--max-semi-space-size=2 (RSS vs CPU). */
export const NODE_FLAGS = (process.env.AGENT_BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
