// The shared async toolkit of both programs: backoff, sleep on the Clock, token bucket.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Backoff } from '../../../common/backoff.js';
import { sleep } from '../../../common/sleep.js';
import { TokenBucket } from '../../../common/token-bucket.js';
import { FakeClock } from '../probe/fake-clock.js';

describe('Backoff', () => {
  it('grows exponentially with jitter, is capped, and resets', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    assert.deepEqual(Array.from({ length: 6 }, () => low.next()), [50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999999 });
    assert.deepEqual(Array.from({ length: 6 }, () => high.next()), [100, 200, 400, 800, 1_000, 1_000]);
    high.reset();
    assert.equal(high.next(), 100);
  });
});


describe('sleep', () => {
  it('resolves true when its time has passed on the clock, not before', async () => {
    const clock = new FakeClock();
    let done: boolean | undefined;
    void sleep(clock, 100).then((v) => (done = v));
    await clock.advance(99);
    assert.equal(done, undefined);
    await clock.advance(1);
    assert.equal(done, true);
  });

  it('resolves false at once when aborted, and leaves no timer behind', async () => {
    const clock = new FakeClock();
    const ac = new AbortController();
    const slept = sleep(clock, 60_000, ac.signal);
    ac.abort();
    assert.equal(await slept, false);
    await clock.advance(0);
    assert.equal(clock.pendingTimers, 0);
    assert.equal(await sleep(clock, 10, ac.signal), false, 'an aborted signal: no wait at all');
  });
});

describe('TokenBucket', () => {
  it('gives its burst at once, then says how long to wait for the debt, refilling at its rate up to capacity', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    assert.deepEqual(Array.from({ length: 5 }, () => bucket.take()), [0, 0, 0, 0, 0]);
    assert.equal(bucket.take(), 100, 'one token in debt at 10/s');
    assert.equal(bucket.take(2), 300);
    await clock.advance(300);
    assert.equal(bucket.take(0), 0, 'debt repaid');
    await clock.advance(60_000);
    assert.equal(bucket.take(5), 0);
    assert.equal(bucket.take(1), 100, 'refilled only up to its capacity');
  });
});

describe('TokenBucket for a write budget', () => {
  it('tryTake takes only spare tokens and never goes into debt; msUntil says when they will be there', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 3, clock);
    assert.equal(bucket.tryTake(1, 2), true, '3 there, 2 left behind');
    assert.equal(bucket.tryTake(1, 2), false, 'only 2 there: none spare');
    assert.equal(bucket.msUntil(3), 100);
    await clock.advance(100);
    assert.equal(bucket.msUntil(3), 0);
    assert.equal(bucket.tryTake(3), true);
    assert.equal(bucket.tryTake(), false);
    assert.equal(bucket.take(), 100, 'take() still queues behind');
  });

  it('empty() drops what was saved up but keeps a debt', async () => {
    const clock = new FakeClock();
    const bucket = new TokenBucket(10, 5, clock);
    bucket.empty();
    assert.equal(bucket.msUntil(1), 100);
    bucket.take(2);
    bucket.empty();
    assert.equal(bucket.msUntil(1), 300, 'the debt of 2 is still owed');
  });
});
