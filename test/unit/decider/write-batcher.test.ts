// The batcher with a fake writer and a fake clock: coalescing, order, rate limit, retries, drops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, settle } from '../probe/fake-clock.js';
import { RateLimiter } from '../../../decider/kube/rate-limiter.js';
import { WriteBatcher, type BatcherMetrics } from '../../../decider/kube/write-batcher.js';
import type { StepAnswer, StepWriter, WriteJob, WriteStep } from '../../../decider/kube/write-step.js';
import { objectKey } from '../../../decider/kube/object-key.js';
import { preconditionedBody } from '../../../decider/kube/kube-writer.js';
import { silentLogger } from './kit.js';

type Responder = (step: WriteStep, call: number) => StepAnswer | Promise<StepAnswer>;

class FakeWriter implements StepWriter {
  readonly calls: { step: WriteStep; atMs: number }[] = [];
  readonly refreshed: WriteStep[] = [];
  inFlight = 0;
  maxInFlight = 0;
  constructor(
    private readonly clock: FakeClock,
    private readonly respond: Responder = () => ({ status: 200, body: {} }),
  ) {}
  async write(step: WriteStep): Promise<StepAnswer> {
    this.calls.push({ step, atMs: this.clock.now() });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.respond(step, this.calls.length);
    } finally {
      this.inFlight--;
    }
  }
  async refresh(step: WriteStep): Promise<void> {
    this.refreshed.push(step);
  }
  /** What `read` answers: the object as the API server has it now (the test sets it). */
  current: unknown = null;
  readonly reads: WriteStep[] = [];
  async read(step: WriteStep): Promise<unknown> {
    this.reads.push(step);
    return this.current;
  }
}

class Counting implements BatcherMetrics {
  writes: string[] = [];
  batches: number[] = [];
  flips: number[] = [];
  write(resource: string, _verb: string, code: string): void {
    this.writes.push(`${resource} ${code}`);
  }
  batchSize(n: number): void {
    this.batches.push(n);
  }
  queueDepth(): void {}
  rateLimiterWait(): void {}
  flipToPatch(s: number): void {
    this.flips.push(s);
  }
}

function threeSteps(key: string): WriteJob {
  const [namespace, name] = key.split('/') as [string, string];
  return {
    steps: [
      { resource: 'pods/status', namespace, name, contentType: 'application/strategic-merge-patch+json', body: { n: 1 }, precondition: { uid: `pod-${name}`, resourceVersion: '5' } },
      { resource: 'gameservers', namespace, name, contentType: 'application/merge-patch+json', body: { n: 2 }, precondition: { uid: `gs-${name}`, resourceVersion: '10' } },
      { resource: 'gameservers/status', namespace, name, contentType: 'application/merge-patch+json', body: { n: 3 }, precondition: { uid: `gs-${name}`, resourceVersion: '10', pinned: true } },
    ],
  };
}

function setup(opts: { compute?: (key: string) => WriteJob | null; respond?: Responder; qps?: number; burst?: number; concurrency?: number } = {}) {
  const clock = new FakeClock();
  const writer = new FakeWriter(clock, opts.respond);
  const metrics = new Counting();
  const computed: string[] = [];
  const batcher = new WriteBatcher({
    compute: (key) => {
      computed.push(key);
      return (opts.compute ?? threeSteps)(key);
    },
    writer,
    limiter: new RateLimiter(opts.qps ?? 1000, opts.burst ?? 1000, clock),
    clock,
    flushWindowMs: 20,
    concurrency: opts.concurrency ?? 8,
    metrics,
    logger: silentLogger,
  });
  batcher.activate();
  return { clock, writer, metrics, batcher, computed };
}

test('changes to one GameServer within the flush window coalesce into one computation and one set of writes', async () => {
  const { clock, writer, batcher, computed, metrics } = setup();
  for (let i = 0; i < 5; i++) batcher.enqueue(objectKey('ns', 'gs-0'));
  batcher.enqueue(objectKey('ns', 'gs-1'));
  await clock.advance(19);
  assert.equal(writer.calls.length, 0, 'nothing before the window ends');
  await clock.advance(1);
  assert.deepEqual(computed, ['ns/gs-0', 'ns/gs-1']);
  assert.equal(writer.calls.length, 6);
  assert.deepEqual(metrics.batches, [2]);
  assert.equal(metrics.flips.length, 2);
});

test('a GameServer\'s writes go in docs/design.md §4 order: pod status, GameServer, GameServer status', async () => {
  let release: (() => void) | undefined;
  const { clock, writer, batcher } = setup({
    respond: (step) =>
      step.resource === 'pods/status'
        ? new Promise((resolve) => (release = () => resolve({ status: 200, body: {} })))
        : { status: 200, body: {} },
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status'], 'the GameServer waits for the pod condition');
  release!();
  await settle();
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status', 'gameservers', 'gameservers/status']);
});

test('a key changed while it is being written is computed again afterwards (latest wins, never in parallel)', async () => {
  let release: (() => void) | undefined;
  let version = 1;
  const { clock, writer, batcher, computed } = setup({
    compute: (key) => ({ steps: [{ ...threeSteps(key).steps[0]!, body: { v: version } }] }),
    respond: () => new Promise((resolve) => (release = () => resolve({ status: 200, body: {} }))),
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  version = 2;
  batcher.enqueue(objectKey('ns', 'gs-0'));
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(100);
  assert.equal(writer.calls.length, 1, 'no second write while the first is in flight');
  release!();
  await clock.advance(20);
  assert.equal(computed.length, 2);
  assert.deepEqual(writer.calls.map((c) => c.step.body), [{ v: 1 }, { v: 2 }]);
  release!();
  await batcher.drain();
});

test('the token bucket spaces writes at the configured QPS after the burst', async () => {
  const { clock, writer, batcher } = setup({ qps: 10, burst: 2, compute: (key) => ({ steps: [threeSteps(key).steps[2]!] }) });
  for (let i = 0; i < 5; i++) batcher.enqueue(objectKey('ns', `gs-${i}`));
  await clock.advance(20);
  const t0 = clock.now();
  await clock.advance(1000);
  assert.deepEqual(writer.calls.map((c) => c.atMs - t0), [0, 0, 100, 200, 300]);
});

test('429 is retried after the server\'s Retry-After; 500 with backoff; then the remaining steps run', async () => {
  const { clock, writer, batcher, metrics } = setup({
    respond: (_step, call) =>
      call === 1 ? { status: 429, body: {}, retryAfterSeconds: 3 } : call === 2 ? { status: 500, body: {} } : { status: 200, body: {} },
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  const t0 = clock.now();
  await clock.advance(2999);
  assert.equal(writer.calls.length, 1, 'Retry-After honoured');
  await clock.advance(1);
  assert.equal(writer.calls.length, 2);
  assert.equal(writer.calls[1]!.atMs - t0, 3000);
  await clock.advance(1000); // 200 ms ± 50 % backoff
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status', 'pods/status', 'pods/status', 'gameservers', 'gameservers/status']);
  assert.deepEqual(metrics.writes, ['pods/status 429', 'pods/status 500', 'pods/status 200', 'gameservers 200', 'gameservers/status 200']);
});

test('a 429 holds every write worker for its Retry-After (API Priority and Fairness pushes back on the client, not one object)', async () => {
  let refused = false;
  const { clock, writer, batcher } = setup({
    concurrency: 4,
    // The first write is refused; the other workers' writes already sent still land.
    respond: () => {
      if (refused) return { status: 200, body: {} };
      refused = true;
      return { status: 429, body: {}, retryAfterSeconds: 2 };
    },
    compute: (key) => ({ steps: [threeSteps(key).steps[0]!] }),
  });
  for (let i = 0; i < 20; i++) batcher.enqueue(objectKey('ns', `gs-${i}`));
  await clock.advance(20);
  const t0 = clock.now();
  const sentBeforeHold = writer.calls.length;
  assert.ok(sentBeforeHold <= 4, 'at most one write per worker went out with the refused one');
  await clock.advance(1_999);
  assert.equal(writer.calls.length, sentBeforeHold, 'no worker writes during the hold');
  await clock.advance(1_000);
  assert.ok(writer.calls.slice(sentBeforeHold).every((c) => c.atMs - t0 >= 2_000), 'writes resume after Retry-After');
  await batcher.drain();
  assert.equal(new Set(writer.calls.filter((c, i) => i > 0).map((c) => c.step.name)).size, 20, 'every GameServer written');
});

test('a Retry-After past the longest backoff is capped, so a hostile server cannot park a write worker', async () => {
  const { clock, writer, batcher } = setup({
    respond: (_step, call) => (call === 1 ? { status: 429, body: {}, retryAfterSeconds: 86_400 } : { status: 200, body: {} }),
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  const t0 = clock.now();
  await clock.advance(30_000); // DEFAULT_RETRY_POLICY.maxBackoffMs
  assert.equal(writer.calls.length, 4, 'retried after the cap, then the remaining steps ran');
  assert.equal(writer.calls[1]!.atMs - t0, 30_000);
});

test('a transport error (timeout) is retried like a 5xx', async () => {
  const { clock, writer, batcher } = setup({
    respond: (_s, call) => {
      if (call === 1) throw new Error('socket hang up');
      return { status: 200, body: {} };
    },
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(1000);
  assert.equal(writer.calls.length, 4);
});

test('a retry carries the version its step was computed from: the attempt whose answer was lost may have landed', async () => {
  const { clock, writer, batcher } = setup({
    respond: (step, call) => {
      if (step.resource === 'gameservers' && call === 2) throw new Error('request timed out');
      return { status: 200, body: {} };
    },
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(1000);
  const bodies = writer.calls.filter((c) => c.step.resource === 'gameservers').map((c) => preconditionedBody(c.step));
  assert.deepEqual(bodies, [
    { n: 2, metadata: { uid: 'gs-gs-0' } },
    { n: 2, metadata: { uid: 'gs-gs-0', resourceVersion: '10' } },
  ], 'the first attempt carries only the uid, the retry also the version: it lands only if nothing landed since');
  // The first attempt of a later job carries only the uid again.
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(1000);
  assert.deepEqual(preconditionedBody(writer.calls.filter((c) => c.step.resource === 'gameservers').at(-1)!.step), { n: 2, metadata: { uid: 'gs-gs-0' } });
});

test('after a conflict whose re-read failed, the recomputed job carries its versions from the first attempt', async () => {
  const { clock, writer, batcher, computed } = setup({ respond: (s, call) => (s.resource === 'gameservers' && call === 2 ? { status: 409, body: {} } : { status: 200, body: {} }) });
  writer.refresh = async () => {
    throw new Error('apiserver unreachable');
  };
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  assert.equal(computed.length, 2);
  const retried = writer.calls.slice(2).map((c) => preconditionedBody(c.step) as { metadata: unknown });
  assert.deepEqual(retried.map((b) => b.metadata), [
    { uid: 'pod-gs-0', resourceVersion: '5' },
    { uid: 'gs-gs-0', resourceVersion: '10' },
    { uid: 'gs-gs-0', resourceVersion: '10' },
  ]);
});

test('404 drops the GameServer\'s remaining writes without retrying', async () => {
  const { clock, writer, batcher } = setup({ respond: (step) => (step.resource === 'gameservers' ? { status: 404, body: {} } : { status: 200, body: {} }) });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(60_000);
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status', 'gameservers']);
});

test('409 re-reads the object and recomputes the job from the fresh cache', async () => {
  const { clock, writer, batcher, computed } = setup({ respond: (_s, call) => (call === 2 ? { status: 409, body: {} } : { status: 200, body: {} }) });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  assert.deepEqual(writer.refreshed.map((s) => s.resource), ['gameservers']);
  assert.equal(computed.length, 2);
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status', 'gameservers', 'pods/status', 'gameservers', 'gameservers/status']);
});

test('a replaced object (the answer says conflict: a 422 on metadata.uid) is re-read and recomputed, never retried blind', async () => {
  const { clock, writer, batcher, computed } = setup({ respond: (_s, call) => (call === 1 ? { status: 422, body: {}, conflict: true } : { status: 200, body: {} }) });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  assert.deepEqual(writer.refreshed.map((s) => s.resource), ['pods/status']);
  assert.equal(computed.length, 2, 'recomputed from the re-read cache');
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status', 'pods/status', 'gameservers', 'gameservers/status']);
});

test('a step after our own write of the same object takes the resourceVersion that write produced, only for that uid', async () => {
  const { clock, writer, batcher } = setup({
    respond: (step) => ({ status: 200, body: { metadata: { uid: step.precondition.uid, resourceVersion: step.resource === 'gameservers' ? '11' : '99' } } }),
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  const status = writer.calls.find((c) => c.step.resource === 'gameservers/status')!.step;
  assert.deepEqual(status.precondition, { uid: 'gs-gs-0', resourceVersion: '11', pinned: true });
  // An answer for another uid (not ours to follow) leaves the computed version in place.
  const other = setup({ respond: (step) => ({ status: 200, body: { metadata: { uid: step.resource === 'gameservers' ? 'someone-else' : step.precondition.uid, resourceVersion: '12' } } }) });
  other.batcher.enqueue(objectKey('ns', 'gs-0'));
  await other.clock.advance(20);
  assert.deepEqual(other.writer.calls.find((c) => c.step.resource === 'gameservers/status')!.step.precondition, { uid: 'gs-gs-0', resourceVersion: '10', pinned: true });
});

/** threeSteps, its status step setting the status list to `new`, computed from the list `old` only. */
function statusDependsOnList(key: string): WriteJob {
  const [podStep, specStep, statusStep] = threeSteps(key).steps as [WriteStep, WriteStep, WriteStep];
  return {
    steps: [
      podStep,
      specStep,
      { ...statusStep, body: { status: { list: [{ name: 'q', result: 'new' }] } }, dependsOn: { path: ['status', 'list'], value: [{ name: 'q', result: 'old' }] } },
    ],
  };
}

test("a status step refused because another writer changed only the spec (an operator's edit) is re-sent on the fresh version, not recomputed", async () => {
  let done = 0;
  const { clock, writer, batcher, computed } = setup({
    compute: (key) => ({ ...statusDependsOnList(key), done: () => done++ }),
    respond: (step) =>
      step.resource === 'gameservers/status' && step.precondition.resourceVersion === '10' ? { status: 409, body: {} } : { status: 200, body: {} },
  });
  writer.current = { metadata: { uid: 'gs-gs-0', resourceVersion: '12' }, spec: { opsState: 'Allocated' }, status: { list: [{ result: 'old', name: 'q' }] } };
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  assert.equal(computed.length, 1, 'not recomputed: that would fire the action again over the edit');
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status', 'gameservers', 'gameservers/status', 'gameservers/status']);
  assert.deepEqual(writer.calls[3]!.step.precondition, { uid: 'gs-gs-0', resourceVersion: '12', pinned: true });
  assert.deepEqual(writer.calls[3]!.step.body, writer.calls[2]!.step.body, 'the same status, on the new version');
  assert.equal(done, 1, 'the decision is reported once');
  assert.deepEqual(writer.refreshed, []);
});

test('a status step refused after its earlier attempt landed (the answer lost) is done: the decision is reported, nothing recomputed', async () => {
  let done = 0;
  const { clock, writer, batcher, computed } = setup({
    compute: (key) => ({ ...statusDependsOnList(key), done: () => done++ }),
    respond: (step, call) => (step.resource === 'gameservers/status' && call === 3 ? { status: 409, body: {} } : { status: 200, body: {} }),
  });
  writer.current = { metadata: { uid: 'gs-gs-0', resourceVersion: '12' }, status: { list: [{ result: 'new', name: 'q' }] } };
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20);
  assert.deepEqual(writer.calls.map((c) => c.step.resource), ['pods/status', 'gameservers', 'gameservers/status'], 'not sent again');
  assert.equal(computed.length, 1);
  assert.equal(done, 1, 'the action it completed is reported (its Event, its counter)');
});

test('a status step refused because the part it depends on changed (or the object was replaced) is recomputed', async () => {
  for (const current of [
    { metadata: { uid: 'gs-gs-0', resourceVersion: '12' }, status: { list: [{ name: 'q', result: 'other' }] } },
    { metadata: { uid: 'someone-else', resourceVersion: '12' }, status: { list: [{ name: 'q', result: 'old' }] } },
    null,
  ]) {
    const { clock, writer, batcher, computed } = setup({
      compute: statusDependsOnList,
      respond: (step, call) => (step.resource === 'gameservers/status' && call === 3 ? { status: 409, body: {} } : { status: 200, body: {} }),
    });
    writer.current = current;
    batcher.enqueue(objectKey('ns', 'gs-0'));
    await clock.advance(20);
    assert.equal(writer.reads.length, 1);
    assert.deepEqual(writer.refreshed.map((s) => s.resource), ['gameservers/status'], JSON.stringify(current));
    assert.equal(computed.length, 2, `recomputed from fresh state: ${JSON.stringify(current)}`);
  }
});

test('nothing to write → no write at all', async () => {
  const { clock, writer, batcher } = setup({ compute: () => null });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(100);
  assert.equal(writer.calls.length, 0);
});

test('concurrency is bounded across GameServers', async () => {
  const releases: (() => void)[] = [];
  const { clock, writer, batcher } = setup({
    concurrency: 3,
    compute: (key) => ({ steps: [threeSteps(key).steps[0]!] }),
    respond: () => new Promise((resolve) => releases.push(() => resolve({ status: 200, body: {} }))),
  });
  for (let i = 0; i < 10; i++) batcher.enqueue(objectKey('ns', `gs-${i}`));
  await clock.advance(20);
  assert.equal(writer.calls.length, 3);
  while (releases.length > 0) {
    releases.shift()!();
    await settle();
  }
  assert.equal(writer.calls.length, 10);
  assert.equal(writer.maxInFlight, 3);
});

test('pause (lost the lease) stops writing at once and drops what was queued', async () => {
  let release: (() => void) | undefined;
  const { clock, writer, batcher } = setup({
    respond: (step) => (step.resource === 'pods/status' ? new Promise((resolve) => (release = () => resolve({ status: 200, body: {} }))) : { status: 200, body: {} }),
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  batcher.enqueue(objectKey('ns', 'gs-1'));
  await clock.advance(20);
  batcher.deactivate();
  release!();
  await clock.advance(1000);
  assert.ok(writer.calls.every((c) => c.step.resource === 'pods/status'), 'no GameServer write after losing the lease');
  batcher.enqueue(objectKey('ns', 'gs-2'));
  await clock.advance(1000);
  assert.ok(!writer.calls.some((c) => c.step.name === 'gs-2'));
});

test('a write still failing after its attempts is put back and tried again later, not dropped', async () => {
  let failing = true;
  const { clock, writer, batcher } = setup({
    compute: (key) => ({ steps: [threeSteps(key).steps[1]!] }),
    respond: () => (failing ? { status: 503, body: {} } : { status: 200, body: {} }),
  });
  batcher.enqueue(objectKey('ns', 'gs-0'));
  await clock.advance(20_000); // 6 attempts with backoff 200 ms … 3.2 s (±50 %)
  assert.equal(writer.calls.length, 6);
  failing = false;
  // The attempts end between 3.1 s and 9.3 s; the key comes back 30 s after that.
  await clock.advance(9_000);
  assert.equal(writer.calls.length, 6, 'waits before trying the key again');
  await clock.advance(11_000);
  assert.equal(writer.calls.length, 7);
  assert.equal(batcher.depth, 0);
});
