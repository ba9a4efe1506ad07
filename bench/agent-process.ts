// The agent benchmark's agent-process row (bench/agent-probes.ts): the built agent (dist/agent/main.js) as
// its own process with the shipped NODE_OPTIONS, a fake CRI server and a stub decider; CPU and RSS from /proc.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { repoRoot } from '../test/testbed/repo-root.js';
import { NODE_FLAGS, type Args, type Figures } from './agent-probes-kit.js';
import { FAKE_CRI_CONTAINER, FAKE_CRI_FLAG, FAKE_CRI_PODS, SERVERS_SCRIPT } from './agent-probes-servers.js';
import { procCpuSeconds, procRssMiB } from './process-stats.js';

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
export async function measureAgentProcess(args: Args): Promise<Figures> {
  const { AgentServiceStub } = await import('../test/integration/agent/agent-service-stub.js');
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-bench-agent-'));
  const socket = join(dir, 'cri.sock');
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, 'bench');
  const cri = spawn(process.execPath, [SERVERS_SCRIPT, FAKE_CRI_FLAG, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
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

