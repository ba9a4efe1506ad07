// The decider-flips benchmark's wave phase (P3): WAVE GameServers flip at once; how long the decider takes
// to drain the action writes against the floor the client budget sets, with Events on or suppressed.
import type { Decider } from '../decider/decider.js';
import type { KubeClient } from '../decider/kube/kube-client.js';
import { waitFor } from '../test/testbed/wait-for.js';
import { actionEventOccurrences, apfRejected, metricTotal } from './apiserver-stats.js';
import { apiserverWrites, apiserverWriteSeconds, deltaOf, eventWrites, objectWrites, percentile, progress, round, type Row } from './bench-kit.js';
import type { Sim } from './decider-flips-kit.js';

export interface WavePhase {
  readonly decider: Decider;
  /** Flip → patch latencies the latency probe records (decider-flips-kit.ts latencyProbe). */
  readonly latency: number[];
  readonly admin: KubeClient;
  readonly ns: string;
  readonly sim: Sim;
  readonly names: readonly string[];
  readonly wave: number;
  readonly waveEvents: readonly boolean[];
  readonly qps: number;
  readonly burst: number;
  readonly figures: Record<string, unknown>;
  readonly rows: Row[];
}

export async function wavePhase(c: WavePhase): Promise<void> {
  const { decider, admin, ns, sim, names, figures, rows } = c;
  const lat = { samples: c.latency };
  const WAVE = c.wave;
  const QPS = c.qps;
  const BURST = c.burst;
  for (const events of c.waveEvents) {
    if (!events) {
      // Bench-only: the pipeline's event sink is swapped for one that drops everything.
      (decider.pipeline as unknown as { opts: { events: unknown } }).opts.events = { record: () => undefined };
    }
    lat.samples.length = 0;
    const before = await apiserverWrites(admin);
    const rejectedBefore = await apfRejected(admin);
    const apiBefore = await apiserverWriteSeconds(admin);
    const occurrencesBefore = await actionEventOccurrences(admin, ns);
    const waveStart = Date.now();
    await sim.call({ cmd: 'flips', quality: 'healthy', names: names.slice(0, WAVE), rate: 0 });
    await waitFor(() => lat.samples.length >= WAVE, { timeoutMs: 3_600_000, intervalMs: 50, what: `wave of ${WAVE} patched` });
    const waveS = (Date.now() - waveStart) / 1000;
    await decider.batcher.drain();
    const d = deltaOf(before, await apiserverWrites(admin));
    const apiAfter = await apiserverWriteSeconds(admin);
    const actionWrites = objectWrites(d);
    // The floor the budget sets: the action writes beyond the burst, at QPS.
    const floorS = Math.max(0, actionWrites - BURST) / QPS;
    let eventsSettledS: number | undefined;
    let occurrences = 0;
    if (events) {
      // The Events come after the actions: until they count every applied action (or give up).
      occurrences = await waitFor(
        async () => {
          const n = (await actionEventOccurrences(admin, ns)).occurrences - occurrencesBefore.occurrences;
          return n >= WAVE ? n : false;
        },
        { timeoutMs: 120_000, intervalMs: 250, what: 'the wave\'s Events' },
      ).catch(async () => (await actionEventOccurrences(admin, ns)).occurrences - occurrencesBefore.occurrences);
      eventsSettledS = (Date.now() - waveStart) / 1000;
    }
    const after = await actionEventOccurrences(admin, ns);
    const dAll = deltaOf(before, await apiserverWrites(admin));
    const w = {
      flips: WAVE, events, drainedSeconds: round(waveS, 2), floorSeconds: round(floorS, 2), floorRatio: round(waveS / floorS, 3),
      flipsPerSecondPerQps: round(WAVE / waveS / QPS, 3),
      writesPerFlip: round(actionWrites / WAVE, 2), actionWrites,
      eventWrites: eventWrites(dAll), eventObjects: after.objects - occurrencesBefore.objects, eventOccurrencesCounted: occurrences,
      eventsSettledSeconds: eventsSettledS === undefined ? undefined : round(eventsSettledS, 2),
      apfRejected: (await apfRejected(admin)) - rejectedBefore,
      apiserverMeanWriteMs: round(((apiAfter.sum - apiBefore.sum) / Math.max(1, apiAfter.count - apiBefore.count)) * 1000),
      deciderWrites429: metricTotal(await decider.metrics.registry.getSingleMetricAsString('okgsq_kube_writes_total'), 'code="429"'),
      eventsDropped: metricTotal(await decider.metrics.registry.getSingleMetricAsString('okgsq_events_dropped_total'), ''),
      latencyMs: { p50: round(percentile(lat.samples, 50)), p99: round(percentile(lat.samples, 99)) },
      writes: dAll,
    };
    figures[events ? 'wave' : 'waveNoEvents'] = w;
    progress(`wave: ${JSON.stringify(w)}`);
    rows.push({
      goal: `P3 wave of ${WAVE} at ${QPS} QPS, burst ${BURST}${events ? ', Events on' : ' (Events suppressed)'}`,
      measured: `${w.drainedSeconds} s for ${actionWrites} action writes, floor ${w.floorSeconds} s: ratio ${w.floorRatio}${events ? `; then ${w.eventWrites} Event writes, ${w.eventObjects} Event objects counting ${occurrences} actions` : ''}`,
      target: 'ratio ≤ 1.05',
      met: w.floorRatio <= 1.05,
    });
  }

}
