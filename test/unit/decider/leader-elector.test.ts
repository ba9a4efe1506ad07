// Leader election logic over an in-memory Lease with optimistic concurrency and a fake clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderElector, type LeaseSpec, type LeaseStore } from '../../../decider/kube/leader-elector.js';
import { FakeClock } from '../probe/fake-clock.js';
import { silentLogger } from './kit.js';

class MemoryLease {
  spec: LeaseSpec | undefined;
  rv = 0;
  down = false;
  /** Requests by caller and verb, e.g. `a get`. */
  readonly requests: string[] = [];
  storeFor(identity = ''): LeaseStore {
    return {
      get: async () => {
        this.requests.push(`${identity} get`);
        if (this.down) throw new Error('apiserver down');
        return this.spec ? { spec: { ...this.spec }, resourceVersion: String(this.rv) } : null;
      },
      create: async (spec) => {
        this.requests.push(`${identity} create`);
        if (this.down) throw new Error('apiserver down');
        if (this.spec) return null;
        this.spec = spec;
        return String(++this.rv);
      },
      update: async (spec, rv) => {
        this.requests.push(`${identity} update`);
        if (this.down) throw new Error('apiserver down');
        if (String(this.rv) !== rv) return null;
        this.spec = spec;
        return String(++this.rv);
      },
    };
  }
}

function elector(lease: MemoryLease, clock: FakeClock, identity: string, log: string[]) {
  return new LeaderElector({
    store: lease.storeFor(identity),
    identity,
    leaseDurationMs: 15_000,
    clock,
    logger: silentLogger,
    onStartedLeading: () => log.push(`${identity} leads`),
    onStoppedLeading: () => log.push(`${identity} stops`),
  });
}

test('one of two candidates leads; the other takes over only after the lease expires on its own clock', async () => {
  const clock = new FakeClock();
  const lease = new MemoryLease();
  const log: string[] = [];
  const a = elector(lease, clock, 'a', log);
  const b = elector(lease, clock, 'b', log);
  await a.tick();
  await b.tick();
  assert.deepEqual(log, ['a leads']);
  assert.equal(lease.spec?.holderIdentity, 'a');
  // a keeps renewing: b never gets it.
  for (let i = 0; i < 20; i++) {
    await clock.advance(2000);
    await a.tick();
    await b.tick();
  }
  assert.deepEqual(log, ['a leads']);
  // a dies (stops renewing): b takes over once 15 s passed since it last saw the record change.
  await clock.advance(14_000);
  await b.tick();
  assert.deepEqual(log, ['a leads']);
  await clock.advance(2000);
  await b.tick();
  assert.deepEqual(log, ['a leads', 'b leads']);
  assert.equal(lease.spec?.holderIdentity, 'b');
  assert.equal(lease.spec?.leaseTransitions, 1);
  // a comes back: it sees b holding and steps down at once.
  await a.tick();
  assert.deepEqual(log, ['a leads', 'b leads', 'a stops']);
  assert.equal(a.isLeader, false);
});

test('a leader that cannot renew for the renew deadline (2/3 of the lease) stops leading', async () => {
  const clock = new FakeClock();
  const lease = new MemoryLease();
  const log: string[] = [];
  const a = elector(lease, clock, 'a', log);
  await a.tick();
  lease.down = true;
  await clock.advance(8000);
  await a.tick();
  assert.equal(a.isLeader, true, 'still within the renew deadline');
  await clock.advance(2000);
  await a.tick();
  assert.equal(a.isLeader, false);
  assert.deepEqual(log, ['a leads', 'a stops']);
});

test('stop() releases the lease so another replica takes over without waiting for expiry', async () => {
  const clock = new FakeClock();
  const lease = new MemoryLease();
  const log: string[] = [];
  const a = elector(lease, clock, 'a', log);
  const b = elector(lease, clock, 'b', log);
  await a.tick();
  await b.tick();
  await a.stop();
  assert.equal(lease.spec?.holderIdentity, null);
  await b.tick();
  assert.deepEqual(log, ['a leads', 'a stops', 'b leads']);
});

test('a leader renews with one request (an update on the version its last write produced); it reads the Lease only when that fails', async () => {
  const clock = new FakeClock();
  const lease = new MemoryLease();
  const log: string[] = [];
  const a = elector(lease, clock, 'a', log);
  await a.tick();
  lease.requests.length = 0;
  for (let i = 0; i < 5; i++) {
    await clock.advance(2000);
    await a.tick();
  }
  assert.deepEqual(lease.requests, Array(5).fill('a update'), 'no read while its writes keep landing');
  // Someone else wrote the Lease (an operator's edit, another holder): the update is refused, then read.
  lease.rv++;
  lease.requests.length = 0;
  await clock.advance(2000);
  await a.tick();
  assert.deepEqual(lease.requests, ['a update', 'a get', 'a update']);
  assert.equal(a.isLeader, true, 'still its own: it renewed on what it read');
  // An unknown answer (the apiserver away) is never retried blind either: the next renewal reads first.
  lease.down = true;
  await clock.advance(2000);
  await a.tick();
  lease.down = false;
  lease.requests.length = 0;
  await clock.advance(2000);
  await a.tick();
  assert.deepEqual(lease.requests, ['a get', 'a update']);
  assert.deepEqual(log, ['a leads']);
});
