// The decider against the real kube-apiserver: caches sync, a pod is planned, an outcome becomes exactly
// the docs/design.md §4 writes, an unchanged outcome and a restart write nothing, and the lease fails over.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { waitFor } from '../../testbed/wait-for.js';
import { KubeClient } from '../../../decider/kube/kube-client.js';
import { objectKey } from '../../../decider/kube/object-key.js';
import type { Decider } from '../../../decider/decider.js';
import type { Outcome } from '../../../common/outcome.js';
import { OKGSQ_CONDITION_REASON } from '../../../common/okg-defaults.js';
import { runExplain } from '../../../cli/explain.js';
import { testbedEnv } from '../../testbed/env.js';
import { status } from '@grpc/grpc-js';
import { TestAgent } from '../../unit/decider/ingest/ingest-kit.js';
import { CountingApi, GAME, createGameServerAndPod, createSet, must, startTestDecider, testOptions } from './kit.js';

const kubeConfig = adminKubeConfig();
const admin = new KubeClient(kubeConfig);
const running: { decider: Decider; api: CountingApi }[] = [];

async function start(namespace: string, podName: string) {
  const d = await startTestDecider(kubeConfig, testOptions(namespace, podName));
  running.push(d);
  return d;
}

async function stop(d: { decider: Decider; api: CountingApi }): Promise<void> {
  await d.decider.stop();
  (d.api.inner as KubeClient).close();
  running.splice(running.indexOf(d), 1);
}

after(async () => {
  for (const d of [...running]) await stop(d);
  admin.close();
});

function outcome(podUid: string, quality: string, state: boolean, result: string): Outcome {
  return { podUid, quality, state, result, exitCode: state ? 0 : 1, errorKind: '', durationMs: 12, observedAtMs: Date.now() };
}

/** Writes the apiserver itself counted (apiserver_request_total), by verb/resource/subresource, leases excluded. */
async function apiserverWrites(): Promise<Map<string, number>> {
  const res = await admin.request('GET', '/metrics');
  const out = new Map<string, number>();
  for (const line of String(res.body).split('\n')) {
    if (!line.startsWith('apiserver_request_total{')) continue;
    const label = (name: string): string => new RegExp(`[{,]${name}="([^"]*)"`).exec(line)?.[1] ?? '';
    const verb = label('verb');
    if (!['POST', 'PUT', 'PATCH', 'DELETE', 'APPLY'].includes(verb) || label('resource') === 'leases') continue;
    const key = `${verb} ${label('resource')}${label('subresource') ? '/' + label('subresource') : ''}`;
    out.set(key, (out.get(key) ?? 0) + Number(line.split(' ').pop()));
  }
  return out;
}

function delta(before: Map<string, number>, after: Map<string, number>): Record<string, number> {
  const d: Record<string, number> = {};
  for (const [k, v] of after) if (v - (before.get(k) ?? 0) > 0) d[k] = v - (before.get(k) ?? 0);
  return d;
}

async function httpGet(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

let ns = '';
let uid0 = '';
before(async () => {
  ns = await createNamespace('dkube');
  await createSet(admin, ns, 'minecraft');
  uid0 = await createGameServerAndPod(admin, ns, 'minecraft', 'minecraft-0', 'node-a', '10.254.77.10');
  await createGameServerAndPod(admin, ns, 'minecraft', 'minecraft-1', 'node-b', '10.254.77.11');
});

test('caches sync, the decider leads and is ready, and each pod is planned on its node', async () => {
  const d = await start(ns, 'decider-a');
  await waitFor(() => d.decider.active(), { timeoutMs: 20_000, what: 'decider active (leader + synced)' });
  assert.equal((await httpGet(d.decider.httpPort, '/readyz')).status, 200);
  const metrics = (await httpGet(d.decider.httpPort, '/metrics')).text;
  assert.match(metrics, /okgsq_informer_synced\{resource="pods"\} 1/);
  assert.match(metrics, /okgsq_leader 1/);
  const plan = d.decider.planner.planOf('node-a');
  assert.deepEqual(plan.map((t) => [t.podName, t.key.quality, t.podIp, t.key.podUid]).sort(), [
    ['minecraft-0', 'healthy-data', '10.254.77.10', uid0],
    ['minecraft-0', 'healthy-gate', '10.254.77.10', uid0],
  ]);
  assert.deepEqual(d.decider.planner.planOf('node-b').map((t) => t.podName), ['minecraft-1', 'minecraft-1']);
  // The first pass gives each fresh GameServer its status entries; then the cluster is converged.
  await d.decider.batcher.drain();
  await waitFor(async () => {
    const gs = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-0`);
    return gs.status?.serviceQualitiesConditions?.length === 2;
  }, { timeoutMs: 10_000, what: 'status entries' });
});

test('an outcome flip writes exactly: pod condition, GameServer patch, GameServer status (+1 Event); the same outcome again writes nothing', async () => {
  const d = running[0]!;
  await d.decider.batcher.drain();
  d.api.writes.length = 0;
  const gsBefore = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-0`);
  const counted = await apiserverWrites();

  d.decider.pipeline.accept('node-a', [outcome(uid0, 'healthy-gate', false, '')]);
  await d.decider.batcher.drain();
  await waitFor(() => d.api.objectWrites().some((w) => w.startsWith('POST events')), { timeoutMs: 5000, what: 'the action Event' });
  assert.deepEqual(d.api.objectWrites(), [
    'PATCH pods/status 200',
    'PATCH gameservers 200',
    'PATCH gameservers/status 200',
    'POST events 201',
  ]);
  // The apiserver's own count agrees: 3 object writes and 1 Event for one action-causing flip.
  assert.deepEqual(delta(counted, await apiserverWrites()), { 'PATCH pods/status': 1, 'PATCH gameservers': 1, 'PATCH gameservers/status': 1, 'POST events': 1 });

  const gs = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-0`);
  assert.equal(gs.spec.opsState, 'GateMaintaining');
  assert.notEqual(gs.metadata.resourceVersion, gsBefore.metadata.resourceVersion);
  const gate = gs.status.serviceQualitiesConditions.find((c: { name: string }) => c.name === 'healthy-gate');
  assert.equal(gate.status, 'False');
  assert.ok(gate.lastActionTransitionTime);
  const pod = await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/minecraft-0`);
  const cond = pod.status.conditions.find((c: { type: string }) => c.type === 'game.kruise.io/healthy-gate');
  assert.equal(cond.status, 'False');
  assert.equal(cond.reason, OKGSQ_CONDITION_REASON);
  const events = await must(admin, 'GET', `/api/v1/namespaces/${ns}/events`);
  assert.ok(events.items.some((e: { reason: string; involvedObject: { name: string } }) => e.reason === 'ServiceQualityActionApplied' && e.involvedObject.name === 'minecraft-0'));

  // Unchanged: zero writes, the objects' resourceVersions stay.
  d.api.writes.length = 0;
  const countedQuiet = await apiserverWrites();
  const rvGs = gs.metadata.resourceVersion;
  const rvPod = pod.metadata.resourceVersion;
  d.decider.pipeline.accept('node-a', [outcome(uid0, 'healthy-gate', false, '')]);
  d.decider.batcher.enqueue(objectKey(ns, 'minecraft-0')); // even a forced recompute finds nothing to write
  await d.decider.batcher.drain();
  assert.deepEqual(d.api.objectWrites(), []);
  assert.deepEqual(delta(countedQuiet, await apiserverWrites()), {});
  assert.equal((await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-0`)).metadata.resourceVersion, rvGs);
  assert.equal((await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/minecraft-0`)).metadata.resourceVersion, rvPod);

  // Restore: back to None.
  d.decider.pipeline.accept('node-a', [outcome(uid0, 'healthy-gate', true, 'gate')]);
  await d.decider.batcher.drain();
  assert.equal((await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-0`)).spec.opsState, 'None');
  assert.deepEqual(d.api.objectWrites().filter((w) => !w.includes('events')), ['PATCH pods/status 200', 'PATCH gameservers 200', 'PATCH gameservers/status 200']);
});

test('okg-sq explain reads the cluster and tells who wrote the outcome and whether anything is pending', async () => {
  let out = '';
  let err = '';
  const code = await runExplain([`${ns}/minecraft-0`, '--kubeconfig', testbedEnv().kubeconfig], { stdout: { write: (t: string) => (out += t) }, stderr: { write: (t: string) => (err += t) } });
  assert.equal(code, 0, err);
  assert.match(out, new RegExp(`GameServer ${ns}/minecraft-0: opsState "None"`));
  assert.match(out, /quality healthy-gate\n  latest outcome: True result "gate" probed \S+ by okg-sq/);
  assert.match(out, /quality healthy-data\n  latest outcome: none yet/);
  assert.match(out, /converged: okg-sq has nothing to write/);
  const missing = await runExplain([`${ns}/nope`, '--kubeconfig', testbedEnv().kubeconfig], { stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) } });
  assert.equal(missing, 1);
  assert.match(err, /GameServer .*\/nope not found/);
});

test('another writer of an okg-sq pod condition is reported with a Warning Event and okgsq_foreign_condition_writes_total', async () => {
  const d = running[0]!;
  const pod = await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/minecraft-0`);
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await must(
    admin,
    'PATCH',
    `/api/v1/namespaces/${ns}/pods/minecraft-0/status`,
    { status: { conditions: [{ type: 'game.kruise.io/healthy-data', status: 'False', reason: 'kruise-daemon', message: '', lastProbeTime: now, lastTransitionTime: now }] } },
    'application/strategic-merge-patch+json',
  );
  assert.ok(pod.metadata.resourceVersion);
  const counter = new RegExp(`^okgsq_foreign_condition_writes_total\\{namespace="${ns}",gameserverset="minecraft",quality="healthy-data"\\} 1$`, 'm');
  await waitFor(async () => counter.test((await httpGet(d.decider.httpPort, '/metrics')).text), { timeoutMs: 10_000, what: 'the foreign-writer metric' });
  await waitFor(async () => {
    const events = await must(admin, 'GET', `/api/v1/namespaces/${ns}/events`);
    return events.items.some((e: { reason: string; type: string }) => e.reason === 'ForeignConditionWriter' && e.type === 'Warning');
  }, { timeoutMs: 10_000, what: 'the ForeignConditionWriter Event' });
  // Remove it again so later tests start from okg-sq's own state.
  const fresh = await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/minecraft-0`);
  const index = fresh.status.conditions.findIndex((c: { type: string }) => c.type === 'game.kruise.io/healthy-data');
  await must(admin, 'PATCH', `/api/v1/namespaces/${ns}/pods/minecraft-0/status`, [{ op: 'remove', path: `/status/conditions/${index}` }], 'application/json-patch+json');
  await d.decider.batcher.drain();
});

test('a restarted decider recomputes from the cluster with zero writes', async () => {
  const old = running[0]!;
  await old.decider.batcher.drain();
  await stop(old);
  const d = await start(ns, 'decider-b');
  await waitFor(() => d.decider.active(), { timeoutMs: 20_000, what: 'restarted decider leading' });
  await d.decider.batcher.drain();
  // The agent's resync re-sends the latest outcome after reconnecting: still nothing to write.
  d.decider.pipeline.accept('node-a', [outcome(uid0, 'healthy-gate', true, 'gate')]);
  await d.decider.batcher.drain();
  assert.deepEqual(d.api.objectWrites(), []);
});

test('two replicas: one leads and writes; when it goes, the other takes over and writes', async () => {
  const a = running[0]!;
  const b = await start(ns, 'decider-c');
  await waitFor(() => b.decider.cache.synced, { timeoutMs: 20_000, what: 'standby synced' });
  assert.equal(b.decider.isLeader(), false);
  // Every synced replica is Ready, so the PodDisruptionBudget can evict either; leadership is okgsq_leader.
  await waitFor(() => b.decider.ready(), { timeoutMs: 5_000, what: 'standby ready' });
  assert.equal((await httpGet(b.decider.httpPort, '/readyz')).status, 200, 'a synced standby is Ready');
  assert.match((await httpGet(b.decider.httpPort, '/metrics')).text, /^okgsq_leader 0$/m);
  assert.equal(b.decider.active(), false);
  // A standby writes nothing even when handed an outcome.
  b.decider.pipeline.accept('node-a', [outcome(uid0, 'healthy-gate', false, 'standby')]);
  await b.decider.batcher.drain();
  assert.deepEqual(b.api.objectWrites(), []);
  // An agent balanced onto the standby is refused "not the leader", and an operator sees it on /metrics.
  const agent = new TestAgent(`127.0.0.1:${b.decider.grpcPort}`, 'token-node-a').hello('node-a');
  try {
    assert.equal((await agent.waitForError(10_000)).code, status.UNAVAILABLE);
  } finally {
    agent.close();
  }
  assert.match((await httpGet(b.decider.httpPort, '/metrics')).text, /^okgsq_agent_streams_refused_total\{reason="not_leader"\} 1$/m);

  const t0 = Date.now();
  await stop(a);
  await waitFor(() => b.decider.active(), { timeoutMs: 15_000, what: 'standby takes over' });
  const failoverMs = Date.now() - t0;
  assert.ok(failoverMs < 15_000, `failover took ${failoverMs} ms`);
  b.decider.pipeline.accept('node-a', [outcome(uid0, 'healthy-gate', false, 'after failover')]);
  await b.decider.batcher.drain();
  const gs = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-0`);
  assert.equal(gs.spec.opsState, 'GateMaintaining');
});

test('a leader whose lease is taken stops writing at once, and leads again when the lease is free', async () => {
  const d = running[0]!;
  await waitFor(() => d.decider.active(), { timeoutMs: 15_000, what: 'leader' });
  const leasePath = `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/okg-sq-decider`;
  const lease = await must(admin, 'GET', leasePath);
  const now = new Date().toISOString().replace('Z', '000Z');
  await must(admin, 'PUT', leasePath, { ...lease, spec: { ...lease.spec, holderIdentity: 'intruder', renewTime: now, leaseDurationSeconds: 60 } });
  await waitFor(() => !d.decider.isLeader(), { timeoutMs: 5_000, intervalMs: 50, what: 'the leader notices the lease is gone' });
  assert.equal(d.decider.active(), false);
  assert.equal(d.decider.ready(), true, 'a replica that lost the lease stays Ready (it is a standby now)');
  d.api.writes.length = 0;
  d.decider.pipeline.accept('node-a', [outcome(uid0, 'healthy-gate', true, 'while not leading')]);
  await d.decider.batcher.drain();
  assert.deepEqual(d.api.objectWrites(), [], 'no writes without the lease');
  // The intruder releases it: the decider takes it back and is ready again.
  const taken = await must(admin, 'GET', leasePath);
  await must(admin, 'PUT', leasePath, { ...taken, spec: { ...taken.spec, holderIdentity: null, leaseDurationSeconds: 1 } });
  await waitFor(() => d.decider.active(), { timeoutMs: 10_000, what: 'leading again' });
});
