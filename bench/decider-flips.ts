// P1/P2/P3/P5/P8 on the real test bed (etcd + kube-apiserver): N GameServers with pods spread over A
// simulated nodes; the decider's real graph (decider.ts: informers, planner, gRPC AgentService,
// pipeline, batcher, leader lease) runs IN THIS PROCESS; the agents are simulated in a child process
// (sim-agents.ts), one real gRPC stream per node, so ingest, decode and transit are in every figure.
// Agent authentication is the one thing replaced: an allow-all authenticator instead of TokenReview
// (1,000 pod-bound tokens would measure the apiserver's TokenReview, not the decider).
// Writes are counted by the apiserver itself (apiserver_request_total delta by verb and resource).
//   node dist/test/testbed/cli.js run -- node dist/bench/decider-flips.js \
//     [--gameservers 1000] [--agents 100] [--rate 10] [--seconds 30] [--result-changes 200] \
//     [--soak-seconds 60] [--wave 1000] [--wave-events on|off|both] [--qps 50] [--burst 2×qps] [--write-concurrency 8]
//     [--as-service-account] [--shared-connection] [--cpu-profile FILE] [--phases steady,result,soak,wave,restart]
// `--cpu-profile FILE`: a V8 CPU profile of this process (the decider) during the steady phase only, written
// to FILE (.cpuprofile, for Chrome DevTools), its top functions by self time in the report.
// `wave` reports the floor ratio: drain time ÷ ((action writes − burst) ÷ QPS), Events on by default.
// `--as-service-account`: the decider writes as a ServiceAccount (bound to cluster-admin), not as the bed's
// system:masters admin, which API Priority and Fairness exempts: its requests go through the apiserver's
// default APF configuration (FlowSchema service-accounts → priority level workload-low), as in a cluster.
import { fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { KubeConfig } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace } from '../test/testbed/kube.js';
import { waitFor } from '../test/testbed/wait-for.js';
import { KubeClient } from '../decider/kube/kube-client.js';
import { startDecider, type Decider } from '../decider/decider.js';
import { deciderOptions } from '../decider/options.js';
import type { AgentAuthenticator } from '../decider/ingest/ports.js';
import type { SimCommand, SimReply } from './sim-agents.js';
import {
  apiserverWrites, apiserverWriteSeconds, deltaOf, eventWrites, GAME, inParallel, leaseWrites, must, objectWrites, pace, percentile, progress, report, round, type Row,
} from './bench-kit.js';
import { splitObjectKey, type ObjectKey } from '../decider/kube/object-key.js';

/** Setup requests in flight at once (the apiserver on 2 cores takes this comfortably). */
const SETUP_CONCURRENCY = 16;
/** During the soak, the simulated agents re-send every latest outcome this often (a real agent's resync). */
const SOAK_RESYNC_MS = 10_000;

const { values } = parseArgs({
  options: {
    gameservers: { type: 'string', default: '1000' },
    agents: { type: 'string', default: '100' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '30' },
    'result-changes': { type: 'string', default: '200' },
    'soak-seconds': { type: 'string', default: '60' },
    wave: { type: 'string', default: '1000' },
    qps: { type: 'string', default: '50' },
    burst: { type: 'string' },
    // Waves with the decider's Events on (its normal state), suppressed, or one of each.
    'wave-events': { type: 'string', default: 'on' },
    'as-service-account': { type: 'boolean', default: false },
    'cpu-profile': { type: 'string' },
    // The decider's OKGSQ_WRITE_CONCURRENCY (its default: 8).
    'write-concurrency': { type: 'string', default: '8' },
    // All simulated nodes on one HTTP/2 connection instead of one TCP connection each.
    'shared-connection': { type: 'boolean', default: false },
    phases: { type: 'string', default: 'steady,result,soak,wave,restart' },
  },
});
const N = Number(values.gameservers);
const AGENTS = Math.max(1, Math.min(Number(values.agents), N));
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const RESULT_CHANGES = Math.min(Number(values['result-changes']), N);
const SOAK_SECONDS = Number(values['soak-seconds']);
const WAVE = Math.min(Number(values.wave), N);
const QPS = Number(values.qps);
const BURST = values.burst === undefined ? QPS * 2 : Number(values.burst);
const WAVE_EVENTS = values['wave-events'] === 'both' ? [true, false] : [values['wave-events'] !== 'off'];
const AS_SERVICE_ACCOUNT = values['as-service-account'];
const WRITE_CONCURRENCY = values['write-concurrency'];
const SHARED_CONNECTION = values['shared-connection'];
const PHASES = new Set(values.phases.split(','));

/** Every simulated agent connects from 127.0.0.1: the per-address limit on streams awaiting authentication is lifted. */
const SIM_AGENT_LIMITS = { maxPendingStreamsPerPeer: 1_000_000 };

/** Any token is the agent of the node it claims: the bench measures the decider, not TokenReview. */
const allowAll: AgentAuthenticator = {
  authenticate: async (_token, node) => ({ node, podName: `agent-${node}`, podUid: `agent-${node}`, expiresAtMs: Number.MAX_SAFE_INTEGER }),
  revoked: () => undefined,
  onChange: () => undefined,
};

// ---- the simulated agents (child process) ----
class Sim {
  readonly child: ChildProcess;
  private waiting: ((r: SimReply) => void) | undefined;
  constructor() {
    this.child = fork(fileURLToPath(new URL('./sim-agents.js', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.child.on('message', (r: SimReply) => this.waiting?.(r));
  }
  async call(c: SimCommand): Promise<SimReply> {
    const reply = new Promise<SimReply>((resolve) => (this.waiting = resolve));
    this.child.send(c);
    const r = await reply;
    if (r.type === 'error') throw new Error(`simulated agents: ${r.message}`);
    return r;
  }
  async close(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.send({ cmd: 'exit' } satisfies SimCommand);
    await Promise.race([exited, pace(5_000)]);
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/**
 * Flip → patch, end to end: from the outcome's observedUnixMs (stamped by the simulated agent when it
 * "crossed its threshold") to the moment the decider's last write for that GameServer returned.
 * The batcher calls pipeline.compute(key) per write job; its job.done() runs after the job's writes.
 */
function latencyProbe(decider: Decider): { samples: number[]; internal: number[] } {
  const samples: number[] = [];
  const internal: number[] = [];
  const compute = decider.pipeline.compute.bind(decider.pipeline);
  decider.pipeline.compute = (key: ObjectKey) => {
    const job = compute(key);
    if (!job) return job;
    const { namespace, name } = splitObjectKey(key);
    const pod = decider.cache.pods.get(namespace, name);
    const observed = pod ? decider.pipeline.latestOutcome({ podUid: pod.metadata.uid, quality: 'healthy' })?.observedAtMs : undefined;
    const done = job.done;
    return {
      ...job,
      done: () => {
        if (observed !== undefined && job.steps.some((s) => s.resource === 'gameservers')) samples.push(Date.now() - observed);
        done?.();
      },
    };
  };
  const observe = decider.metrics.flipToPatch.bind(decider.metrics);
  decider.metrics.flipToPatch = (s: number) => {
    internal.push(s * 1000);
    observe(s);
  };
  return { samples, internal };
}

interface Window {
  cpuCores: number;
  /** The simulated agents' process: it shares the 2 cores with the apiserver. */
  simCpuCores: number;
  lagP99Ms: number;
  lagMaxMs: number;
  rssMiB: number;
}

/** CPU seconds (user + system) of a process, from /proc (clock ticks of 1/100 s). */
function procCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Sampling interval of the lag histogram; it records whole intervals, so this is subtracted from them. */
const LAG_RESOLUTION_MS = 10;

/** CPU (cores), event-loop lag (delay beyond the sampling interval) and RSS of this process (the decider; the agents are the child's). */
function measureWindow(simPid: number): () => Window {
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

interface CpuProfile {
  nodes: { id: number; hitCount?: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  startTime: number;
  endTime: number;
}

/** Starts V8's sampling profiler on this process; the function returned stops it and gives the profile. */
async function startCpuProfile(): Promise<() => Promise<CpuProfile>> {
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
function topSelfTime(profile: CpuProfile, n: number): { fn: string; selfPct: number }[] {
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

/** Applied-action Events in the namespace: how many objects, and the actions their counts add up to. */
async function actionEventOccurrences(api: KubeClient, ns: string): Promise<{ objects: number; occurrences: number }> {
  const list = await must(api, 'GET', `/api/v1/namespaces/${ns}/events`);
  const items = (list.items as { reason: string; count?: number }[]).filter((e) => e.reason === 'ServiceQualityActionApplied');
  return { objects: items.length, occurrences: items.reduce((a, e) => a + (e.count ?? 1), 0) };
}

/** Requests API Priority and Fairness rejected (429), all priority levels. */
async function apfRejected(api: KubeClient): Promise<number> {
  const res = await api.request('GET', '/metrics');
  return metricTotal(String(res.body), '', 'apiserver_flowcontrol_rejected_requests_total');
}

/** Sum of a Prometheus text exposition's samples whose line contains `match` (of `name`, or every sample). */
function metricTotal(text: string, match: string, name?: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.includes(match) || (name !== undefined && !line.startsWith(`${name}{`))) continue;
    const v = Number(line.split(' ').pop());
    if (Number.isFinite(v)) total += v;
  }
  return total;
}

/**
 * A kubeconfig for ServiceAccount okgsq-bench-decider of `ns`, bound to cluster-admin: authorised for
 * everything, but not system:masters, so API Priority and Fairness classifies it like a deployed decider.
 */
async function serviceAccountKubeConfig(admin: KubeClient, adminConfig: KubeConfig, ns: string): Promise<KubeConfig> {
  const sa = 'okgsq-bench-decider';
  await must(admin, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: sa } });
  await must(admin, 'POST', '/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    metadata: { name: `${ns}-${sa}` },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: sa, namespace: ns }],
  });
  const tr = await must(admin, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { spec: { expirationSeconds: 86_400 } });
  const cluster = adminConfig.getCurrentCluster()!;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: sa, token: tr.status.token as string }],
    contexts: [{ name: sa, cluster: cluster.name, user: sa }],
    currentContext: sa,
  });
  return kc;
}

async function main(): Promise<void> {
  const kubeConfig = adminKubeConfig();
  const admin = new KubeClient(kubeConfig);
  const ns = await createNamespace('bench-dk', kubeConfig);
  const nodes = Array.from({ length: AGENTS }, (_, i) => `bench-node-${i}`);
  await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'bench', namespace: ns },
    spec: {
      replicas: N,
      gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
      serviceQualities: [
        { name: 'healthy', containerName: 'game', permanent: false, exec: { command: ['/probe.sh'] }, serviceQualityAction: [{ state: false, opsState: 'Maintaining' }, { state: true, opsState: 'None' }] },
        // Its results ("low"/"high") never match the action: a result change without an action.
        { name: 'load', containerName: 'game', permanent: false, exec: { command: ['/load.sh'] }, serviceQualityAction: [{ state: true, result: 'drain', opsState: 'WaitToBeDeleted' }] },
      ],
    },
  });
  const t0 = Date.now();
  const names = Array.from({ length: N }, (_, i) => `bench-${i}`);
  await inParallel(names, SETUP_CONCURRENCY, async (name, i) => {
    const labels = { 'game.kruise.io/owner-gss': 'bench' };
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name, labels }, spec: { opsState: 'None' } });
    // The status entries a converged GameServer already has, so the bench measures flips only.
    await must(admin, 'PATCH', `${GAME}/namespaces/${ns}/gameservers/${name}/status`, { status: { serviceQualitiesConditions: [{ name: 'healthy' }, { name: 'load' }] } }, true);
    await must(admin, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name, labels }, spec: { nodeName: nodes[i % AGENTS], containers: [{ name: 'game', image: 'busybox' }] } });
    await must(admin, 'PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, { status: { phase: 'Running', podIP: '10.254.77.2' } }, true);
  });
  const setupS = (Date.now() - t0) / 1000;
  progress(`setup: ${N} GameServers + pods on ${AGENTS} nodes in ${setupS.toFixed(1)} s`);

  const options = deciderOptions({
    POD_NAME: 'bench-decider', POD_NAMESPACE: ns, OKGSQ_NAMESPACES: ns, OKGSQ_GRPC_PORT: '0', OKGSQ_HTTP_PORT: '0',
    OKGSQ_INSECURE_GRPC: 'true', OKGSQ_KUBE_QPS: String(QPS), OKGSQ_KUBE_BURST: String(BURST), OKGSQ_AGENTLESS_NODE_SELECTOR: '',
    OKGSQ_WRITE_CONCURRENCY: WRITE_CONCURRENCY,
  });
  const logger = pino({ level: 'warn' });
  const deciderKubeConfig = AS_SERVICE_ACCOUNT ? await serviceAccountKubeConfig(admin, kubeConfig, ns) : kubeConfig;
  const figures: Record<string, unknown> = { gameServers: N, agents: AGENTS, qps: QPS, burst: BURST, deciderIdentity: AS_SERVICE_ACCOUNT ? 'ServiceAccount (APF: workload-low)' : 'system:masters (APF-exempt)', writeConcurrency: Number(WRITE_CONCURRENCY), sharedConnection: SHARED_CONNECTION, setupSeconds: round(setupS), decider: 'in-process graph (startDecider), agents: child process, one gRPC stream per node' };
  const rows: Row[] = [];
  const sim = new Sim();
  let decider: Decider | undefined;
  try {
    let startMs = Date.now();
    decider = await startDecider(options, { kubeConfig: deciderKubeConfig, logger, host: '127.0.0.1', authenticator: allowAll, ingestLimits: SIM_AGENT_LIMITS });
    await waitFor(() => decider!.active(), { timeoutMs: 120_000, what: 'decider ready and leading' });
    await decider.batcher.drain();
    const firstStartMs = Date.now() - startMs;
    const conn = (await sim.call({ cmd: 'connect', address: `127.0.0.1:${decider.grpcPort}`, nodes, expectedKeys: 2 * N, sharedConnection: SHARED_CONNECTION })) as Extract<SimReply, { type: 'connected' }>;
    progress(`decider ready and drained in ${firstStartMs} ms; ${AGENTS} agents connected with ${conn.keys} planned keys in ${conn.ms} ms`);
    figures.firstStart = { readyAndDrainedMs: firstStartMs, agentsConnectedMs: conn.ms, rssMiB: round(process.memoryUsage().rss / 2 ** 20) };
    const lat = latencyProbe(decider);

    if (PHASES.has('steady')) {
      const flips = Math.round(RATE * SECONDS);
      const before = await apiserverWrites(admin);
      const apiBefore = await apiserverWriteSeconds(admin);
      const profiling = values['cpu-profile'] ? await startCpuProfile() : undefined;
      const win = measureWindow(sim.child.pid!);
      const list = Array.from({ length: flips }, (_, i) => names[i % N]!);
      const flipped = (await sim.call({ cmd: 'flips', quality: 'healthy', names: list, rate: RATE })) as Extract<SimReply, { type: 'flipped' }>;
      await waitFor(() => lat.samples.length >= flips, { timeoutMs: 60_000 + flips * 100, what: `${flips} flips patched` });
      await decider.batcher.drain();
      const w = win();
      if (profiling) {
        const profile = await profiling();
        writeFileSync(values['cpu-profile']!, JSON.stringify(profile));
        figures.steadyCpuProfileTop = topSelfTime(profile, 25);
        progress(`steady CPU profile: ${values['cpu-profile']}; top self time: ${JSON.stringify(figures.steadyCpuProfileTop)}`);
      }
      const d = deltaOf(before, await apiserverWrites(admin));
      const apiAfter = await apiserverWriteSeconds(admin);
      const s = {
        apiserverMeanWriteMs: round(((apiAfter.sum - apiBefore.sum) / Math.max(1, apiAfter.count - apiBefore.count)) * 1000),
        flips, rate: RATE, planUpdatesSeenByAgentsSinceConnect: flipped.planUpdates, writesPerFlip: round(objectWrites(d) / flips, 2), eventsPerFlip: round(eventWrites(d) / flips, 2), writes: d,
        latencyMs: { p50: round(percentile(lat.samples, 50)), p99: round(percentile(lat.samples, 99)), max: round(Math.max(...lat.samples)) },
        deciderInternalMs: { p50: round(percentile(lat.internal, 50)), p99: round(percentile(lat.internal, 99)) },
        footprint: w,
      };
      figures.steady = s;
      progress(`steady: ${JSON.stringify(s)}`);
      rows.push({ goal: 'P1 writes per action-causing flip', measured: `${s.writesPerFlip} writes, ${s.eventsPerFlip} Events (${flips} flips)`, target: '≤ 3 writes, ≤ 1 Event', met: s.writesPerFlip <= 3 && s.eventsPerFlip <= 1 });
      const p2 = N >= 10_000 ? { p99: 1000, p50: Infinity } : { p99: 250, p50: 50 };
      rows.push({
        goal: `P2 flip→patch at ${N} GS, ${RATE} flips/s`,
        measured: `p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms`,
        target: p2.p50 === Infinity ? 'p99 ≤ 1000 ms' : 'p50 ≤ 50 ms, p99 ≤ 250 ms',
        met: s.latencyMs.p50 <= p2.p50 && s.latencyMs.p99 <= p2.p99,
      });
      rows.push({ goal: `P5 decider under flips (${AGENTS} agents, ${N} GS, ${RATE} flips/s)`, measured: `${w.cpuCores} cores, RSS ${w.rssMiB} MiB, lag p99 ${w.lagP99Ms} ms`, target: '≤ 0.25 core, ≤ 300 MB, lag p99 ≤ 20 ms', met: w.cpuCores <= 0.25 && w.rssMiB <= 300 && w.lagP99Ms <= 20 });
      lat.samples.length = 0;
      lat.internal.length = 0;
    }

    if (PHASES.has('result') && RESULT_CHANGES > 0) {
      const before = await apiserverWrites(admin);
      const count = lat.samples.length;
      await sim.call({ cmd: 'flips', quality: 'load', names: names.slice(0, RESULT_CHANGES), rate: Math.max(RATE, 20) });
      // These jobs write no GameServer spec (no action): wait for the batcher to go idle instead.
      await pace(200);
      await decider.batcher.drain();
      const d = deltaOf(before, await apiserverWrites(admin));
      const r = { changes: RESULT_CHANGES, writesPerChange: round(objectWrites(d) / RESULT_CHANGES, 2), eventsPerChange: round(eventWrites(d) / RESULT_CHANGES, 2), writes: d };
      figures.resultChanges = r;
      progress(`result changes: ${JSON.stringify(r)}`);
      rows.push({ goal: 'P1 writes per result change without action', measured: `${r.writesPerChange} writes, ${r.eventsPerChange} Events (${RESULT_CHANGES} changes)`, target: '≤ 2', met: r.writesPerChange <= 2 });
      lat.samples.length = count;
    }

    if (PHASES.has('soak') && SOAK_SECONDS > 0) {
      const before = await apiserverWrites(admin);
      const win = measureWindow(sim.child.pid!);
      let resent = 0;
      const end = Date.now() + SOAK_SECONDS * 1000;
      while (Date.now() < end) {
        await pace(Math.min(SOAK_RESYNC_MS, end - Date.now()));
        resent += ((await sim.call({ cmd: 'resync' })) as Extract<SimReply, { type: 'resynced' }>).outcomes;
      }
      await decider.batcher.drain();
      const w = win();
      const d = deltaOf(before, await apiserverWrites(admin));
      const s = { seconds: SOAK_SECONDS, unchangedOutcomesResent: resent, objectWrites: objectWrites(d), eventWrites: eventWrites(d), leaseWrites: leaseWrites(d), writes: d, footprint: w };
      figures.soak = s;
      progress(`soak: ${JSON.stringify(s)}`);
      rows.push({ goal: `P1 soak ${SOAK_SECONDS} s, no flips (${resent} unchanged outcomes re-sent)`, measured: `${s.objectWrites} object writes, ${s.eventWrites} Events, ${s.leaseWrites} lease writes`, target: '0 writes but the lease', met: s.objectWrites === 0 && s.eventWrites === 0 });
      rows.push({ goal: `P5 decider idle (${AGENTS} agents, ${N} GS)`, measured: `${w.cpuCores} cores, RSS ${w.rssMiB} MiB, lag p99 ${w.lagP99Ms} ms`, target: '≤ 0.25 core, ≤ 300 MB, lag p99 ≤ 20 ms', met: w.cpuCores <= 0.25 && w.rssMiB <= 300 && w.lagP99Ms <= 20 });
    }

    if (PHASES.has('wave') && WAVE > 0) {
      for (const events of WAVE_EVENTS) {
        if (!events) {
          // Bench-only: the pipeline's event sink is swapped for one that drops everything.
          (decider.pipeline as unknown as { opts: { events: unknown } }).opts.events = { record: () => undefined };
        }
        lat.samples.length = 0;
        const before = await apiserverWrites(admin);
        const rejectedBefore = await apfRejected(admin);
        const apiBefore = await apiserverWriteSeconds(admin);
        const occurrencesBefore = await actionEventOccurrences(admin, ns);
        const waveStart = Date.now();
        await sim.call({ cmd: 'flips', quality: 'healthy', names: names.slice(0, WAVE), rate: 0 });
        await waitFor(() => lat.samples.length >= WAVE, { timeoutMs: 3_600_000, intervalMs: 50, what: `wave of ${WAVE} patched` });
        const waveS = (Date.now() - waveStart) / 1000;
        await decider.batcher.drain();
        const d = deltaOf(before, await apiserverWrites(admin));
        const apiAfter = await apiserverWriteSeconds(admin);
        const actionWrites = objectWrites(d);
        // The floor the budget sets: the action writes beyond the burst, at QPS.
        const floorS = Math.max(0, actionWrites - BURST) / QPS;
        let eventsSettledS: number | undefined;
        let occurrences = 0;
        if (events) {
          // The Events come after the actions: until they count every applied action (or give up).
          occurrences = await waitFor(
            async () => {
              const n = (await actionEventOccurrences(admin, ns)).occurrences - occurrencesBefore.occurrences;
              return n >= WAVE ? n : false;
            },
            { timeoutMs: 120_000, intervalMs: 250, what: 'the wave\'s Events' },
          ).catch(async () => (await actionEventOccurrences(admin, ns)).occurrences - occurrencesBefore.occurrences);
          eventsSettledS = (Date.now() - waveStart) / 1000;
        }
        const after = await actionEventOccurrences(admin, ns);
        const dAll = deltaOf(before, await apiserverWrites(admin));
        const w = {
          flips: WAVE, events, drainedSeconds: round(waveS, 2), floorSeconds: round(floorS, 2), floorRatio: round(waveS / floorS, 3),
          flipsPerSecondPerQps: round(WAVE / waveS / QPS, 3),
          writesPerFlip: round(actionWrites / WAVE, 2), actionWrites,
          eventWrites: eventWrites(dAll), eventObjects: after.objects - occurrencesBefore.objects, eventOccurrencesCounted: occurrences,
          eventsSettledSeconds: eventsSettledS === undefined ? undefined : round(eventsSettledS, 2),
          apfRejected: (await apfRejected(admin)) - rejectedBefore,
          apiserverMeanWriteMs: round(((apiAfter.sum - apiBefore.sum) / Math.max(1, apiAfter.count - apiBefore.count)) * 1000),
          deciderWrites429: metricTotal(await decider.metrics.registry.getSingleMetricAsString('okgsq_kube_writes_total'), 'code="429"'),
          eventsDropped: metricTotal(await decider.metrics.registry.getSingleMetricAsString('okgsq_events_dropped_total'), ''),
          latencyMs: { p50: round(percentile(lat.samples, 50)), p99: round(percentile(lat.samples, 99)) },
          writes: dAll,
        };
        figures[events ? 'wave' : 'waveNoEvents'] = w;
        progress(`wave: ${JSON.stringify(w)}`);
        rows.push({
          goal: `P3 wave of ${WAVE} at ${QPS} QPS, burst ${BURST}${events ? ', Events on' : ' (Events suppressed)'}`,
          measured: `${w.drainedSeconds} s for ${actionWrites} action writes, floor ${w.floorSeconds} s: ratio ${w.floorRatio}${events ? `; then ${w.eventWrites} Event writes, ${w.eventObjects} Event objects counting ${occurrences} actions` : ''}`,
          target: 'ratio ≤ 1.05',
          met: w.floorRatio <= 1.05,
        });
      }
    }

    if (PHASES.has('restart')) {
      // P8: a clean restart (SIGTERM path: lease released) against a converged cluster. The agents lose
      // their streams, reconnect to the new decider and re-send their latest state, as real agents do.
      await decider.batcher.drain();
      await sim.call({ cmd: 'disconnect' });
      await decider.stop();
      decider = undefined;
      const before = await apiserverWrites(admin);
      startMs = Date.now();
      decider = await startDecider(options, { kubeConfig: deciderKubeConfig, logger, host: '127.0.0.1', authenticator: allowAll, ingestLimits: SIM_AGENT_LIMITS });
      await waitFor(() => decider!.active(), { timeoutMs: 120_000, what: 'decider leading after restart' });
      const readyMs = Date.now() - startMs;
      await sim.call({ cmd: 'connect', address: `127.0.0.1:${decider.grpcPort}`, nodes, expectedKeys: 2 * N, sharedConnection: SHARED_CONNECTION });
      await pace(200); // the re-sent outcomes are in flight on the streams
      await decider.batcher.drain();
      const convergedMs = Date.now() - startMs;
      const d = deltaOf(before, await apiserverWrites(admin));
      const r = { readyMs, convergedMs, spuriousObjectWrites: objectWrites(d), spuriousEvents: eventWrites(d), leaseWrites: leaseWrites(d), writes: d };
      figures.restart = r;
      progress(`restart: ${JSON.stringify(r)}`);
      rows.push({ goal: `P8 restart at ${N} GS: spurious writes`, measured: `${r.spuriousObjectWrites} object writes, ${r.spuriousEvents} Events`, target: '0', met: r.spuriousObjectWrites === 0 && r.spuriousEvents === 0 });
      rows.push({ goal: `P8 convergence at ${N} GS (start → synced, leading, ${AGENTS} agents re-sent, drained)`, measured: `${(convergedMs / 1000).toFixed(1)} s (ready ${(readyMs / 1000).toFixed(1)} s)`, target: '≤ 5 s', met: convergedMs <= 5000 });
    }
  } finally {
    await sim.close();
    await decider?.stop();
    admin.close();
  }
  report('decider-flips', figures, rows);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`decider-flips: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
