// P1/P2/P3 on the real test bed: N GameServers with running pods, a decider in this process, flips fed
// into its pipeline (as the agents' stream would) at a steady rate, then one wave of simultaneous flips.
// Prints writes per flip counted by the apiserver itself (apiserver_request_total) and flip → patch latency.
//   node dist/test/testbed/cli.js run -- node dist/bench/decider-flips.js [--gameservers 1000] [--rate 10] [--seconds 30] [--wave 1000] [--qps 50]
import { parseArgs } from 'node:util';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { pino } from 'pino';
import { adminKubeConfig, createNamespace } from '../test/testbed/kube.js';
import { waitFor } from '../test/testbed/wait-for.js';
import { KubeClient, type KubeApi } from '../decider/kube/kube-client.js';
import { startDecider } from '../decider/decider.js';
import { deciderOptions } from '../decider/options.js';
import type { Outcome } from '../common/outcome.js';
import { OkgSqError, ERROR_CODES } from '../common/errors.js';

const GAME = '/apis/game.kruise.io/v1alpha1';
/** Setup requests in flight at once (the apiserver on 2 cores takes this comfortably). */
const SETUP_CONCURRENCY = 16;

const { values } = parseArgs({
  options: {
    gameservers: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '30' },
    wave: { type: 'string', default: '1000' },
    qps: { type: 'string', default: '50' },
  },
});
const N = Number(values.gameservers);
const RATE = Number(values.rate);
const SECONDS = Number(values.seconds);
const WAVE = Math.min(Number(values.wave), N);
const QPS = Number(values.qps);

async function must(api: KubeApi, method: string, path: string, body?: unknown, merge = false): Promise<any> {
  const res = await api.request(method, path, { body, ...(merge ? { contentType: 'application/merge-patch+json' as const } : {}) });
  if (res.status >= 300) throw new OkgSqError(ERROR_CODES.KUBE_API, `${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

async function apiserverWrites(api: KubeApi): Promise<Map<string, number>> {
  const res = await api.request('GET', '/metrics');
  const out = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string): string => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(label('verb')) || label('resource') === 'leases') continue;
    const key = `${label('verb')} ${label('resource')}${label('subresource') ? '/' + label('subresource') : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.split(' ').pop()));
  }
  return out;
}

function deltaOf(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) d[k] = v - (before.get(k) ?? 0);
  return d;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function main(): Promise<void> {
  const kubeConfig = adminKubeConfig();
  const admin = new KubeClient(kubeConfig);
  const ns = await createNamespace('bench-dk', kubeConfig);
  await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'bench', namespace: ns },
    spec: {
      replicas: N,
      gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
      serviceQualities: [
        { name: 'healthy', containerName: 'game', permanent: false, exec: { command: ['/probe.sh'] }, serviceQualityAction: [{ state: false, opsState: 'Maintaining' }, { state: true, opsState: 'None' }] },
      ],
    },
  });
  const t0 = Date.now();
  const names = Array.from({ length: N }, (_, i) => `bench-${i}`);
  const uids = new Map<string, string>();
  await inParallel(names, SETUP_CONCURRENCY, async (name) => {
    const labels = { 'game.kruise.io/owner-gss': 'bench' };
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name, labels }, spec: { opsState: 'None' } });
    // The status entry a converged GameServer already has, so the bench measures flips only.
    await must(admin, 'PATCH', `${GAME}/namespaces/${ns}/gameservers/${name}/status`, { status: { serviceQualitiesConditions: [{ name: 'healthy' }] } }, true);
    const pod = await must(admin, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name, labels }, spec: { nodeName: 'bench-node', containers: [{ name: 'game', image: 'busybox' }] } });
    uids.set(name, pod.metadata.uid);
    await must(admin, 'PATCH', `/api/v1/namespaces/${ns}/pods/${name}/status`, { status: { phase: 'Running', podIP: '10.254.77.2' } }, true);
  });
  process.stdout.write(`setup: ${N} GameServers + pods in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);

  const options = deciderOptions({
    POD_NAME: 'bench-decider', POD_NAMESPACE: ns, OKGSQ_NAMESPACES: ns, OKGSQ_GRPC_PORT: '0', OKGSQ_HTTP_PORT: '0',
    OKGSQ_INSECURE_GRPC: 'true', OKGSQ_KUBE_QPS: String(QPS), OKGSQ_KUBE_BURST: String(QPS * 2), OKGSQ_AGENTLESS_NODE_SELECTOR: '',
  });
  const startMs = Date.now();
  const decider = await startDecider(options, { kubeConfig, logger: pino({ level: 'warn' }), host: '127.0.0.1' });
  await waitFor(() => decider.ready(), { timeoutMs: 60_000, what: 'decider ready' });
  await decider.batcher.drain();
  process.stdout.write(`restart convergence: ready and drained in ${Date.now() - startMs} ms\n`);

  const latencies: number[] = [];
  const observe = decider.metrics.flipToPatch.bind(decider.metrics);
  decider.metrics.flipToPatch = (s: number) => {
    latencies.push(s * 1000);
    observe(s);
  };
  const state = new Map<string, boolean>(); // last state fed per GameServer (starts as no outcome)
  const flip = (name: string): void => {
    const next = !(state.get(name) ?? true);
    state.set(name, next);
    const o: Outcome = { podUid: uids.get(name)!, quality: 'healthy', state: next, result: '', exitCode: next ? 0 : 1, errorKind: '', durationMs: 5, observedAtMs: Date.now() };
    decider.pipeline.accept('bench-node', [o]);
  };

  const rss = process.memoryUsage().rss / 2 ** 20;
  process.stdout.write(`footprint after sync: RSS ${rss.toFixed(0)} MB (decider + bench in one process)\n`);
  const flips = Math.round(RATE * SECONDS);
  if (flips === 0 && WAVE === 0) {
    await decider.stop();
    admin.close();
    return;
  }

  // Steady flips.
  let before = await apiserverWrites(admin);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const cpuBefore = process.cpuUsage();
  const steadyStart = Date.now();
  for (let i = 0; i < flips; i++) {
    const due = steadyStart + (i * 1000) / RATE;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait)); // pacing the load generator, not waiting for a result
    flip(names[i % N]!);
  }
  await decider.batcher.drain();
  lag.disable();
  const cpu = process.cpuUsage(cpuBefore);
  const cores = (cpu.user + cpu.system) / 1000 / (Date.now() - steadyStart);
  let delta = deltaOf(before, await apiserverWrites(admin));
  const objectWrites = (d: Record<string, number>) => Object.entries(d).filter(([k]) => !k.includes('events')).reduce((a, [, v]) => a + v, 0);
  const events = (d: Record<string, number>) => d['POST events'] ?? 0;
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    `steady: ${flips} flips at ${RATE}/s over ${N} GameServers, QPS ${QPS}: writes/flip ${(objectWrites(delta) / flips).toFixed(2)} ` +
      `(${JSON.stringify(delta)}), events/flip ${(events(delta) / flips).toFixed(2)}, flip→patch p50 ${percentile(latencies, 50).toFixed(1)} ms p99 ${percentile(latencies, 99).toFixed(1)} ms, ` +
      `CPU ${cores.toFixed(3)} cores, event-loop lag p99 ${(lag.percentile(99) / 1e6).toFixed(1)} ms\n`,
  );

  // Unchanged outcomes: zero writes.
  before = await apiserverWrites(admin);
  for (const name of names) {
    const o: Outcome = { podUid: uids.get(name)!, quality: 'healthy', state: state.get(name) ?? true, result: '', exitCode: 0, errorKind: '', durationMs: 5, observedAtMs: Date.now() };
    if (state.has(name)) decider.pipeline.accept('bench-node', [o]);
  }
  await decider.batcher.drain();
  process.stdout.write(`unchanged: re-sent every latest outcome: writes ${objectWrites(deltaOf(before, await apiserverWrites(admin)))}\n`);

  if (WAVE === 0) {
    await decider.stop();
    admin.close();
    return;
  }
  // One wave of simultaneous flips.
  latencies.length = 0;
  before = await apiserverWrites(admin);
  const waveStart = Date.now();
  for (let i = 0; i < WAVE; i++) flip(names[i]!);
  await decider.batcher.drain();
  const waveMs = Date.now() - waveStart;
  delta = deltaOf(before, await apiserverWrites(admin));
  latencies.sort((a, b) => a - b);
  process.stdout.write(
    `wave: ${WAVE} simultaneous flips drained in ${(waveMs / 1000).toFixed(1)} s at QPS ${QPS} (${(WAVE / (waveMs / 1000) / QPS).toFixed(2)} flips/s per QPS), ` +
      `writes/flip ${(objectWrites(delta) / WAVE).toFixed(2)}, events/flip ${(events(delta) / WAVE).toFixed(2)}, p50 ${percentile(latencies, 50).toFixed(0)} ms p99 ${percentile(latencies, 99).toFixed(0)} ms\n`,
  );
  await decider.stop();
  admin.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`decider-flips: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
