// P9 side by side with the incumbent (docs/design.md §8, §23 "Measuring OKG's chain beside okg-sq"): one
// GameServerSet whose exec probe reads a file the bench flips inside each container, driven first by
// OKG's own chain (PodProbeMarker → NodePodProbe → kruise-daemon → pod condition → GameServer; okg-sq not
// installed), then, on the same bed and pods, by okg-sq (kruise-daemon's PodProbeMarkerGate turned off as
// docs/operations.md says, then `helm install`). Each system from a settled start: steady state (CPU, RSS,
// API requests), single flips (writes and Events per flip, flip → opsState latency), a wave of N flips.
// Requests are counted by the apiserver itself, per user, from its audit log (`--audit-all`).
//   node dist/test/testbed/cli.js run --cluster --okg --audit-all -- node dist/bench/vs-okg.js [--gameservers 20]
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { AppsV1Api, Watch, type V1Pod } from '@kubernetes/client-node';
import { installChart, RELEASE_NAME, RELEASE_NAMESPACE } from '../test/testbed/cluster-bed.js';
import { waitFor } from '../test/testbed/wait-for.js';
import { OkgBed, USERS } from '../test/okg-tier/okg-kit.js';
import { inParallel, pace, percentile, progress, report, round, type Row } from './bench-kit.js';

const { values } = parseArgs({
  options: {
    gameservers: { type: 'string', default: '20' },
    'steady-seconds': { type: 'string', default: '45' },
    'spacing-ms': { type: 'string', default: '1000' },
    'period-seconds': { type: 'string', default: '1' },
  },
});
const N = Number(values.gameservers);
const STEADY_MS = Number(values['steady-seconds']) * 1000;
const SPACING_MS = Number(values['spacing-ms']);
const PERIOD_SECONDS = Number(values['period-seconds']);
const FLAG = '/tmp/okgsq-bench-flag';
const QUALITY = 'flag';
const ACTION = 'Maintaining';
/** Writes stopped: nothing written to the set's objects for this long. */
const QUIET_MS = 5_000;
const SETTLE_TIMEOUT_MS = 120_000;
const QUIET_MAX_MS = 30_000;
const ADMIN = 'okgsq-testbed-admin';
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const DECIDER_USER = `system:serviceaccount:${RELEASE_NAMESPACE}:${RELEASE_NAME}-decider`;

// ---- the apiserver's audit log, read incrementally, one entry per request (auditID) ----

interface Req {
  id: string;
  t: number;
  user: string;
  verb: string;
  resource: string;
  namespace: string;
  name: string;
  code: number;
}

class AuditTail {
  private offset = 0;
  private rest = '';
  private readonly seen = new Set<string>();
  readonly reqs: Req[] = [];
  constructor(private readonly file: string) {}

  /** Reads what the apiserver appended since the last call. */
  poll(): Req[] {
    const fd = openSync(this.file, 'r');
    try {
      const size = fstatSync(fd).size;
      if (size > this.offset) {
        const buf = Buffer.alloc(size - this.offset);
        readSync(fd, buf, 0, buf.length, this.offset);
        this.offset = size;
        const lines = (this.rest + buf.toString('utf8')).split('\n');
        this.rest = lines.pop()!;
        for (const line of lines) this.add(line);
      }
    } finally {
      closeSync(fd);
    }
    return this.reqs;
  }

  private add(line: string): void {
    if (!line) return;
    const e = JSON.parse(line) as { auditID: string; stage: string; verb: string; user: { username: string }; objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string }; responseStatus?: { code?: number }; requestReceivedTimestamp: string };
    // Long-running requests (watches) log ResponseStarted then ResponseComplete: one request.
    if (this.seen.has(e.auditID)) return;
    this.seen.add(e.auditID);
    const ref = e.objectRef ?? {};
    this.reqs.push({
      id: e.auditID, t: Date.parse(e.requestReceivedTimestamp), user: e.user.username, verb: e.verb,
      resource: `${ref.resource ?? '(none)'}${ref.subresource ? `/${ref.subresource}` : ''}`,
      namespace: ref.namespace ?? '', name: ref.name ?? '', code: e.responseStatus?.code ?? 0,
    });
  }

  between(from: number, to: number): Req[] {
    return this.poll().filter((r) => r.t >= from && r.t < to);
  }
}

/** Successful writes by everything but the bed's admin (the bench itself, the kubelet, scheduler, controller-manager). */
function systemWrites(reqs: Req[]): Req[] {
  return reqs.filter((r) => WRITE_VERBS.has(r.verb) && r.user !== ADMIN && r.code < 300 && r.resource !== 'leases');
}

const isEvent = (r: Req): boolean => r.resource === 'events';
const component = (user: string): string => {
  const m = /^system:serviceaccount:([^:]+):(.+)$/.exec(user);
  return m ? `${m[1]}/${m[2]}` : user;
};

function countBy(reqs: Req[], key: (r: Req) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of reqs) out[key(r)] = (out[key(r)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

// ---- CPU and RSS of a pod's processes, from /proc (the pods' cgroups name their uid) ----

interface ProcSample {
  ticks: number;
  rssKiB: number;
  pids: number;
  comms: string[];
}

function podProcesses(uid: string): number[] {
  const forms = [uid, uid.replaceAll('-', '_')];
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cgroup = readFileSync(`/proc/${entry}/cgroup`, 'utf8');
      if (!forms.some((f) => cgroup.includes(f))) continue;
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'pause') continue;
      out.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function sampleProcs(pids: number[]): ProcSample {
  let ticks = 0;
  let rssKiB = 0;
  let alive = 0;
  const comms: string[] = [];
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
      rssKiB += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
      alive++;
      comms.push(stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')));
    } catch {
      // gone meanwhile
    }
  }
  return { ticks, rssKiB, pids: alive, comms };
}

const CLK_TCK = 100;

/** The components whose footprint is compared: pods by namespace and name prefix. */
const COMPONENTS = {
  'kruise-daemon': ['kruise-system', 'kruise-daemon-'],
  'kruise-manager': ['kruise-system', 'kruise-controller-manager-'],
  'kruise-game-manager': ['kruise-game-system', 'kruise-game-controller-manager-'],
  'okg-sq agent': [RELEASE_NAMESPACE, `${RELEASE_NAME}-agent-`],
  'okg-sq decider': [RELEASE_NAMESPACE, `${RELEASE_NAME}-decider-`],
} as const;
type Component = keyof typeof COMPONENTS;

interface Footprint {
  pods: number;
  processes: number;
  comms?: string[];
  cpuCores: number;
  rssMiB: number;
}

async function componentPids(bed: OkgBed): Promise<Map<Component, { pods: number; pids: number[] }>> {
  const out = new Map<Component, { pods: number; pids: number[] }>();
  for (const [name, [namespace, prefix]] of Object.entries(COMPONENTS) as [Component, readonly [string, string]][]) {
    const pods = (await bed.core.listNamespacedPod({ namespace }).catch(() => ({ items: [] as V1Pod[] }))).items
      .filter((p) => p.metadata!.name!.startsWith(prefix) && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    if (pods.length === 0) continue;
    out.set(name, { pods: pods.length, pids: pods.flatMap((p) => podProcesses(p.metadata!.uid!)) });
  }
  return out;
}

// ---- the set, the flips, the GameServers' opsState as seen by a watch ----

interface Seen {
  opsState: string;
  t: number;
}

class OpsWatch {
  readonly history = new Map<string, Seen[]>();
  private abort: (() => void) | undefined;
  private stopped = false;
  constructor(private readonly bed: OkgBed, private readonly namespace: string) {}

  async start(): Promise<void> {
    const watch = new Watch(this.bed.kc);
    const req = await watch.watch(`/apis/game.kruise.io/v1alpha1/namespaces/${this.namespace}/gameservers`, {}, (type: string, gs: any) => {
      if (type !== 'ADDED' && type !== 'MODIFIED') return;
      const seq = this.history.get(gs.metadata.name) ?? [];
      const opsState = gs.spec?.opsState ?? 'None';
      if (seq.at(-1)?.opsState !== opsState) seq.push({ opsState, t: Date.now() });
      this.history.set(gs.metadata.name, seq);
    }, () => {
      if (!this.stopped) void this.start();
    });
    this.abort = () => req.abort();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.();
  }

  /** When the GameServer first showed opsState at or after `since`. */
  shown(name: string, opsState: string, since: number): number | undefined {
    return this.history.get(name)?.find((s) => s.opsState === opsState && s.t >= since)?.t;
  }
}

interface Flip {
  name: string;
  up: boolean;
  /** When the file changed, by the container's clock (the host's). */
  t: number;
}

class Flipper {
  private containers = new Map<string, string>();
  constructor(private readonly bed: OkgBed, private readonly namespace: string) {}

  async resolve(names: string[]): Promise<void> {
    const { containers } = await this.bed.cri.listContainers({ filter: { id: '', state: undefined, podSandboxId: '', labelSelector: { 'io.kubernetes.pod.namespace': this.namespace, 'io.kubernetes.container.name': 'minecraft' } } });
    this.containers = new Map(containers.filter((c) => c.state === 1).map((c) => [c.labels['io.kubernetes.pod.name']!, c.id]));
    for (const n of names) if (!this.containers.has(n)) throw new Error(`no running minecraft container for ${this.namespace}/${n}`);
  }

  async flip(name: string, up: boolean): Promise<Flip> {
    const res = await this.bed.cri.execSync({ containerId: this.containers.get(name)!, cmd: ['/bin/sh', '-c', `echo ${up ? 1 : 0} > ${FLAG} && date +%s%N`], timeout: 30 });
    if (res.exitCode !== 0) throw new Error(`flip of ${name}: exit ${res.exitCode}: ${res.stderr.toString()}`);
    return { name, up, t: Number(BigInt(res.stdout.toString().trim()) / 1_000_000n) };
  }
}

const opsFor = (up: boolean): string => (up ? ACTION : 'None');

async function waitShown(watch: OpsWatch, flips: Flip[]): Promise<number[]> {
  await waitFor(() => flips.every((f) => watch.shown(f.name, opsFor(f.up), f.t) !== undefined), { timeoutMs: SETTLE_TIMEOUT_MS, intervalMs: 100, what: `${flips.length} GameServers to show their flips` });
  return flips.map((f) => watch.shown(f.name, opsFor(f.up), f.t)! - f.t);
}

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
  progress(`${system}: ${2 * names.length} single flips, ${SPACING_MS} ms apart`);
  const f0 = Date.now();
  const flips: Flip[] = [];
  const latencies: number[] = [];
  for (const up of [true, false]) {
    const pass: Flip[] = [];
    for (const name of names) {
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

  // The wave: all at once, up, then down.
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
  const wave = systemWrites(audit.between(w0, w1 + 1));
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
    wave: { upSeconds: waveSeconds[0]!, downSeconds: waveSeconds[1]!, writes: wave.filter((r) => !isEvent(r)).length, events: wave.filter(isEvent).length },
  };
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
    await bed.waitForReplicas(namespace, N);
    watch = new OpsWatch(bed, namespace);
    await watch.start();
    const flipper = new Flipper(bed, namespace);
    await flipper.resolve(names);
    // Settled start: every GameServer has its first outcome (state false) and nothing writes.
    await waitFor(async () => (await bed.gameServers(namespace)).every((gs) => gs.status?.serviceQualitiesConditions?.[0]?.status === 'False'),
      { timeoutMs: 300_000, intervalMs: 1000, what: `every GameServer's first outcome through OKG's chain` });
    await quiet(audit, namespace, Date.now());
    const okg = await measure('OKG', (u) => /^system:serviceaccount:kruise-(game-)?system:/.test(u), bed, audit, namespace, names, watch, flipper);
    const okgWriters = new Set(Object.keys(okg.single.byUser).filter((k) => k.includes(' gameservers')).map((k) => k.split(' ')[0]));
    if (!okgWriters.has(component(USERS.kruiseGame))) throw new Error(`OKG's chain did not write the GameServers: ${[...okgWriters].join(', ')}`);

    progress('okg-sq: kruise-daemon probing off, helm install okg-sq');
    await turnOffKruiseDaemonProbing(bed);
    await installChart({ workDir: bed.env.workDir, kubeconfig: bed.env.kubeconfig, helmBin: bed.env.helmBin, socket: bed.env.containerdSocket, log: progress });
    // Settled start: a first flip through okg-sq, written by the decider, then quiet.
    const warm = Date.now();
    await waitShown(watch, [await flipper.flip(names[0]!, true)]);
    await waitShown(watch, [await flipper.flip(names[0]!, false)]);
    const warmWriters = new Set(systemWrites(audit.between(warm, Date.now() + 1)).filter((r) => r.resource === 'gameservers').map((r) => r.user));
    if (!warmWriters.has(DECIDER_USER)) throw new Error(`okg-sq did not take over: GameServers written by ${[...warmWriters].join(', ')}`);
    await quiet(audit, namespace, warm);
    const sq = await measure('okg-sq', (u) => u.startsWith(`system:serviceaccount:${RELEASE_NAMESPACE}:`), bed, audit, namespace, names, watch, flipper);

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
      line('steady API requests/min (the system\'s own components)', okgRpm, sqRpm, '', 0.1),
      line('steady RSS: agent vs kruise-daemon', daemon?.rssMiB ?? NaN, agent?.rssMiB ?? NaN, ' MiB', 1.0),
      line('steady CPU: agent vs kruise-daemon', daemon?.cpuCores ?? NaN, agent?.cpuCores ?? NaN, ' cores', undefined),
      line('steady RSS: decider(s) vs kruise-manager + kruise-game-manager', managers.rssMiB, decider.rssMiB, ' MiB', undefined),
      line('steady CPU: decider(s) vs kruise-manager + kruise-game-manager', managers.cpuCores, decider.cpuCores, ' cores', undefined),
    ];
    report('vs-okg', { gameservers: N, periodSeconds: PERIOD_SECONDS, spacingMs: SPACING_MS, runSeconds: round((Date.now() - started) / 1000), okgGameServerWriters: [...okgWriters], okg, okgSq: sq }, rows);
  } finally {
    watch?.stop();
    bed.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err.stack ?? err.message}\n`);
  process.exit(1);
});
