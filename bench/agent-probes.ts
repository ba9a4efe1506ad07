// Agent footprint (docs/design.md §8 P6): CPU per 100 probes/s and RSS with 1,000 registered probes, measured in this
// process with the shared ProbeEngine (slot scheduler, thresholds, counters) and the agent's
// CriExecRuntime bookkeeping. Runtime: a fake ExecRuntime (answers at once: the runtime's own exec
// cost is excluded by construction), and, when the test bed's containerd is up (OKGSQ_TB_CONTAINERD_SOCKET),
// real exec probes through CRI ExecSync into busybox containers (containerd's and runc's CPU is theirs,
// not counted here). A third run puts a fake CRI runtime (a grpc-js RuntimeService answering ExecSync at
// once) in a child process, so the agent's whole CRI path (its HTTP/2 client over the unix socket, the container
// index) is measured at the full probe rate without runc's cost.
//   node dist/bench/agent-probes.js [--seconds 20] [--probes 1000] [--period 10]
//   The agent-process row runs with the shipped NODE_OPTIONS (chart agent.nodeOptions);
//   AGENT_BENCH_NODE_OPTIONS= (empty) measures it with V8's defaults instead.
//   (under the bed for the containerd row: node dist/test/testbed/cli.js run -- node dist/bench/agent-probes.js …)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ExecOutput, ExecRuntime } from '../common/probe/types.js';
import { ProbeEngine } from '../common/probe/probe-engine.js';
import { machine } from './bench-kit.js';
import { InstantRuntime, measure, NODE_FLAGS, p99, parseArgs, STDOUT, targets, type Args, type Figures } from './agent-probes-kit.js';
import { execOverhead, withContainerd, withFakeCri } from './agent-probes-cri.js';
import { HTTP_SERVER_FLAG, SERVERS_SCRIPT } from './agent-probes-servers.js';
import { measureAgentProcess } from './agent-process.js';

/** http probes: the engine's real http runner against a server in a child process (its CPU not counted). */
async function withHttp(args: Args): Promise<Figures> {
  const child = spawn(process.execPath, [SERVERS_SCRIPT, HTTP_SERVER_FLAG], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child.once('exit', (code) => reject(new Error(`http server exited with ${code}`)));
    });
    const list = targets(
      args.probes,
      args.period,
      (i) => ({ uid: `pod-${i}`, name: `game-${i}`, namespace: 'bench', container: 'game' }),
      { kind: 'httpGet', path: '/healthz', port, scheme: 'HTTP', headers: [] },
    );
    return await measure('http (real http runner, loopback server)', undefined, list, args.seconds, args.period);
  } finally {
    child.kill('SIGTERM');
  }
}


type Mode = 'fake' | 'fake-cri' | 'http' | 'containerd' | 'exec-overhead' | 'timeouts' | 'agent-process';
/** P7: a few execs hang for ever (ignoring their abort) among many healthy ones. */
class HangingRuntime implements ExecRuntime {
  constructor(private readonly hangs: (podUid: string) => boolean) {}
  async execSync(target: { podUid: string }): Promise<ExecOutput> {
    if (this.hangs(target.podUid)) return new Promise<ExecOutput>(() => {});
    return { exitCode: 0, stdout: STDOUT, stderr: new Uint8Array() };
  }
}


/** Hanging probes: how long after their timeout they are reported; the others: lag behind their cadence. */
async function measureTimeouts(args: Args): Promise<Record<string, number | string>> {
  const HANGING = 10;
  const timeoutSeconds = 2;
  // A short period so every probe runs many times in the window (lag is measured between runs).
  const period = Math.min(args.period, 2);
  const list = targets(args.probes, period, (i) => ({ uid: `pod-${i}`, name: `game-${i}`, namespace: 'bench', container: 'game' })).map((t) => ({
    ...t,
    timing: { ...t.timing, timeoutSeconds },
  }));
  const hanging = new Set(list.slice(0, HANGING).map((t) => t.key.podUid));
  const starts = new Map<string, number[]>();
  const lateBy: number[] = [];
  const engine = new ProbeEngine({
    exec: new HangingRuntime((uid) => hanging.has(uid)),
    onOutcome: () => {},
    onRun: (run, target) => {
      const startedAt = run.observedAtMs - run.durationMs;
      if (hanging.has(target.key.podUid)) lateBy.push(run.durationMs - timeoutSeconds * 1000);
      else starts.set(target.key.podUid, [...(starts.get(target.key.podUid) ?? []), startedAt]);
    },
  });
  engine.replaceAll(list);
  engine.start();
  await new Promise((r) => setTimeout(r, args.seconds * 1000));
  await engine.stop();
  const lags: number[] = [];
  const periodMs = period * 1000;
  for (const s of starts.values()) for (let k = 1; k < s.length; k++) lags.push(s[k]! - s[0]! - k * periodMs);
  return {
    runtime: `fake, ${HANGING} of ${args.probes} execs hang (timeout ${timeoutSeconds} s, period ${period} s)`,
    hangingReports: lateBy.length,
    hangingReportedAfterTimeoutP99Ms: p99(lateBy),
    otherRuns: lags.length,
    scheduleLagP99Ms: p99(lags.map((l) => Math.max(0, l))),
  };
}
const MODE_FLAG = '--mode';

/** One mode in this process (RSS is per process, so each mode gets a fresh one). */
async function runMode(mode: Mode, args: Args): Promise<Figures | Record<string, number | string> | undefined> {
  switch (mode) {
    case 'timeouts':
      return measureTimeouts(args);
    case 'agent-process':
      return measureAgentProcess(args);
    case 'fake':
      return measure(
        'fake (instant ExecRuntime)',
        new InstantRuntime(),
        targets(args.probes, args.period, (i) => ({ uid: `pod-${Math.floor(i / 2)}`, name: `game-${Math.floor(i / 2)}`, namespace: 'bench', container: 'game' })),
        args.seconds,
        args.period,
      );
    case 'fake-cri':
      return withFakeCri(args);
    case 'http':
      return withHttp(args);
    case 'exec-overhead': {
      const socket = process.env.OKGSQ_TB_CONTAINERD_SOCKET;
      return socket ? execOverhead(socket, 100) : undefined;
    }
    case 'containerd': {
      const socket = process.env.OKGSQ_TB_CONTAINERD_SOCKET;
      return socket ? withContainerd(socket, args.seconds) : undefined;
    }
  }
}

function runChild<T = Figures>(mode: Mode, argv: string[]): Promise<T | undefined> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_FLAGS, fileURLToPath(import.meta.url), MODE_FLAG, mode, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench mode ${mode} exited with ${code}`));
      const line = out.trim();
      resolve(line ? (JSON.parse(line) as T) : undefined);
    });
  });
}

async function main(): Promise<void> {
  if (process.argv[2] === MODE_FLAG) {
    const mode = process.argv[3] as Mode;
    const figures = await runMode(mode, parseArgs(process.argv.slice(4)));
    if (figures) process.stdout.write(`${JSON.stringify(figures)}\n`);
    return;
  }
  const argv = process.argv.slice(2);
  parseArgs(argv);
  const results: Figures[] = [];
  for (const mode of ['fake', 'fake-cri', 'agent-process', 'http', 'containerd'] as const) {
    if (mode === 'containerd' && !process.env.OKGSQ_TB_CONTAINERD_SOCKET) {
      process.stderr.write('agent-probes: OKGSQ_TB_CONTAINERD_SOCKET not set: real containerd run skipped (run under the test bed for it)\n');
      continue;
    }
    const figures = await runChild(mode, argv);
    if (figures) results.push(figures);
  }
  const timeouts = await runChild<Record<string, number | string>>('timeouts', argv);
  const overhead = process.env.OKGSQ_TB_CONTAINERD_SOCKET ? await runChild<Record<string, number | string>>('exec-overhead', argv) : undefined;
  process.stdout.write(`${JSON.stringify({ bench: 'agent-probes', node: process.version, nodeFlags: NODE_FLAGS, machine: machine(), results, timeouts, execOverhead: overhead }, null, 2)}\n\n`);
  const rows = results.map((r) => [r.runtime, r.registeredProbes, r.probesPerSecond, r.cpuPercentOfOneCore, r.cpuPercentPer100ProbesPerSecond, r.rssMiB, r.criCallsPerRun ?? '']);
  const head = ['runtime', 'probes', 'probes/s', 'cpu % (1 core)', 'cpu % per 100 probes/s', 'RSS MiB', 'CRI calls/run'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells: (string | number)[]): string => cells.map((c, i) => String(c).padEnd(widths[i]!)).join('  ');
  process.stdout.write(`${line(head)}\n${line(widths.map((w) => '-'.repeat(w)))}\n${rows.map(line).join('\n')}\n`);
  if (timeouts) {
    process.stdout.write(
      `\nP7 (${timeouts.runtime}): hanging probes reported ${timeouts.hangingReportedAfterTimeoutP99Ms} ms after their timeout (p99, ${timeouts.hangingReports} reports); ` +
        `other probes' schedule lag p99 ${timeouts.scheduleLagP99Ms} ms (${timeouts.otherRuns} runs)\n`,
    );
  }
  if (overhead) {
    process.stdout.write(
      `\nexec overhead on one real containerd container (${overhead.runs} runs each): agent path median ${overhead.agentMedianMs} ms vs direct ExecSync ${overhead.directMedianMs} ms ` +
        `(ratio ${overhead.wallRatio}); this process's CPU per exec ${overhead.agentCpuMsPerExec} ms vs ${overhead.directCpuMsPerExec} ms; CRI calls per agent exec ${overhead.criCallsPerAgentExec}\n`,
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`agent-probes: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});