// P9 side by side with the incumbent (docs/design.md §8, §23 "Measuring OKG's chain beside okg-sq"): one
// GameServerSet whose exec probe reads a file the bench flips inside each container, driven first by
// OKG's own chain (PodProbeMarker → NodePodProbe → kruise-daemon → pod condition → GameServer; okg-sq not
// installed), then, on the same bed and pods, by okg-sq (kruise-daemon's PodProbeMarkerGate turned off as
// docs/operations.md says, then `helm install`). Each system from a settled start: steady state (CPU, RSS,
// API requests), single flips (writes and Events per flip, flip → opsState latency), a wave of N flips; then
// okg-sq's wave once more with kruise-game-manager's write budget (vs-okg-equal-qps.ts).
// Requests are counted by the apiserver itself, per user, from its audit log (`--audit-all`).
//   node dist/test/testbed/cli.js run --cluster --okg --audit-all -- node dist/bench/vs-okg.js [--gameservers 20]
//     [--single-flips K: only the first K GameServers get single flips] [--period-seconds P] [--spacing-ms S]
import { parseArgs } from 'node:util';
import { AppsV1Api } from '@kubernetes/client-node';
import { installChart, RELEASE_NAME, RELEASE_NAMESPACE } from '../test/testbed/cluster-bed.js';
import { waitFor } from '../test/testbed/wait-for.js';
import { OkgBed, USERS } from '../test/okg-tier/okg-kit.js';
import { ADMIN, AuditTail, component, countBy, isEvent, systemWrites } from './audit-tail.js';
import { kruiseGameWriteLimit, setDeciderWriteLimit } from './vs-okg-equal-qps.js';
import { inParallel, pace, percentile, progress, report, round, type Row } from './bench-kit.js';
import { CLK_TCK, componentPids, sampleProcs, type Component, type Footprint } from './pod-footprint.js';
import { ACTION, FLAG, Flipper, opsFor, OpsWatch, SETTLE_TIMEOUT_MS, waitShown, type Flip } from './vs-okg-flips.js';

const { values } = parseArgs({
  options: {
    gameservers: { type: 'string', default: '20' },
    'steady-seconds': { type: 'string', default: '45' },
    'spacing-ms': { type: 'string', default: '1000' },
    'period-seconds': { type: 'string', default: '1' },
    /** How many GameServers get single flips (each up, then down); all N by default. */
    'single-flips': { type: 'string' },
  },
});
const N = Number(values.gameservers);
const STEADY_MS = Number(values['steady-seconds']) * 1000;
const SPACING_MS = Number(values['spacing-ms']);
const PERIOD_SECONDS = Number(values['period-seconds']);
const SINGLE = Math.min(N, Number(values['single-flips'] ?? N));
const QUALITY = 'flag';
/** Writes stopped: nothing written to the set's objects for this long. */
const QUIET_MS = 5_000;
const QUIET_MAX_MS = 30_000;
const DECIDER_USER = `system:serviceaccount:${RELEASE_NAMESPACE}:${RELEASE_NAME}-decider`;

/**
 * Waits until nothing but the admin wrote to the namespace or a NodePodProbe for QUIET_MS, at most
 * QUIET_MAX_MS (a periodic writer never stops: the steady state's rate is subtracted); returns when the
 * last write was.
 */
async function quiet(audit: AuditTail, namespace: string, since: number): Promise<number> {
  const deadline = Date.now() + QUIET_MAX_MS;
  for (;;) {
    const w = systemWrites(audit.between(since, Date.now() + 1)).filter((r) => r.namespace === namespace || r.resource.startsWith('nodepodprobes'));
    const last = Math.max(since, ...w.map((r) => r.t));
    if (Date.now() - last > QUIET_MS) return last;
    if (Date.now() > deadline) {
      progress(`writes to ${namespace}'s objects did not stop within ${QUIET_MAX_MS / 1000} s; going on`);
      return Date.now();
    }
    await pace(500);
  }
}

interface Phase {
  system: string;
  steady: { seconds: number; requestsPerMinute: Record<string, number>; requestsPerMinuteByKind: Record<string, number>; writesPerMinute: number; footprint: Record<string, Footprint> };
  single: { flips: number; windowSeconds: number; writesPerFlip: number; eventsPerFlip: number; ownWritesPerFlip: number; ownEventsPerFlip: number; backgroundWrites: number; byVerbResource: Record<string, number>; byUser: Record<string, number>; p50Ms: number; p99Ms: number; maxMs: number };
  wave: { upSeconds: number; downSeconds: number; writes: number; events: number };
}

async function measure(system: string, own: (user: string) => boolean, bed: OkgBed, audit: AuditTail, namespace: string, names: string[], watch: OpsWatch, flipper: Flipper): Promise<Phase> {
  // Steady state: nothing changes.
  progress(`${system}: steady state for ${STEADY_MS / 1000} s`);
  const procs = await componentPids(bed);
  const before = new Map([...procs].map(([c, p]) => [c, sampleProcs(p.pids)]));
  const s0 = Date.now();
  await pace(STEADY_MS);
  const s1 = Date.now();
  const footprint: Record<string, Footprint> = {};
  for (const [c, p] of procs) {
    const after = sampleProcs(p.pids);
    footprint[c] = { pods: p.pods, processes: after.pids, comms: after.comms, cpuCores: round((after.ticks - before.get(c)!.ticks) / CLK_TCK / ((s1 - s0) / 1000), 4), rssMiB: round(after.rssKiB / 1024, 1) };
  }
  const steadyReqs = audit.between(s0, s1).filter((r) => r.user !== ADMIN);
  const minutes = (s1 - s0) / 60_000;
  const perMinute = (counts: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, round(v / minutes, 1)]));
  const requestsPerMinute = perMinute(countBy(steadyReqs, (r) => component(r.user)));
  const requestsPerMinuteByKind = perMinute(countBy(steadyReqs, (r) => `${component(r.user)} ${r.verb} ${r.resource}`));
  const steadyWriteRate = systemWrites(steadyReqs).length / (s1 - s0);

  // Single flips: each GameServer up, one at a time SPACING_MS apart, then each down.
  progress(`${system}: ${2 * SINGLE} single flips, ${SPACING_MS} ms apart`);
  const f0 = Date.now();
  const flips: Flip[] = [];
  const latencies: number[] = [];
  for (const up of [true, false]) {
    const pass: Flip[] = [];
    for (const name of names.slice(0, SINGLE)) {
      const next = Date.now() + SPACING_MS;
      pass.push(await flipper.flip(name, up));
      await pace(next - Date.now());
    }
    latencies.push(...(await waitShown(watch, pass)));
    flips.push(...pass);
  }
  const f1 = await quiet(audit, namespace, f0);
  const windowMs = f1 + 1 - f0;
  const single = systemWrites(audit.between(f0, f1 + 1));
  const background = steadyWriteRate * windowMs;
  const objects = single.filter((r) => !isEvent(r));

  const wave = await waveOf(system, audit, namespace, names, watch, flipper);
  return {
    system,
    steady: { seconds: round((s1 - s0) / 1000), requestsPerMinute, requestsPerMinuteByKind, writesPerMinute: round(steadyWriteRate * 60_000, 1), footprint },
    single: {
      flips: flips.length, windowSeconds: round(windowMs / 1000), backgroundWrites: round(background, 1),
      writesPerFlip: round(Math.max(0, objects.length - background) / flips.length, 2),
      eventsPerFlip: round(single.filter(isEvent).length / flips.length, 2),
      ownWritesPerFlip: round(objects.filter((r) => own(r.user)).length / flips.length, 2),
      ownEventsPerFlip: round(single.filter((r) => isEvent(r) && own(r.user)).length / flips.length, 2),
      byVerbResource: countBy(single, (r) => `${r.verb} ${r.resource}`),
      byUser: countBy(single, (r) => `${component(r.user)} ${r.verb} ${r.resource}`),
      p50Ms: Math.round(percentile(latencies, 50)), p99Ms: Math.round(percentile(latencies, 99)), maxMs: Math.round(Math.max(...latencies)),
    },
    wave,
  };
}

/** The wave: all N flip at once, up, then down; seconds from the first flip until every GameServer shows it. */
async function waveOf(system: string, audit: AuditTail, namespace: string, names: string[], watch: OpsWatch, flipper: Flipper): Promise<Phase['wave']> {
  progress(`${system}: wave of ${names.length} flips up, then down`);
  const waveSeconds: number[] = [];
  const w0 = Date.now();
  for (const up of [true, false]) {
    const pass: Flip[] = [];
    await inParallel(names, 10, async (name) => {
      pass.push(await flipper.flip(name, up));
    });
    await waitShown(watch, pass);
    const start = Math.min(...pass.map((f) => f.t));
    waveSeconds.push(round((Math.max(...pass.map((f) => watch.shown(f.name, opsFor(up), f.t)!)) - start) / 1000, 2));
  }
  const w1 = await quiet(audit, namespace, w0);
  const writes = systemWrites(audit.between(w0, w1 + 1));
  return { upSeconds: waveSeconds[0]!, downSeconds: waveSeconds[1]!, writes: writes.filter((r) => !isEvent(r)).length, events: writes.filter(isEvent).length };
}

/**
 * Settled start under okg-sq: a first flip up and down written by the decider, then quiet. After the
 * deciders restart with a low budget, the new leader's catch-up writes for all N GameServers go first (at
 * N = 100 and 5 QPS the warm-up flip did not show within SETTLE_TIMEOUT_MS): hence `timeoutMs`.
 */
async function settledUnderOkgSq(audit: AuditTail, namespace: string, name: string, watch: OpsWatch, flipper: Flipper, timeoutMs = SETTLE_TIMEOUT_MS): Promise<void> {
  const warm = Date.now();
  await waitShown(watch, [await flipper.flip(name, true)], timeoutMs);
  await waitShown(watch, [await flipper.flip(name, false)], timeoutMs);
  const warmWriters = new Set(systemWrites(audit.between(warm, Date.now() + 1)).filter((r) => r.resource === 'gameservers').map((r) => r.user));
  if (!warmWriters.has(DECIDER_USER)) throw new Error(`okg-sq did not take over: GameServers written by ${[...warmWriters].join(', ')}`);
  await quiet(audit, namespace, warm);
}

/** The probe every system runs: state true (exit 0) while the file holds 1. */
function flagQuality(): Record<string, unknown> {
  return {
    name: QUALITY, containerName: 'minecraft', permanent: false,
    exec: { command: ['/bin/sh', '-c', `read v < ${FLAG} && [ "$v" = 1 ] && echo up`] },
    initialDelaySeconds: 1, periodSeconds: PERIOD_SECONDS, timeoutSeconds: 2, successThreshold: 1, failureThreshold: 1,
    serviceQualityAction: [{ state: true, opsState: ACTION }, { state: false, opsState: 'None' }],
  };
}

/** kruise-daemon's prober off, as docs/operations.md tells operators: PodProbeMarkerGate=false on the DaemonSet only. */
async function turnOffKruiseDaemonProbing(bed: OkgBed): Promise<void> {
  const apps = bed.kc.makeApiClient(AppsV1Api);
  const ds = await apps.readNamespacedDaemonSet({ namespace: 'kruise-system', name: 'kruise-daemon' });
  const c = ds.spec!.template.spec!.containers.find((x) => x.name === 'daemon')!;
  c.args = [...(c.args ?? []).filter((a) => !a.startsWith('--feature-gates=')), '--feature-gates=PodProbeMarkerGate=false'];
  await apps.replaceNamespacedDaemonSet({ namespace: 'kruise-system', name: 'kruise-daemon', body: ds });
  await waitFor(async () => {
    const d = await apps.readNamespacedDaemonSet({ namespace: 'kruise-system', name: 'kruise-daemon' });
    const s = d.status!;
    return (s.observedGeneration ?? 0) >= d.metadata!.generation! && s.updatedNumberScheduled === s.desiredNumberScheduled && s.numberReady === s.desiredNumberScheduled && (s.numberUnavailable ?? 0) === 0;
  }, { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 1000, what: 'kruise-daemon rolled out with PodProbeMarkerGate=false' });
}

function ratio(a: number, b: number): number {
  return b === 0 ? (a === 0 ? 0 : Infinity) : round(a / b, 3);
}

async function main(): Promise<void> {
  const bed = new OkgBed('probing-on');
  const started = Date.now();
  const audit = new AuditTail(bed.auditLog);
  const names = Array.from({ length: N }, (_, i) => `minecraft-${i}`);
  let watch: OpsWatch | undefined;
  try {
    progress(`OKG: GameServerSet of ${N} with an exec probe on ${FLAG} (period ${PERIOD_SECONDS} s)`);
    // Right after the bed starts, kruise-game's webhook may not be reachable through its Service yet.
    let namespace = '';
    await waitFor(async () => {
      try {
        namespace = await bed.applyMinecraft('vs-okg', (gss) => {
          gss.spec.replicas = N;
          gss.spec.serviceQualities = [flagQuality()];
        });
        return true;
      } catch (err) {
        if (!/failed calling webhook/.test((err as Error).message)) throw err;
        return false;
      }
    }, { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 3000, what: 'the GameServerSet applied (kruise-game\'s webhook reachable)' });
    // The kit waits POD_TIMEOUT_MS for the pods: at large N on a loaded machine, once per 25 GameServers.
    for (let tries = 1; ; tries++) {
      try {
        await bed.waitForReplicas(namespace, N);
        break;
      } catch (err) {
        if (tries >= Math.ceil(N / 25)) throw err;
        progress(`${N} pods not running yet; waiting on`);
      }
    }
    watch = new OpsWatch(bed, namespace);
    await watch.start();
    const flipper = new Flipper(bed, namespace);
    await flipper.resolve(names);
    // Settled start: every GameServer has its first outcome (state false) and nothing writes.
    await waitFor(async () => (await bed.gameServers(namespace)).every((gs) => gs.status?.serviceQualitiesConditions?.[0]?.status === 'False'),
      { timeoutMs: 300_000, intervalMs: 1000, what: `every GameServer's first outcome through OKG's chain` });
    await quiet(audit, namespace, Date.now());
    const okg = await measure('OKG', (u) => /^system:serviceaccount:kruise-(game-)?system:/.test(u), bed, audit, namespace, names, watch, flipper);
    progress(`OKG measured: ${JSON.stringify(okg)}`);
    const okgWriters = new Set(Object.keys(okg.single.byUser).filter((k) => k.includes(' gameservers')).map((k) => k.split(' ')[0]));
    if (!okgWriters.has(component(USERS.kruiseGame))) throw new Error(`OKG's chain did not write the GameServers: ${[...okgWriters].join(', ')}`);

    progress('okg-sq: kruise-daemon probing off, helm install okg-sq');
    await turnOffKruiseDaemonProbing(bed);
    await installChart({ workDir: bed.env.workDir, kubeconfig: bed.env.kubeconfig, helmBin: bed.env.helmBin, socket: bed.env.containerdSocket, log: progress });
    await settledUnderOkgSq(audit, namespace, names[0]!, watch, flipper);
    const sq = await measure('okg-sq', (u) => u.startsWith(`system:serviceaccount:${RELEASE_NAMESPACE}:`), bed, audit, namespace, names, watch, flipper);

    progress(`okg-sq measured: ${JSON.stringify(sq)}`);
    // The wave at equal QPS: the deciders get kruise-game-manager's write budget (OKG's wave above ran at it).
    const equal = await kruiseGameWriteLimit(bed);
    progress(`okg-sq: deciders set to ${equal.qps} QPS, burst ${equal.burst} (${equal.source})`);
    await setDeciderWriteLimit(bed, equal);
    await settledUnderOkgSq(audit, namespace, names[0]!, watch, flipper, SETTLE_TIMEOUT_MS + Math.ceil((6 * N) / equal.qps) * 1000);
    const sqEqual = await waveOf(`okg-sq at ${equal.qps} QPS`, audit, namespace, names, watch, flipper);

    const fp = (p: Phase, c: Component): Footprint | undefined => p.steady.footprint[c];
    const sum = (...f: (Footprint | undefined)[]): Footprint => ({ pods: f.reduce((a, x) => a + (x?.pods ?? 0), 0), processes: 0, cpuCores: round(f.reduce((a, x) => a + (x?.cpuCores ?? 0), 0), 4), rssMiB: round(f.reduce((a, x) => a + (x?.rssMiB ?? 0), 0), 1) });
    const daemon = fp(okg, 'kruise-daemon');
    const agent = fp(sq, 'okg-sq agent');
    const managers = sum(fp(okg, 'kruise-manager'), fp(okg, 'kruise-game-manager'));
    const decider = sum(fp(sq, 'okg-sq decider'));
    const rpm = (p: Phase, prefixes: string[]): number => round(Object.entries(p.steady.requestsPerMinute).filter(([k]) => prefixes.some((x) => k.startsWith(x))).reduce((a, [, v]) => a + v, 0), 1);
    const okgRpm = rpm(okg, ['kruise-system/', 'kruise-game-system/']);
    const sqRpm = rpm(sq, [`${RELEASE_NAMESPACE}/`]);
    const line = (goal: string, o: number, s: number, unit: string, target: number | undefined, better = 'lower'): Row => {
      const r = ratio(s, o);
      return { goal, measured: `OKG ${o}${unit} | okg-sq ${s}${unit} | okg-sq÷OKG ${r}`, target: target === undefined ? '–' : `≤ ${target}`, met: target === undefined ? 'n/a' : better === 'lower' ? r <= target : r >= target };
    };
    const rows: Row[] = [
      line('writes per action-causing flip, all writers (objects, not Events)', okg.single.writesPerFlip, sq.single.writesPerFlip, '', 0.6),
      line('Events per action-causing flip', okg.single.eventsPerFlip, sq.single.eventsPerFlip, '', 0.5),
      line('writes per flip by the system\'s own components only', okg.single.ownWritesPerFlip, sq.single.ownWritesPerFlip, '', 0.6),
      line('Events per flip by the system\'s own components only', okg.single.ownEventsPerFlip, sq.single.ownEventsPerFlip, '', 0.5),
      line('flip → opsState p50', okg.single.p50Ms, sq.single.p50Ms, ' ms', undefined),
      line('flip → opsState p99', okg.single.p99Ms, sq.single.p99Ms, ' ms', 0.2),
      line(`wave of ${N} (up), each at its default QPS`, okg.wave.upSeconds, sq.wave.upSeconds, ' s', 0.35),
      line(`wave of ${N} (down), each at its default QPS`, okg.wave.downSeconds, sq.wave.downSeconds, ' s', 0.35),
      line(`wave of ${N} (up) at equal QPS ${equal.qps} (burst ${equal.burst})`, okg.wave.upSeconds, sqEqual.upSeconds, ' s', 0.35),
      line(`wave of ${N} (down) at equal QPS ${equal.qps} (burst ${equal.burst})`, okg.wave.downSeconds, sqEqual.downSeconds, ' s', 0.35),
      line('steady API requests/min (the system\'s own components)', okgRpm, sqRpm, '', 0.1),
      line('steady RSS: agent vs kruise-daemon', daemon?.rssMiB ?? NaN, agent?.rssMiB ?? NaN, ' MiB', 1.0),
      line('steady CPU: agent vs kruise-daemon', daemon?.cpuCores ?? NaN, agent?.cpuCores ?? NaN, ' cores', undefined),
      line('steady RSS: decider(s) vs kruise-manager + kruise-game-manager', managers.rssMiB, decider.rssMiB, ' MiB', undefined),
      line('steady CPU: decider(s) vs kruise-manager + kruise-game-manager', managers.cpuCores, decider.cpuCores, ' cores', undefined),
    ];
    report('vs-okg', { gameservers: N, singleFlipGameServers: SINGLE, periodSeconds: PERIOD_SECONDS, spacingMs: SPACING_MS, runSeconds: round((Date.now() - started) / 1000), okgGameServerWriters: [...okgWriters], okg, okgSq: sq, equalQps: { ...equal, okgSqWave: sqEqual } }, rows);
  } finally {
    watch?.stop();
    bed.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
