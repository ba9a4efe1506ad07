// Per-quality run counters (runs by outcome and error kind, duration histogram), taken and reset on each
// report so the decider's metrics cover every run without a message per run.
import { PROBE_DURATION_BUCKETS_SECONDS } from '../probe-duration-buckets.js';
import type { QualityCounters } from './types.js';

export type RunOutcome = 'true' | 'false' | 'unknown';

interface Entry {
  readonly namespace: string;
  readonly gameServerSet: string;
  readonly quality: string;
  readonly runs: Map<string, { outcome: RunOutcome; errorKind: string; count: number }>;
  readonly buckets: number[];
  sumSeconds: number;
}

/** Index of the (non-cumulative) bucket a duration falls in; the last index is +Inf. */
export function durationBucketIndex(seconds: number): number {
  const i = PROBE_DURATION_BUCKETS_SECONDS.findIndex((le) => seconds <= le);
  return i === -1 ? PROBE_DURATION_BUCKETS_SECONDS.length : i;
}

export class ProbeCounters {
  private readonly entries = new Map<string, Entry>();

  record(where: { namespace: string; gameServerSet: string; quality: string }, outcome: RunOutcome, errorKind: string, durationMs: number): void {
    const id = `${where.namespace}\u0000${where.gameServerSet}\u0000${where.quality}`;
    let entry = this.entries.get(id);
    if (!entry) {
      entry = {
        namespace: where.namespace,
        gameServerSet: where.gameServerSet,
        quality: where.quality,
        runs: new Map(),
        buckets: new Array<number>(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0),
        sumSeconds: 0,
      };
      this.entries.set(id, entry);
    }
    const runId = `${outcome}/${errorKind}`;
    const run = entry.runs.get(runId);
    if (run) run.count++;
    else entry.runs.set(runId, { outcome, errorKind, count: 1 });
    const seconds = durationMs / 1000;
    entry.buckets[durationBucketIndex(seconds)]!++;
    entry.sumSeconds += seconds;
  }

  /** Everything counted since the previous call; resets. */
  take(): QualityCounters[] {
    const out: QualityCounters[] = [];
    for (const e of this.entries.values()) {
      out.push({
        namespace: e.namespace,
        gameServerSet: e.gameServerSet,
        quality: e.quality,
        runs: [...e.runs.values()].map((r) => ({ ...r })),
        durationBucketCounts: [...e.buckets],
        durationSumSeconds: e.sumSeconds,
      });
    }
    this.entries.clear();
    return out;
  }
}
