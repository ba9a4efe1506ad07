// Outcomes and run counters on the wire (okgsq.v1), both directions in one place: the agent encodes
// them; the decider decodes them as untrusted input, checked field by field before they reach the
// pipeline, so one bad entry is rejected alone and never breaks the stream.
// test/unit/wire/outcomes.test.ts round-trips them through both halves.
import { ERROR_KINDS, type ErrorKind, type Outcome } from '../outcome.js';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../probe-duration-buckets.js';
import { normaliseResult } from '../probe-result.js';
import type { QualityCounters } from '../probe/types.js';
import type {
  Outcome as WireOutcome,
  QualityCounters as WireCounters,
} from '../../proto/gen/okgsq/v1/agent.js';

/** Kubernetes UIDs are 36 characters; anything much longer is not a pod UID. */
const MAX_POD_UID_LENGTH = 128;
/** OKG quality names end up in a condition type, whose name part is at most 63 characters. */
const MAX_QUALITY_LENGTH = 253;
const VALID_ERROR_KINDS: ReadonlySet<string> = new Set<string>(['', ...ERROR_KINDS]);
/** Runs one report may count for one quality: a big node's whole day of probing while cut off fits. */
const MAX_RUNS_PER_REPORT = 1_000_000_000;
/** No probe run lasts longer than this (timeouts are seconds to minutes). */
const MAX_RUN_SECONDS = 86_400;
const RUN_OUTCOMES: ReadonlySet<string> = new Set(['true', 'false', 'unknown']);
const BUCKET_COUNT = PROBE_DURATION_BUCKETS_SECONDS.length + 1;

/** An outcome as the agent sends it; the duration in whole ms within the field's uint32. */
export function outcomeToWire(o: Outcome): WireOutcome {
  return {
    podUid: o.podUid,
    quality: o.quality,
    state: o.state,
    result: o.result,
    exitCode: o.exitCode,
    errorKind: o.errorKind,
    durationMs: Math.min(0xffffffff, Math.max(0, Math.round(o.durationMs))),
    observedUnixMs: o.observedAtMs,
  };
}

export function countersToWire(c: QualityCounters): WireCounters {
  return {
    namespace: c.namespace,
    gameServerSet: c.gameServerSet,
    quality: c.quality,
    runs: c.runs.map((r) => ({ outcome: r.outcome, errorKind: r.errorKind, count: r.count })),
    durationBucketCounts: [...c.durationBucketCounts],
    durationSumSeconds: c.durationSumSeconds,
  };
}

/** The decoded outcome, or undefined when it is malformed. */
export function outcomeFromWire(wire: WireOutcome): Outcome | undefined {
  if (!wire.podUid || wire.podUid.length > MAX_POD_UID_LENGTH) return undefined;
  if (!wire.quality || wire.quality.length > MAX_QUALITY_LENGTH) return undefined;
  if (!VALID_ERROR_KINDS.has(wire.errorKind)) return undefined;
  if (!Number.isSafeInteger(wire.observedUnixMs) || wire.observedUnixMs <= 0) return undefined;
  return {
    podUid: wire.podUid,
    quality: wire.quality,
    state: wire.state,
    // The agent normalises already; doing it again is cheap and keeps a buggy agent from
    // writing separators or oversized messages into pod conditions.
    result: normaliseResult(wire.result),
    exitCode: wire.exitCode,
    errorKind: wire.errorKind as ErrorKind | '',
    durationMs: wire.durationMs,
    observedAtMs: wire.observedUnixMs,
  };
}

/**
 * The decoded counters, or undefined when their shape is wrong or their numbers cannot be true (every run
 * is in exactly one duration bucket, no run lasts a day, no report counts a billion runs): an agent must
 * not be able to push the decider's counters to any value it likes. Labels are checked by the caller.
 */
export function countersFromWire(wire: WireCounters): QualityCounters | undefined {
  if (!wire.namespace || !wire.gameServerSet || !wire.quality) return undefined;
  if (wire.durationBucketCounts.length !== BUCKET_COUNT) return undefined;
  let runs = 0;
  for (const run of wire.runs) {
    if (!RUN_OUTCOMES.has(run.outcome) || !VALID_ERROR_KINDS.has(run.errorKind)) return undefined;
    runs += run.count;
  }
  const bucketed = wire.durationBucketCounts.reduce((a, n) => a + n, 0);
  if (!Number.isSafeInteger(runs) || runs > MAX_RUNS_PER_REPORT || bucketed !== runs) return undefined;
  if (!Number.isFinite(wire.durationSumSeconds) || wire.durationSumSeconds < 0 || wire.durationSumSeconds > runs * MAX_RUN_SECONDS) return undefined;
  return {
    namespace: wire.namespace,
    gameServerSet: wire.gameServerSet,
    quality: wire.quality,
    runs: wire.runs.map((r) => ({
      outcome: r.outcome as 'true' | 'false' | 'unknown',
      errorKind: r.errorKind,
      count: r.count,
    })),
    durationBucketCounts: [...wire.durationBucketCounts],
    durationSumSeconds: wire.durationSumSeconds,
  };
}
