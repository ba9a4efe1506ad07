// Outcomes and counters on the wire: what the agent encodes the decider decodes unchanged; from an
// agent they are untrusted, so each field is checked before use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Outcome } from '../../../common/outcome.js';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../../../common/probe-duration-buckets.js';
import type { QualityCounters } from '../../../common/probe/types.js';
import { countersFromWire, countersToWire, outcomeFromWire, outcomeToWire } from '../../../common/wire/outcomes.js';
import { AgentMessage, type QualityCounters as WireCounters } from '../../../proto/gen/okgsq/v1/agent.js';

/** The agent's batch through the bytes of an AgentMessage and the decider's decoders. */
function roundTrip(outcomes: Outcome[], counters: QualityCounters[]): { outcomes: (Outcome | undefined)[]; counters: (QualityCounters | undefined)[] } {
  const bytes = AgentMessage.encode({ body: { $case: 'outcomes', value: { outcomes: outcomes.map(outcomeToWire), counters: counters.map(countersToWire), resync: false, planGeneration: 3 } } }).finish();
  const body = AgentMessage.decode(bytes).body;
  assert.equal(body?.$case, 'outcomes');
  return { outcomes: body.value.outcomes.map(outcomeFromWire), counters: body.value.counters.map(countersFromWire) };
}

describe('outcomes and counters, agent → decider', () => {
  it('an outcome of each kind arrives as it was sent', () => {
    const sent: Outcome[] = [
      { podUid: 'u1', quality: 'healthy', state: true, result: 'None', exitCode: 0, errorKind: '', durationMs: 12, observedAtMs: 1_764_100_000_000 },
      { podUid: 'u1', quality: 'idle', state: false, result: '3 players', exitCode: 1, errorKind: '', durationMs: 0, observedAtMs: 1_764_100_000_001 },
      { podUid: 'u2', quality: 'healthy', state: false, result: '', exitCode: -1, errorKind: 'timeout', durationMs: 1_000, observedAtMs: 1_764_100_000_002 },
    ];
    assert.deepEqual(roundTrip(sent, []).outcomes, sent);
  });

  it('a duration is sent in whole ms within its uint32 field', () => {
    const o: Outcome = { podUid: 'u', quality: 'q', state: true, result: '', exitCode: 0, errorKind: '', durationMs: 12.6, observedAtMs: 5 };
    assert.equal(roundTrip([o], []).outcomes[0]?.durationMs, 13);
    assert.equal(roundTrip([{ ...o, durationMs: 1e12 }], []).outcomes[0]?.durationMs, 0xffffffff);
  });

  it('counters arrive as they were sent', () => {
    const buckets = new Array<number>(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0);
    buckets[1] = 3;
    buckets[4] = 1;
    const sent: QualityCounters[] = [{
      namespace: 'games', gameServerSet: 'mc', quality: 'healthy',
      runs: [{ outcome: 'true', errorKind: '', count: 3 }, { outcome: 'unknown', errorKind: 'timeout', count: 1 }],
      durationBucketCounts: buckets, durationSumSeconds: 1.25,
    }];
    assert.deepEqual(roundTrip([], sent).counters, sent);
  });
});

function counters(runs: number, bucketed = runs, sumSeconds = 0.01 * runs): WireCounters {
  const buckets = new Array(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0);
  buckets[2] = bucketed;
  return { namespace: 'ns', gameServerSet: 'mc', quality: 'q', runs: [{ outcome: 'true', errorKind: '', count: runs }], durationBucketCounts: buckets, durationSumSeconds: sumSeconds };
}

describe('countersFromWire', () => {
  it('takes counters that can be true, even a big node cut off for a day', () => {
    assert.equal(countersFromWire(counters(5))?.runs[0]?.count, 5);
    assert.equal(countersFromWire(counters(86_400_000))?.runs[0]?.count, 86_400_000);
    assert.ok(countersFromWire(counters(0, 0, 0)));
  });

  it('refuses counters whose numbers cannot be true, so an agent cannot set the metrics to any value', () => {
    assert.equal(countersFromWire(counters(Number.MAX_SAFE_INTEGER)), undefined, 'more runs than a report can hold');
    assert.equal(countersFromWire(counters(5, 6)), undefined, 'buckets that do not add up to the runs');
    assert.equal(countersFromWire(counters(5, 5, 1e12)), undefined, 'runs longer than a day each');
    assert.equal(countersFromWire(counters(5, 5, Number.NaN)), undefined);
    assert.equal(countersFromWire({ ...counters(5), runs: [{ outcome: 'maybe', errorKind: '', count: 5 }] }), undefined);
  });
});
