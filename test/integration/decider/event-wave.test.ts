// A wave against the real kube-apiserver with Events on: every action lands, no Event is written while
// a GameServer still waits for its writes, and the wave's Events are aggregated (docs/design.md §15):
// counted in the apiserver, a few Event objects whose counts add up to the actions applied.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { waitFor } from '../../testbed/wait-for.js';
import { KubeClient, type KubeApi, type KubeResponse, type RequestOptions } from '../../../decider/kube/kube-client.js';
import { startDecider, type Decider } from '../../../decider/decider.js';
import { GAME, createGameServerAndPod, createSet, logger, must, testOptions } from './kit.js';

const N = 60;
const kubeConfig = adminKubeConfig();
const admin = new KubeClient(kubeConfig);
const client = new KubeClient(kubeConfig);
let decider: Decider | undefined;

/** The decider's client: for each Event write, how many GameServers were still queued when it started. */
class EventWatchingApi implements KubeApi {
  readonly queuedAtEventWrites: number[] = [];
  async request(method: string, path: string, options?: RequestOptions): Promise<KubeResponse> {
    if (method !== 'GET' && /\/events(\/|$)/.test(path) && decider) this.queuedAtEventWrites.push(decider.batcher.depth);
    return client.request(method, path, options);
  }
  watch(path: string, onEvent: (event: { type: string; object: any }) => void, signal: AbortSignal): Promise<void> {
    return client.watch(path, onEvent, signal);
  }
}

let ns = '';
const uids: string[] = [];
before(async () => {
  ns = await createNamespace('evwave');
  await createSet(admin, ns, 'arena');
  for (let i = 0; i < N; i++) uids.push(await createGameServerAndPod(admin, ns, 'arena', `arena-${i}`, 'node-a', '10.254.77.10'));
});

after(async () => {
  await decider?.stop();
  client.close();
  admin.close();
});

test(`a wave of ${N} flips with Events on: every action lands, Events only once no GameServer waits, aggregated on the set`, async () => {
  const api = new EventWatchingApi();
  // A client budget above what the apiserver takes (the apiserver is the bottleneck, so spare tokens pile
  // up during the wave) and a burst below the writes 8 workers have in hand: an Event may only go once
  // the queue is empty.
  decider = await startDecider(testOptions(ns, 'decider-0', { OKGSQ_KUBE_QPS: '1000', OKGSQ_KUBE_BURST: '20' }), { kubeConfig, logger, host: '127.0.0.1', api });
  await waitFor(() => decider!.active(), { timeoutMs: 30_000, what: 'decider active' });
  await decider.batcher.drain(); // the first pass: status entries of the fresh GameServers
  api.queuedAtEventWrites.length = 0;

  const now = Date.now();
  decider.pipeline.accept(
    'node-a',
    uids.map((podUid) => ({ podUid, quality: 'healthy-gate', state: false, result: '', exitCode: 1, errorKind: '', durationMs: 5, observedAtMs: now })),
  );
  await decider.batcher.drain();
  const gss = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers`);
  const maintaining = (gss.items as any[]).filter((g) => g.spec.opsState === 'GateMaintaining').map((g) => g.metadata.name as string);
  assert.equal(maintaining.length, N, 'every action landed');

  // The Events follow the actions: until their counts account for every action applied.
  const events = await waitFor(async () => {
    const list = await must(admin, 'GET', `/api/v1/namespaces/${ns}/events`);
    const applied = (list.items as any[]).filter((e) => e.reason === 'ServiceQualityActionApplied');
    return applied.reduce((a, e) => a + (e.count ?? 1), 0) >= N ? applied : false;
  }, { timeoutMs: 60_000, what: `Events counting ${N} applied actions` });
  assert.equal(events.reduce((a: number, e: any) => a + (e.count ?? 1), 0), N, 'each action counted once');
  // The queue empties while up to WRITE_CONCURRENCY GameServers are still being written: their Events
  // may come one by one after the set's Event; everything that waited behind the queue is on the set.
  const WRITE_CONCURRENCY = 8;
  assert.ok(events.length <= 1 + WRITE_CONCURRENCY, `aggregated: ${events.length} Event objects for ${N} actions`);
  const onSet = events.find((e: any) => e.involvedObject.kind === 'GameServerSet');
  assert.ok(onSet, 'the wave is an Event on its GameServerSet');
  assert.equal(onSet.involvedObject.name, 'arena');
  assert.ok(onSet.count >= N - WRITE_CONCURRENCY, `the set's Event counts the wave: ${onSet.count} of ${N}`);
  assert.match(onSet.message, /^\d+ times on \d+ GameServers \(arena-\d+, arena-\d+, arena-\d+ and \d+ more\); the latest: service quality healthy-gate/);
  assert.ok(api.queuedAtEventWrites.length > 0);
  assert.deepEqual(api.queuedAtEventWrites.filter((q) => q > 0), [], 'no Event write while a GameServer waited for its writes');
  const dropped = await decider.metrics.registry.getSingleMetricAsString('okgsq_events_dropped_total');
  assert.doesNotMatch(dropped, /^okgsq_events_dropped_total\{[^}]*\} [1-9]/m, 'no Event dropped');
});
