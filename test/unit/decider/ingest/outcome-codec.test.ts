// Outcomes and counters from an agent are untrusted: each field is checked before use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../../../../common/probe-duration-buckets.js';
import { countersFromWire } from '../../../../decider/ingest/outcome-codec.js';
import type { QualityCounters as WireCounters } from '../../../../proto/gen/okgsq/v1/agent.js';

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
