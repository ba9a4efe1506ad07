// P4: outcomes per decider CPU-second through a real grpc-js stream into AgentService, decode and
// OutcomeSink included. The agent runs in a child process so only the decider side is measured.
//   node dist/bench/ingest-throughput.js [--quick]
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import pino from 'pino';
import { probeKeyString, type Outcome, type ProbeKey } from '../common/outcome.js';
import type { ProbeTarget } from '../common/probe/types.js';
import { startAgentServer } from '../decider/ingest/agent-server.js';
import type { AgentAuthenticator, IngestMetrics, OutcomeSink, PlanSource } from '../decider/ingest/ports.js';
import { AgentServiceClient, type AgentMessage, type Outcome as WireOutcome } from '../proto/gen/okgsq/v1/agent.js';
import { report } from './bench-kit.js';

const NODE = 'bench-node';
/** Distinct keys planned on the node: outcomes cycle over them, as a busy node's flips would. */
const PLANNED_KEYS = 10_000;

interface Scenario {
  readonly name: string;
  readonly perMessage: number;
  readonly outcomes: number;
}

const FULL: Scenario[] = [
  { name: 'batched-100', perMessage: 100, outcomes: 1_000_000 },
  { name: 'batched-10', perMessage: 10, outcomes: 300_000 },
  { name: 'unbatched', perMessage: 1, outcomes: 100_000 },
];
const QUICK: Scenario[] = FULL.map((s) => ({ ...s, outcomes: Math.ceil(s.outcomes / 10) }));

function podUid(i: number): string {
  return `00000000-0000-4000-8000-${String(i % PLANNED_KEYS).padStart(12, '0')}`;
}

// ---- agent side (child process) ----
async function runAgent(address: string, perMessage: number, total: number): Promise<void> {
  const client = new AgentServiceClient(address, credentials.createInsecure(), { 'grpc.max_send_message_length': 8 * 1024 * 1024 });
  const md = new Metadata();
  md.set('authorization', 'Bearer bench-token');
  const stream = client.connect(md);
  await new Promise<void>((resolve) => {
    stream.once('data', () => resolve()); // the full plan
    stream.write({ body: { $case: 'hello', value: { nodeName: NODE, agentVersion: 'bench', runtimeName: '', runtimeVersion: '' } } });
  });
  const now = Date.now();
  let sent = 0;
  while (sent < total) {
    const outcomes: WireOutcome[] = [];
    for (let i = 0; i < perMessage && sent < total; i++, sent++) {
      outcomes.push({ podUid: podUid(sent), quality: 'healthy', state: sent % 3 !== 0, result: sent % 3 ? 'None' : 'WaitToBeDeleted', exitCode: 0, errorKind: '', durationMs: 4, observedUnixMs: now + sent });
    }
    const msg: AgentMessage = { body: { $case: 'outcomes', value: { outcomes, resync: false, counters: [], planGeneration: 1 } } };
    if (!stream.write(msg)) await new Promise((r) => stream.once('drain', r));
  }
  process.send?.({ sent });
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  stream.end();
  client.close();
}

// ---- decider side ----
class LatestPerKeySink implements OutcomeSink {
  readonly latest = new Map<string, Outcome>();
  count = 0;
  accept(_node: string, outcomes: readonly Outcome[]): void {
    for (const o of outcomes) this.latest.set(probeKeyString(o), o);
    this.count += outcomes.length;
  }
  recordCounters(): void {}
  agentConnected(): void {}
  agentDisconnected(): void {}
}

class StaticPlan implements PlanSource {
  private readonly keys = new Set<string>();
  private readonly targets: ProbeTarget[] = [];
  constructor() {
    for (let i = 0; i < PLANNED_KEYS; i++) {
      const key = { podUid: podUid(i), quality: 'healthy' };
      this.keys.add(probeKeyString(key));
      this.targets.push({
        key, namespace: 'games', podName: `gs-${i}`, gameServerSet: 'bench', containerName: 'game', podIp: '10.254.77.9',
        handler: { kind: 'exec', command: ['/probe.sh'] },
        timing: { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        containerStartedAtMs: 0,
      });
    }
  }
  subscribe() {
    return { initial: this.targets, unsubscribe: () => undefined };
  }
  isPlanned(_node: string, key: ProbeKey): boolean {
    return this.keys.has(probeKeyString(key));
  }
}

const allow: AgentAuthenticator = {
  authenticate: async (_t, node) => ({ node, podName: 'agent', podUid: 'agent-uid', expiresAtMs: Number.MAX_SAFE_INTEGER }),
  revoked: () => undefined,
  onChange: () => undefined,
};
const noMetrics: IngestMetrics = { outcomesReceived: () => undefined, outcomeRejected: () => undefined, agentsConnected: () => undefined };

async function measure(s: Scenario): Promise<Record<string, number | string>> {
  const sink = new LatestPerKeySink();
  const server = await startAgentServer({
    port: 0, host: '127.0.0.1', tls: 'insecure', plans: new StaticPlan(), sink, authenticator: allow, metrics: noMetrics,
    logger: pino({ level: 'silent' }),
    // The per-stream flood limit is lifted: this measures the decider's capacity, not the throttle.
    // Every stream comes from 127.0.0.1: the per-address limit on streams awaiting authentication is lifted.
    limits: { outcomesPerSecondPerStream: 1e12, outcomeBurstPerStream: 1e12, maxPendingStreamsPerPeer: 1_000_000 },
  });
  const child = fork(fileURLToPath(import.meta.url), ['--agent', `127.0.0.1:${server.port}`, String(s.perMessage), String(s.outcomes)]);
  // Measured from the first outcome to the last one in the sink.
  while (sink.count === 0) await new Promise((r) => setImmediate(r));
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const first = sink.count;
  while (sink.count < s.outcomes) await new Promise((r) => setTimeout(r, 1));
  const cpu = process.cpuUsage(cpu0);
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpuS = (cpu.user + cpu.system) / 1e6;
  const n = s.outcomes - first;
  child.send('done');
  await new Promise((r) => child.once('exit', r));
  await server.stop();
  return {
    scenario: s.name,
    outcomesPerMessage: s.perMessage,
    outcomes: n,
    wallSeconds: +wallS.toFixed(3),
    deciderCpuSeconds: +cpuS.toFixed(3),
    outcomesPerCpuSecond: Math.round(n / cpuS),
    outcomesPerWallSecond: Math.round(n / wallS),
    keysHeld: sink.latest.size,
  };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--agent') {
    await runAgent(args[1]!, Number(args[2]), Number(args[3]));
    return;
  }
  const scenarios = args.includes('--quick') ? QUICK : FULL;
  const results = [];
  for (const s of scenarios) results.push(await measure(s));

  report('ingest-throughput', { goal: 'P4 >= 150000 outcomes per decider CPU-second (batched)', results }, [
    ...results.map((r) => ({
      goal: `P4 ingest, ${r.scenario} (${r.outcomesPerMessage}/message, ${r.outcomes} outcomes)`,
      measured: `${r.outcomesPerCpuSecond} outcomes/CPU-s (${r.outcomesPerWallSecond}/wall-s)`,
      target: Number(r.outcomesPerMessage) > 1 ? '≥ 150,000/CPU-s' : 'none (reference)',
      met: Number(r.outcomesPerMessage) > 1 ? Number(r.outcomesPerCpuSecond) >= 150_000 : ('n/a' as const),
    })),
  ]);

}

await main();
