// Events: one per (object, reason, key) and window; repeats become a count bump at most every 30 s;
// nothing is written unless leading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventRecorder, EVENT_AGGREGATE_WINDOW_MS } from '../../../decider/kube/event-recorder.js';
import { RateLimiter } from '../../../decider/kube/rate-limiter.js';
import type { KubeApi, KubeResponse, RequestOptions } from '../../../decider/kube/kube-client.js';
import { gameServerRef } from '../../../decider/kube/object-ref.js';
import { FakeClock, settle } from '../probe/fake-clock.js';
import { silentLogger } from './kit.js';

class RecordingApi implements KubeApi {
  readonly calls: { method: string; path: string; body: any }[] = [];
  async request(method: string, path: string, options?: RequestOptions): Promise<KubeResponse> {
    this.calls.push({ method, path, body: options?.body });
    return { status: method === 'POST' ? 201 : 200, body: {} };
  }
  watch(): Promise<void> {
    throw new Error('not used');
  }
}

function setup() {
  const clock = new FakeClock();
  const api = new RecordingApi();
  const writes: string[] = [];
  const rec = new EventRecorder({ api, limiter: new RateLimiter(100, 100, clock), clock, metrics: { write: (_r, verb, code) => void writes.push(`${verb} ${code}`) }, logger: silentLogger, instance: 'decider-0' });
  return { clock, api, rec, writes };
}

test('repeats of one action on one GameServer are aggregated into one Event with a count', async () => {
  const { clock, api, rec, writes } = setup();
  rec.setEnabled(true);
  const ref = gameServerRef('ns', 'mc-0', 'uid-0');
  rec.record(ref, 'Normal', 'ServiceQualityActionApplied', 'healthy → GateMaintaining', 'healthy');
  await settle();
  assert.equal(api.calls.length, 1);
  assert.equal(api.calls[0]!.method, 'POST');
  assert.equal(api.calls[0]!.path, '/api/v1/namespaces/ns/events');
  assert.deepEqual(api.calls[0]!.body.involvedObject, { kind: 'GameServer', apiVersion: 'game.kruise.io/v1alpha1', namespace: 'ns', name: 'mc-0', uid: 'uid-0' });
  assert.equal(api.calls[0]!.body.count, 1);
  for (let i = 0; i < 5; i++) rec.record(ref, 'Normal', 'ServiceQualityActionApplied', 'healthy → None', 'healthy');
  await clock.advance(29_000);
  assert.equal(api.calls.length, 1, 'at most one update per 30 s');
  await clock.advance(1_000);
  assert.equal(api.calls.length, 2);
  assert.equal(api.calls[1]!.method, 'PATCH');
  assert.match(api.calls[1]!.path, /\/events\/mc-0\.[0-9a-f]{16}$/);
  assert.equal(api.calls[1]!.body.count, 6);
  assert.equal(api.calls[1]!.body.message, 'healthy → None');
  // Another quality is its own Event; after the window a new Event starts.
  rec.record(ref, 'Normal', 'ServiceQualityActionApplied', 'data → DataMaintaining', 'data');
  await clock.advance(EVENT_AGGREGATE_WINDOW_MS);
  rec.record(ref, 'Normal', 'ServiceQualityActionApplied', 'healthy → None', 'healthy');
  await settle();
  assert.deepEqual(api.calls.map((c) => c.method), ['POST', 'PATCH', 'POST', 'POST']);
  assert.deepEqual(writes, ['create 201', 'patch 200', 'create 201', 'create 201']);
});

test('a replica that does not lead writes no Events', async () => {
  const { api, rec } = setup();
  rec.record(gameServerRef('ns', 'mc-0'), 'Warning', 'ProbesStale', 'x');
  await settle();
  assert.equal(api.calls.length, 0);
});

test("a repeat patches only the Event it created (its uid), and starts a new Event when that one is gone or replaced", async () => {
  const clock = new FakeClock();
  const calls: { method: string; body: any }[] = [];
  let patchAnswer: KubeResponse = { status: 200, body: {} };
  const api: KubeApi = {
    request: async (method, _path, options) => {
      calls.push({ method, body: options?.body });
      return method === 'POST' ? { status: 201, body: { metadata: { uid: `event-uid-${calls.length}` } } } : patchAnswer;
    },
    watch: () => Promise.reject(new Error('not used')),
  };
  const rec = new EventRecorder({ api, limiter: new RateLimiter(100, 100, clock), clock, metrics: { write: () => undefined }, logger: silentLogger, instance: 'decider-0' });
  rec.setEnabled(true);
  const ref = gameServerRef('ns', 'mc-0', 'uid-0');
  rec.record(ref, 'Warning', 'InvalidOpsState', 'one', 'q/0');
  await settle();
  rec.record(ref, 'Warning', 'InvalidOpsState', 'two', 'q/0');
  await clock.advance(30_000);
  assert.deepEqual(calls[1]!.body.metadata, { uid: 'event-uid-1' });
  patchAnswer = { status: 422, body: { details: { causes: [{ field: 'metadata.uid' }] } } };
  rec.record(ref, 'Warning', 'InvalidOpsState', 'three', 'q/0');
  await clock.advance(30_000);
  patchAnswer = { status: 200, body: {} };
  rec.record(ref, 'Warning', 'InvalidOpsState', 'four', 'q/0');
  await clock.advance(30_000);
  assert.deepEqual(calls.map((c) => c.method), ['POST', 'PATCH', 'PATCH', 'POST']);
});
