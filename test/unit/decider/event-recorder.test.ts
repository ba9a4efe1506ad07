// Events: one per (object, reason, key) and window; repeats become a count bump at most every 30 s; a
// wave's Events wait behind every action write and go out as one Event per set and reason; their own
// budget; what cannot be written within it is dropped and counted; nothing is written unless leading.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EventRecorder, EVENT_AGGREGATE_WINDOW_MS, EVENT_BURST, EVENT_MAX_WAIT_MS, EVENT_QPS, EVENT_RECHECK_MS, MAX_PENDING_EVENTS, type EventDropReason,
} from '../../../decider/kube/event-recorder.js';
import { RateLimiter } from '../../../decider/kube/rate-limiter.js';
import { WriteBatcher } from '../../../decider/kube/write-batcher.js';
import type { StepAnswer, WriteStep } from '../../../decider/kube/write-step.js';
import { objectKey } from '../../../decider/kube/object-key.js';
import type { KubeApi, KubeResponse, RequestOptions } from '../../../decider/kube/kube-client.js';
import { gameServerRef, gameServerSetRef } from '../../../decider/kube/object-ref.js';
import { FakeClock, settle } from '../probe/fake-clock.js';
import { silentLogger } from './kit.js';

class RecordingApi implements KubeApi {
  readonly calls: { method: string; path: string; body: any; atMs: number }[] = [];
  answer: (method: string) => KubeResponse = (method) => ({ status: method === 'POST' ? 201 : 200, body: {} });
  constructor(private readonly clock: FakeClock) {}
  async request(method: string, path: string, options?: RequestOptions): Promise<KubeResponse> {
    this.calls.push({ method, path, body: options?.body, atMs: this.clock.now() });
    return this.answer(method);
  }
  watch(): Promise<void> {
    throw new Error('not used');
  }
}

class Dropped {
  readonly byReason = new Map<EventDropReason, number>();
  eventsDropped(reason: EventDropReason, n: number): void {
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + n);
  }
}

function setup(opts: { limiter?: RateLimiter; clock?: FakeClock; pendingWrites?: () => number } = {}) {
  const clock = opts.clock ?? new FakeClock();
  const api = new RecordingApi(clock);
  const writes: string[] = [];
  const dropped = new Dropped();
  const pendingWrites = opts.pendingWrites ?? (() => 0);
  const rec = new EventRecorder({
    api,
    limiter: opts.limiter ?? new RateLimiter(100, 100, clock),
    actions: { get pendingWrites() { return pendingWrites(); } },
    clock,
    metrics: { write: (_r, verb, code) => void writes.push(`${verb} ${code}`), eventsDropped: (r, n) => dropped.eventsDropped(r, n) },
    logger: silentLogger,
    instance: 'decider-0',
  });
  return { clock, api, rec, writes, dropped };
}

const APPLIED = 'ServiceQualityActionApplied';
const SET = gameServerSetRef('ns', 'arena', 'set-uid');

test('repeats of one action on one GameServer are aggregated into one Event with a count', async () => {
  const { clock, api, rec, writes } = setup();
  rec.activate();
  const ref = gameServerRef('ns', 'mc-0', 'uid-0');
  rec.record(ref, 'Normal', APPLIED, 'healthy → GateMaintaining', 'healthy');
  await settle();
  assert.equal(api.calls.length, 1);
  assert.equal(api.calls[0]!.method, 'POST');
  assert.equal(api.calls[0]!.path, '/api/v1/namespaces/ns/events');
  assert.deepEqual(api.calls[0]!.body.involvedObject, { kind: 'GameServer', apiVersion: 'game.kruise.io/v1alpha1', namespace: 'ns', name: 'mc-0', uid: 'uid-0' });
  assert.equal(api.calls[0]!.body.count, 1);
  for (let i = 0; i < 5; i++) rec.record(ref, 'Normal', APPLIED, 'healthy → None', 'healthy');
  await clock.advance(29_000);
  assert.equal(api.calls.length, 1, 'at most one update per 30 s');
  await clock.advance(1_000);
  assert.equal(api.calls.length, 2);
  assert.equal(api.calls[1]!.method, 'PATCH');
  assert.match(api.calls[1]!.path, /\/events\/mc-0\.[0-9a-f]{16}$/);
  assert.equal(api.calls[1]!.body.count, 6);
  assert.equal(api.calls[1]!.body.message, 'healthy → None');
  // Another quality is its own Event; after the window a new Event starts.
  rec.record(ref, 'Normal', APPLIED, 'data → DataMaintaining', 'data');
  await clock.advance(EVENT_AGGREGATE_WINDOW_MS);
  rec.record(ref, 'Normal', APPLIED, 'healthy → None', 'healthy');
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

test('a repeat patches only the Event it created (its uid), and starts a new Event when that one is gone or replaced', async () => {
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
  const rec = new EventRecorder({ api, limiter: new RateLimiter(100, 100, clock), actions: { pendingWrites: 0 }, clock, metrics: { write: () => undefined, eventsDropped: () => undefined }, logger: silentLogger, instance: 'decider-0' });
  rec.activate();
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

test('an Event takes a token only when every queued action write could still take one without waiting', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(10, 20, clock);
  let pending = 20;
  const { api, rec } = setup({ clock, limiter, pendingWrites: () => pending });
  rec.activate();
  rec.record(gameServerRef('ns', 'mc-0', 'uid-0'), 'Normal', APPLIED, 'healthy → None', 'healthy', SET);
  await clock.advance(10_000);
  assert.equal(api.calls.length, 0, '20 tokens, 20 action writes to come: none is spare');
  pending = 19;
  await clock.advance(1_000);
  assert.equal(api.calls.length, 1, 'one token spare: the Event goes');
  assert.equal(api.calls[0]!.body.involvedObject.name, 'mc-0', 'alone, it is about its GameServer');
});

test('a wave: every action write lands at the write floor first, then ONE Event on the set counts them all', async () => {
  const clock = new FakeClock();
  const QPS = 10;
  // A burst deep enough that the first jobs finish with tokens left: only the queued actions hold the Events.
  const BURST = 60;
  const N = 40;
  const limiter = new RateLimiter(QPS, BURST, clock);
  const actionWrites: number[] = [];
  const writer = {
    write: async (_step: WriteStep): Promise<StepAnswer> => {
      actionWrites.push(clock.now());
      return { status: 200, body: {} };
    },
    refresh: async () => undefined,
    read: async () => null,
  };
  let batcher: WriteBatcher | undefined;
  const { api, rec } = setup({ clock, limiter, pendingWrites: () => batcher!.pendingWrites });
  batcher = new WriteBatcher({
    compute: (key) => {
      const name = key.split('/')[1]!;
      const gs = gameServerRef('ns', name, `uid-${name}`);
      const step = (resource: WriteStep['resource']): WriteStep => ({ resource, namespace: 'ns', name, contentType: 'application/merge-patch+json', body: {}, precondition: { uid: `uid-${name}` } });
      return {
        steps: [step('pods/status'), step('gameservers'), step('gameservers/status')],
        done: () => rec.record(gs, 'Normal', APPLIED, `service quality healthy applied action 0 on ${name}`, 'healthy', SET),
      };
    },
    writer,
    limiter,
    clock,
    flushWindowMs: 20,
    concurrency: 8,
    metrics: { write: () => undefined, batchSize: () => undefined, queueDepth: () => undefined, rateLimiterWait: () => undefined, flipToPatch: () => undefined },
    logger: silentLogger,
  });
  rec.activate();
  batcher.activate();
  const start = clock.now();
  for (let i = 0; i < N; i++) batcher.enqueue(objectKey('ns', `gs-${i}`));
  await clock.advance(60_000);
  assert.equal(actionWrites.length, 3 * N);
  const lastAction = Math.max(...actionWrites);
  // The floor: the writes beyond the burst at QPS, after the flush window. Not one token went to an Event.
  assert.equal(lastAction - start, 20 + ((3 * N - BURST) * 1000) / QPS);
  assert.equal(api.calls.length, 1, 'one Event for the wave');
  const e = api.calls[0]!;
  assert.ok(e.atMs > lastAction, 'the Event after the last action write');
  assert.deepEqual(e.body.involvedObject, { kind: 'GameServerSet', apiVersion: 'game.kruise.io/v1alpha1', namespace: 'ns', name: 'arena', uid: 'set-uid' });
  assert.equal(e.body.reason, APPLIED);
  assert.equal(e.body.count, N);
  assert.match(e.body.message, /^40 times on 40 GameServers \(gs-\d+, gs-\d+, gs-\d+ and 37 more\); the latest: service quality healthy applied action 0 on gs-\d+$/);
});

test('a second wave within the window bumps the set\'s Event: count and GameServers add up', async () => {
  let pending = 1_000;
  const { clock, api, rec } = setup({ pendingWrites: () => pending });
  rec.activate();
  for (let i = 0; i < 5; i++) rec.record(gameServerRef('ns', `gs-${i}`), 'Normal', APPLIED, `on gs-${i}`, 'healthy', SET);
  pending = 0;
  await clock.advance(1_000);
  pending = 1_000;
  for (let i = 3; i < 8; i++) rec.record(gameServerRef('ns', `gs-${i}`), 'Normal', APPLIED, `on gs-${i}`, 'healthy', SET);
  pending = 0;
  await clock.advance(30_000);
  assert.deepEqual(api.calls.map((c) => [c.method, c.body.count]), [['POST', 5], ['PATCH', 10]]);
  assert.match(api.calls[1]!.body.message, /^10 times on 8 GameServers \(gs-0, gs-1, gs-2 and 5 more\); the latest: on gs-7$/);
});

test('Warnings and applied actions of one set are separate Events; sets are separate', async () => {
  let pending = 1_000;
  const { clock, api, rec } = setup({ pendingWrites: () => pending });
  rec.activate();
  const other = gameServerSetRef('ns', 'lobby');
  for (let i = 0; i < 3; i++) {
    rec.record(gameServerRef('ns', `a-${i}`), 'Normal', APPLIED, 'x', 'healthy', SET);
    rec.record(gameServerRef('ns', `a-${i}`), 'Warning', 'InvalidOpsState', 'y', 'healthy/0', SET);
    rec.record(gameServerRef('ns', `l-${i}`), 'Normal', APPLIED, 'z', 'healthy', other);
  }
  pending = 0;
  await clock.advance(1_000);
  assert.deepEqual(
    api.calls.map((c) => `${c.body.involvedObject.name} ${c.body.type} ${c.body.reason} ${c.body.count}`),
    ['arena Normal ServiceQualityActionApplied 3', 'arena Warning InvalidOpsState 3', 'lobby Normal ServiceQualityActionApplied 3'],
  );
});

test('Events have their own budget: a burst, then EVENT_QPS a second', async () => {
  const { clock, api, rec } = setup({ limiter: new RateLimiter(1_000, 1_000, new FakeClock()) });
  rec.activate();
  const N = EVENT_BURST + 2 * EVENT_QPS;
  for (let i = 0; i < N; i++) rec.record(gameServerRef('ns', `gs-${i}`), 'Warning', 'ForeignConditionWriter', 'x', 'q');
  await settle(50);
  assert.equal(api.calls.length, EVENT_BURST);
  await clock.advance(1_000);
  assert.equal(api.calls.length, EVENT_BURST + EVENT_QPS);
  await clock.advance(1_000);
  assert.equal(api.calls.length, N);
});

test('what cannot be written within its budget is dropped and counted, never queued without end', async () => {
  let pending = 1_000_000;
  const { clock, api, rec, dropped } = setup({ pendingWrites: () => pending });
  rec.activate();
  for (let i = 0; i < MAX_PENDING_EVENTS + 5; i++) rec.record(gameServerRef('ns', `gs-${i}`), 'Warning', 'ForeignConditionWriter', 'x', 'q');
  assert.equal(dropped.byReason.get('queue_full'), 5);
  await clock.advance(EVENT_MAX_WAIT_MS);
  assert.equal(dropped.byReason.get('expired'), MAX_PENDING_EVENTS, 'actions held every token for a whole window');
  assert.equal(rec.waiting, 0);
  pending = 0;
  api.answer = () => ({ status: 403, body: {} });
  rec.record(gameServerRef('ns', 'gs-x'), 'Warning', 'ForeignConditionWriter', 'x', 'q');
  await settle();
  assert.equal(api.calls.length, 1);
  assert.equal(dropped.byReason.get('failed'), 1, 'a refused write is not retried');
  pending = 1_000_000;
  rec.record(gameServerRef('ns', 'gs-y'), 'Warning', 'ForeignConditionWriter', 'x', 'q');
  rec.deactivate();
  assert.equal(dropped.byReason.get('not_leader'), 1);
});

test('a wave longer than the window still gets its Event at its end; it expires only a window after its latest occurrence', async () => {
  let pending = 1_000_000;
  const { clock, api, rec, dropped } = setup({ pendingWrites: () => pending });
  rec.activate();
  for (let minute = 0; minute < 15; minute++) {
    rec.record(gameServerRef('ns', `gs-${minute}`), 'Normal', APPLIED, `on gs-${minute}`, 'healthy', SET);
    await clock.advance(60_000);
  }
  assert.equal(api.calls.length, 0);
  pending = 0;
  await clock.advance(EVENT_RECHECK_MS);
  assert.deepEqual(api.calls.map((c) => [c.body.involvedObject.name, c.body.count]), [['arena', 15]]);
  assert.equal(dropped.byReason.size, 0);
  pending = 1_000_000;
  rec.record(gameServerRef('ns', 'gs-late'), 'Normal', APPLIED, 'late', 'healthy', SET);
  await clock.advance(EVENT_MAX_WAIT_MS);
  assert.equal(dropped.byReason.get('expired'), 1);
});

test('an Event answered 429 holds the whole client for its Retry-After, actions included; the Event is dropped, not retried', async () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter(100, 100, clock);
  const { api, rec, dropped } = setup({ clock, limiter });
  api.answer = () => ({ status: 429, body: {}, retryAfterSeconds: 3 });
  rec.activate();
  rec.record(gameServerRef('ns', 'mc-0'), 'Warning', 'ForeignConditionWriter', 'x', 'q');
  await settle();
  assert.equal(dropped.byReason.get('failed'), 1);
  let acquired: number | undefined;
  void limiter.acquire().then(() => (acquired = clock.now()));
  const t0 = clock.now();
  await clock.advance(2_999);
  assert.equal(acquired, undefined, 'an action write waits out the Retry-After');
  await clock.advance(100);
  assert.ok(acquired !== undefined && acquired - t0 >= 3_000);
  assert.equal(api.calls.length, 1);
});
