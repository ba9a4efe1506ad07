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
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { adminKubeConfig, createNamespace } from '../test/testbed/kube.js';
import { waitFor } from '../test/testbed/wait-for.js';
import { KubeClient } from '../decider/kube/kube-client.js';
import { startDecider, type Decider } from '../decider/decider.js';
import { deciderOptions } from '../decider/options.js';
import type { SimReply } from './sim-agents.js';
import { serviceAccountKubeConfig } from './apiserver-stats.js';
import {
  apiserverWrites, apiserverWriteSeconds, deltaOf, eventWrites, GAME, inParallel, leaseWrites, must, objectWrites, pace, percentile, progress, report, round, type Row,
} from './bench-kit.js';
import { allowAll, latencyProbe, Sim, SIM_AGENT_LIMITS } from './decider-flips-kit.js';
import { wavePhase } from './decider-flips-wave.js';
import { measureWindow, startCpuProfile, topSelfTime } from './process-stats.js';

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
      await wavePhase({ decider, latency: lat.samples, admin, ns, sim, names, wave: WAVE, waveEvents: WAVE_EVENTS, qps: QPS, burst: BURST, figures, rows });
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
