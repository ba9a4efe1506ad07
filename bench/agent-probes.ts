// Agent footprint (docs/design.md §8 P6): CPU per 100 probes/s and RSS with 1,000 registered probes, measured in this
// process with the shared ProbeEngine (slot scheduler, thresholds, counters) and the agent's
// CriExecRuntime bookkeeping. Runtime: a fake ExecRuntime (answers at once: the runtime's own exec
// cost is excluded by construction), and, when the test bed's containerd is up (OKGSQ_TB_CONTAINERD_SOCKET),
// real exec probes through CRI ExecSync into busybox containers (containerd's and runc's CPU is theirs,
// not counted here). A third run puts a fake CRI runtime (a grpc-js RuntimeService answering ExecSync at
// once) in a child process, so the agent's whole CRI path (grpc-js over the unix socket, the container
// index) is measured at the full probe rate without runc's cost.
//   node dist/bench/agent-probes.js [--seconds 20] [--probes 1000] [--period 10]
//   The agent-process row runs with the shipped NODE_OPTIONS (chart agent.nodeOptions);
//   AGENT_BENCH_NODE_OPTIONS= (empty) measures it with V8's defaults instead.
//   (under the bed for the containerd row: node dist/test/testbed/cli.js run -- node dist/bench/agent-probes.js …)
import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { RuntimeServiceService, type ExecSyncRequest, type ExecSyncResponse, type ListContainersResponse } from '../proto/gen/cri/runtime/v1/api.js';
import { CriClient } from '../agent/cri/cri-client.js';
import { criAddress } from '../agent/cri/cri-endpoint.js';
import { CriExecRuntime } from '../agent/cri/cri-exec-runtime.js';
import { ProbeEngine } from '../common/probe/probe-engine.js';
import type { ExecOutput, ExecRuntime, ProbeTarget } from '../common/probe/types.js';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../test/testbed/repo-root.js';
import { machine } from './bench-kit.js';

interface Args {
  seconds: number;
  probes: number;
  period: number;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { seconds: 20, probes: 1000, period: 10 };
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]?.replace(/^--/, '') as keyof Args;
    const value = Number(argv[i + 1]);
    if (!(name in args) || !Number.isFinite(value) || value <= 0) throw new Error(`bad argument ${argv[i]} ${argv[i + 1]}`);
    args[name] = value;
  }
  return args;
}

const STDOUT = new TextEncoder().encode('gate\n');

/** Answers every exec at once with "gate", like a runtime that costs nothing. */
class InstantRuntime implements ExecRuntime {
  execs = 0;
  async execSync(): Promise<ExecOutput> {
    this.execs++;
    return { exitCode: 0, stdout: STDOUT, stderr: new Uint8Array() };
  }
  async containerStartedAtMs(): Promise<number | undefined> {
    return Date.now() - 60_000;
  }
}

const EXEC_HANDLER: ProbeTarget['handler'] = { kind: 'exec', command: ['/probe.sh'] };

function targets(
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

interface Figures {
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
class CallCounter {
  readonly byMethod = new Map<string, number>();
  readonly onCall = (method: string): void => void this.byMethod.set(method, (this.byMethod.get(method) ?? 0) + 1);
}

async function measure(runtimeName: string, exec: ExecRuntime | undefined, list: ProbeTarget[], seconds: number, period: number, calls?: CallCounter): Promise<Figures> {
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

async function withContainerd(socket: string, seconds: number): Promise<Figures | undefined> {
  // Imported lazily: only this mode needs the bed's FakeKubelet.
  const { FakeKubelet } = await import('../test/testbed/fake-kubelet.js');
  const kubelet = new FakeKubelet({ socket, nodeName: 'bench-node' });
  const namespace = `bench-${randomUUID().slice(0, 8)}`;
  const pods: Awaited<ReturnType<typeof kubelet.runPod>>[] = [];
  const containerCount = 10;
  const probesPerContainer = 2;
  const period = 1;
  try {
    for (let i = 0; i < containerCount; i++) {
      pods.push(
        await kubelet.runPod({
          namespace,
          name: `game-${i}`,
          inApiserver: false,
          containers: [{ name: 'game', command: ['sh', '-c', 'printf "#!/bin/sh\\necho gate\\n" > /probe.sh && chmod +x /probe.sh && exec sleep 100000'] }],
        }),
      );
    }
    const calls = new CallCounter();
    const cri = new CriClient(criAddress(socket), { onCall: calls.onCall });
    const runtime = new CriExecRuntime(cri);
    const list = targets(containerCount * probesPerContainer, period, (i) => {
      const pod = pods[i % containerCount]!;
      return { uid: pod.uid, name: pod.name, namespace, container: 'game' };
    });
    const figures = await measure('containerd (real CRI ExecSync)', runtime, list, seconds, period, calls);
    await runtime.stop();
    cri.close();
    return figures;
  } finally {
    for (const pod of pods) await kubelet.removePod(pod).catch(() => {});
    await kubelet.close();
  }
}

const FAKE_CRI_FLAG = '--serve-fake-cri';
const FAKE_CRI_PODS = 500;
const FAKE_CRI_CONTAINER = 'game';

/** Child-process mode: a CRI RuntimeService on a unix socket whose containers answer every exec at once. */
async function serveFakeCri(socket: string): Promise<void> {
  const containers: ListContainersResponse['containers'] = Array.from({ length: FAKE_CRI_PODS }, (_, i) => ({
    id: `c${i}`,
    podSandboxId: `s${i}`,
    metadata: { name: FAKE_CRI_CONTAINER, attempt: 0 },
    image: undefined,
    imageRef: '',
    state: 1,
    createdAt: 0n,
    labels: { 'io.kubernetes.pod.uid': `pod-${i}`, 'io.kubernetes.container.name': FAKE_CRI_CONTAINER },
    annotations: {},
  }));
  const stdout = Buffer.from('gate\n');
  const impl: UntypedServiceImplementation = {
    version: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '0', runtimeApiVersion: 'v1' }),
    listContainers: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<ListContainersResponse>) => cb(null, { containers }),
    // started_at 0 (unknown): the agent falls back to the plan's start; a real runtime answers in ns.
    containerStatus: (call: ServerUnaryCall<{ containerId: string }, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, { status: { id: call.request.containerId, state: 1, createdAt: 0n, startedAt: 0n, finishedAt: 0n, exitCode: 0, labels: {}, annotations: {} }, info: {} }),
    execSync: (_call: ServerUnaryCall<ExecSyncRequest, ExecSyncResponse>, cb: sendUnaryData<ExecSyncResponse>) =>
      cb(null, { stdout, stderr: Buffer.alloc(0), exitCode: 0 }),
  };
  const server = new Server();
  server.addService(RuntimeServiceService, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => server.forceShutdown());
}

async function withFakeCri(args: Args): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-bench-cri-'));
  const socket = join(dir, 'cri.sock');
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), FAKE_CRI_FLAG, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`fake CRI exited with ${code}`)));
    });
    const calls = new CallCounter();
    const cri = new CriClient(criAddress(socket), { onCall: calls.onCall });
    const runtime = new CriExecRuntime(cri);
    const list = targets(args.probes, args.period, (i) => {
      const pod = i % FAKE_CRI_PODS;
      return { uid: `pod-${pod}`, name: `game-${pod}`, namespace: 'bench', container: FAKE_CRI_CONTAINER };
    });
    const figures = await measure('fake CRI server (grpc-js over unix socket)', runtime, list, args.seconds, args.period, calls);
    await runtime.stop();
    cri.close();
    return figures;
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const HTTP_SERVER_FLAG = '--serve-http';

/** Child-process mode: the games' HTTP endpoint, answering every probe "gate" at once. */
async function serveHttp(): Promise<void> {
  const server = createServer((_req, res) => res.end('gate'));
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

/** http probes: the engine's real http runner against a server in a child process (its CPU not counted). */
async function withHttp(args: Args): Promise<Figures> {
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), HTTP_SERVER_FLAG], { stdio: ['ignore', 'pipe', 'inherit'] });
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

/**
 * The agent's exec path against calling ExecSync directly, on the same real containerd container:
 * sequential runs alternating the two, median wall time and this process's CPU per exec each.
 */
async function execOverhead(socket: string, runs: number): Promise<Record<string, number | string> | undefined> {
  const { FakeKubelet } = await import('../test/testbed/fake-kubelet.js');
  const kubelet = new FakeKubelet({ socket, nodeName: 'bench-node' });
  const namespace = `bench-${randomUUID().slice(0, 8)}`;
  const pod = await kubelet.runPod({
    namespace,
    name: 'game-overhead',
    inApiserver: false,
    containers: [{ name: 'game', command: ['sh', '-c', 'printf "#!/bin/sh\\necho gate\\n" > /probe.sh && chmod +x /probe.sh && exec sleep 100000'] }],
  });
  const calls = new CallCounter();
  const cri = new CriClient(criAddress(socket), { onCall: calls.onCall });
  const runtime = new CriExecRuntime(cri);
  try {
    const id = pod.containers[0]!.id;
    const target = { podUid: pod.uid, namespace, podName: pod.name, containerName: 'game' };
    const signal = new AbortController().signal;
    const direct = async (): Promise<void> => void (await cri.execSync(id, ['/probe.sh'], 5, 6_000, signal));
    const agent = async (): Promise<void> => void (await runtime.execSync(target, ['/probe.sh'], { timeoutMs: 5_000, signal }));
    // Warm both paths (channel connect, container index) before measuring.
    await direct();
    await agent();
    const wall = { direct: [] as number[], agent: [] as number[] };
    const cpu = { direct: 0, agent: 0 };
    calls.byMethod.clear();
    for (let i = 0; i < runs; i++) {
      for (const [name, fn] of [['direct', direct], ['agent', agent]] as const) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await fn();
        wall[name].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[name] += (c.user + c.system) / 1000;
      }
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const r2 = (n: number): number => Math.round(n * 100) / 100;
    return {
      runs,
      directMedianMs: r2(median(wall.direct)),
      agentMedianMs: r2(median(wall.agent)),
      wallRatio: r2(median(wall.agent) / median(wall.direct)),
      directCpuMsPerExec: r2(cpu.direct / runs),
      agentCpuMsPerExec: r2(cpu.agent / runs),
      // All calls made: `runs` direct ExecSyncs plus the agent path's; the rest per agent exec is its cost.
      criCallsPerAgentExec: r2(([...calls.byMethod.values()].reduce((a, b) => a + b, 0) - runs) / runs),
    };
  } finally {
    await runtime.stop();
    cri.close();
    await kubelet.removePod(pod).catch(() => {});
    await kubelet.close();
  }
}

type Mode = 'fake' | 'fake-cri' | 'http' | 'containerd' | 'exec-overhead' | 'timeouts' | 'agent-process';

function procCpuSeconds(pid: number): number {
  // /proc/<pid>/stat: utime and stime are fields 14 and 15, in clock ticks (100 per second on Linux).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function procRssMiB(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Math.round((Number(kb) / 1024) * 10) / 10;
}

/**
 * The agent's NODE_OPTIONS as shipped (the chart's agent.nodeOptions, which Dockerfile.agent's ENV equals:
 * test/chart checks it), so the agent-process row measures the deployed heap settings.
 * AGENT_BENCH_NODE_OPTIONS overrides it; set it empty for V8's defaults.
 */
function agentNodeOptions(): string {
  const override = process.env.AGENT_BENCH_NODE_OPTIONS;
  if (override !== undefined) return override;
  const values = parseYaml(readFileSync(join(repoRoot(import.meta.url), 'charts', 'okg-sq', 'values.yaml'), 'utf8')) as { agent?: { nodeOptions?: string } };
  return values.agent?.nodeOptions ?? '';
}

/** The built agent (dist/agent/main.js) as its own process: fake CRI server, a stub decider with the plan. */
async function measureAgentProcess(args: Args): Promise<Figures> {
  const { AgentServiceStub } = await import('../test/integration/agent/agent-service-stub.js');
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-bench-agent-'));
  const socket = join(dir, 'cri.sock');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'bench');
  const cri = spawn(process.execPath, [fileURLToPath(import.meta.url), FAKE_CRI_FLAG, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  const stub = new AgentServiceStub();
  let agent: ReturnType<typeof spawn> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      cri.stdout?.once('data', () => resolve());
      cri.once('exit', (code) => reject(new Error(`fake CRI exited with ${code}`)));
    });
    stub.plan = [
      {
        full: true,
        upsert: Array.from({ length: args.probes }, (_, i) => ({
          podUid: `pod-${i % FAKE_CRI_PODS}`,
          quality: `q${i}`,
          namespace: 'bench',
          podName: `game-${i % FAKE_CRI_PODS}`,
          gameServerSet: 'bench',
          containerName: FAKE_CRI_CONTAINER,
          podIp: '127.0.0.1',
          handler: { kind: { $case: 'exec' as const, value: { command: ['/probe.sh'] } } },
          timing: { initialDelaySeconds: 0, timeoutSeconds: 5, periodSeconds: args.period, successThreshold: 1, failureThreshold: 3 },
          containerStartedUnixMs: 0,
        })),
        remove: [],
        resyncIntervalSeconds: 0,
      },
    ];
    const port = await stub.start();
    const agentMain = fileURLToPath(new URL('../agent/main.js', import.meta.url));
    const nodeOptions = agentNodeOptions();
    agent = spawn(process.execPath, [...NODE_FLAGS, agentMain], {
      env: {
        PATH: process.env.PATH,
        ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}),
        OKGSQ_NODE_NAME: 'bench-node',
        OKGSQ_DECIDER_ADDRESS: `127.0.0.1:${port}`,
        OKGSQ_INSECURE_GRPC: 'true',
        OKGSQ_TOKEN_FILE: tokenFile,
        OKGSQ_CRI_ENDPOINT: socket,
        OKGSQ_HTTP_PORT: '0',
        OKGSQ_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    const pid = agent.pid!;
    await new Promise((r) => setTimeout(r, 2 * args.period * 1000 + 1_000));
    const cpu0 = procCpuSeconds(pid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, args.seconds * 1000));
    const wall = (performance.now() - t0) / 1000;
    const cpuPercent = ((procCpuSeconds(pid) - cpu0) / wall) * 100;
    const rate = args.probes / args.period;
    const runs = stub
      .batches()
      .flatMap((b) => b.counters)
      .flatMap((c) => c.runs)
      .reduce((n, r) => n + r.count, 0);
    return {
      runtime: `agent process (dist/agent/main.js, NODE_OPTIONS=${JSON.stringify(nodeOptions)}) + fake CRI + stub decider`,
      registeredProbes: args.probes,
      probesPerSecond: Math.round(rate * 10) / 10,
      cpuPercentOfOneCore: Math.round(cpuPercent * 100) / 100,
      cpuPercentPer100ProbesPerSecond: Math.round((cpuPercent / (rate / 100)) * 100) / 100,
      rssMiB: procRssMiB(pid),
      heapUsedMiB: -1,
      runsCounted: runs,
    };
  } finally {
    // The agent first (it ends its stream cleanly), then what it talks to.
    if (agent && agent.exitCode === null) {
      const exited = new Promise((resolve) => agent!.once('exit', resolve));
      agent.kill('SIGTERM');
      await exited;
    }
    cri.kill('SIGTERM');
    stub.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** P7: a few execs hang for ever (ignoring their abort) among many healthy ones. */
class HangingRuntime implements ExecRuntime {
  constructor(private readonly hangs: (podUid: string) => boolean) {}
  async execSync(target: { podUid: string }): Promise<ExecOutput> {
    if (this.hangs(target.podUid)) return new Promise<ExecOutput>(() => {});
    return { exitCode: 0, stdout: STDOUT, stderr: new Uint8Array() };
  }
}

function p99(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]!;
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
/** V8 flags for the measured processes, e.g. AGENT_BENCH_NODE_FLAGS=--max-semi-space-size=2 (RSS vs CPU). */
const NODE_FLAGS = (process.env.AGENT_BENCH_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
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
  if (process.argv[2] === FAKE_CRI_FLAG) return serveFakeCri(process.argv[3]!);
  if (process.argv[2] === HTTP_SERVER_FLAG) return serveHttp();
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
