// The pipeline with the real planner and evaluation core over fake caches: what an outcome writes,
// that an unchanged outcome or a restart writes nothing, staleness, foreign writers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Planner } from '../../../decider/planner/planner.js';
import { labelSelector } from '../../../decider/planner/label-selector.js';
import { Pipeline, type PipelineMetrics } from '../../../decider/pipeline/pipeline.js';
import { StaleTracker } from '../../../decider/pipeline/stale-tracker.js';
import { applyGameServerPatch } from '../../../rules/gameserver-patch.js';
import { objectKey } from '../../../decider/kube/object-key.js';
import { mergePodConditions } from '../../../rules/pod-conditions.js';
import type { CachedGameServer, GameServerSetView, NodeView } from '../../../decider/kube/cluster-cache.js';
import type { PodView } from '../../../rules/plan.js';
import type { PodCondition, ServiceQualityCondition } from '../../../rules/types.js';
import type { WriteJob } from '../../../decider/kube/write-step.js';
import type { Outcome } from '../../../common/outcome.js';
import { OKGSQ_CONDITION_REASON } from '../../../common/okg-defaults.js';
import { FakeClock } from '../probe/fake-clock.js';
import { FakeCache, FakeEvents, silentLogger } from './kit.js';

const T0 = Date.parse('2026-11-25T20:00:00Z');

const gss: GameServerSetView = {
  metadata: { name: 'mc', namespace: 'ns', uid: 'set-uid', generation: 1 },
  spec: {
    gameServerTemplate: { spec: { containers: [{ name: 'game' }] } },
    serviceQualities: [
      {
        name: 'gate',
        containerName: 'game',
        permanent: false,
        exec: { command: ['/probe.sh', 'gate'] },
        serviceQualityAction: [
          { state: false, opsState: 'Maintaining' },
          { state: true, opsState: 'None' },
        ],
      },
    ],
  },
};

function podOf(name: string, uid = `uid-${name}`, conditions: PodCondition[] = []): PodView {
  return {
    metadata: { name, namespace: 'ns', uid, resourceVersion: '7', labels: { 'game.kruise.io/owner-gss': 'mc' } },
    spec: { nodeName: 'node-a', containers: [{ name: 'game' }] },
    status: { phase: 'Running', podIP: '10.254.77.9', conditions, containerStatuses: [] },
  };
}

function gsOf(name: string, extra: Partial<CachedGameServer['metadata']> = {}): CachedGameServer {
  return { metadata: { name, namespace: 'ns', uid: `gs-${name}`, resourceVersion: '1', labels: { 'game.kruise.io/owner-gss': 'mc' }, ...extra }, spec: { opsState: 'None' }, status: {} };
}

class Metrics implements PipelineMetrics {
  actions: string[] = [];
  foreign: string[] = [];
  counters = 0;
  rejected = 0;
  probeCounters(): void {
    this.counters++;
  }
  outcomeRejected(_reason: string, count: number): void {
    this.rejected += count;
  }
  refusedValues: string[] = [];
  actionValueRefused(ns: string, set: string, q: string, reason: string): void {
    this.refusedValues.push(`${ns}/${set}/${q}/${reason}`);
  }
  actionApplied(ns: string, set: string, q: string): void {
    this.actions.push(`${ns}/${set}/${q}`);
  }
  foreignConditionWrite(ns: string, set: string, q: string): void {
    this.foreign.push(`${ns}/${set}/${q}`);
  }
}

function setup() {
  const clock = new FakeClock(T0);
  const sets = new FakeCache<GameServerSetView>();
  const pods = new FakeCache<PodView>();
  const nodes = new FakeCache<NodeView>();
  const gameServers = new FakeCache<CachedGameServer>();
  const events = new FakeEvents();
  const planner = new Planner({ gameServerSets: sets, pods, nodes, agentless: labelSelector('', 'X'), events, metrics: { invalidQualities() {}, qualitiesDeclared() {} }, logger: silentLogger });
  const enqueued: string[] = [];
  const metrics = new Metrics();
  const pipeline = new Pipeline({ plans: planner, gameServers, pods, queue: { enqueue: (k) => void enqueued.push(k) }, events, metrics, clock, logger: silentLogger });
  sets.set(gss);
  pods.set(podOf('mc-0'));
  gameServers.set(gsOf('mc-0'));
  enqueued.length = 0;
  /** Applies a job to the caches as the API server would (strategic merge of conditions by type, merge patches). */
  const apply = (job: WriteJob | null): void => {
    for (const step of job?.steps ?? []) {
      const body = step.body as any;
      if (step.resource === 'pods/status') {
        const p = pods.get(step.namespace, step.name)!;
        pods.set({ ...p, status: { ...p.status, conditions: mergePodConditions(p.status?.conditions ?? [], body.status.conditions) } });
      } else if (step.resource === 'gameservers') {
        const g = gameServers.get(step.namespace, step.name)!;
        gameServers.set(applyGameServerPatch(g, body) as CachedGameServer);
      } else {
        const g = gameServers.get(step.namespace, step.name)!;
        gameServers.set({ ...g, status: { serviceQualitiesConditions: body.status.serviceQualitiesConditions } });
      }
    }
    job?.done?.();
  };
  return { clock, sets, pods, gameServers, events, planner, pipeline, enqueued, metrics, apply };
}

function outcome(state: boolean, result: string, atMs: number, podUid = 'uid-mc-0'): Outcome {
  return { podUid, quality: 'gate', state, result, exitCode: state ? 0 : 1, errorKind: '', durationMs: 30, observedAtMs: atMs };
}

test('a flip writes the pod condition, then the GameServer patch, then its status — and reports the action', () => {
  const { pipeline, enqueued, apply, pods, gameServers, metrics, events, clock } = setup();
  pipeline.accept('node-a', [outcome(false, 'gate down', T0)]);
  assert.deepEqual(enqueued, ['ns/mc-0']);
  clock.now(); // decide uses the clock's now
  const job = pipeline.compute(objectKey('ns', 'mc-0'))!;
  assert.deepEqual(job.steps.map((s) => [s.resource, s.contentType]), [
    ['pods/status', 'application/strategic-merge-patch+json'],
    ['gameservers', 'application/merge-patch+json'],
    ['gameservers/status', 'application/merge-patch+json'],
  ]);
  assert.deepEqual(job.steps[0]!.body, {
    status: {
      conditions: [
        { type: 'game.kruise.io/gate', status: 'False', reason: OKGSQ_CONDITION_REASON, message: 'gate down', lastProbeTime: '2026-11-25T20:00:00Z', lastTransitionTime: '2026-11-25T20:00:00Z' },
      ],
    },
  });
  assert.deepEqual(job.steps[1]!.body, { spec: { opsState: 'Maintaining' } });
  // Each step is bound to the object it was computed from.
  assert.deepEqual(job.steps.map((st) => st.precondition), [
    { uid: 'uid-mc-0', resourceVersion: '7' },
    { uid: 'gs-mc-0', resourceVersion: '1' },
    { uid: 'gs-mc-0', resourceVersion: '1', pinned: true },
  ], 'each step names the version it was computed from; only the status carries it from the first attempt');
  const sqc = (job.steps[2]!.body as { status: { serviceQualitiesConditions: ServiceQualityCondition[] } }).status.serviceQualitiesConditions;
  assert.equal(sqc.length, 1);
  assert.equal(sqc[0]!.name, 'gate');
  assert.equal(sqc[0]!.status, 'False');
  assert.equal(sqc[0]!.result, 'gate down');
  assert.ok(sqc[0]!.lastActionTransitionTime);
  apply(job);
  assert.equal(gameServers.get('ns', 'mc-0')!.spec!.opsState, 'Maintaining');
  assert.equal(pods.get('ns', 'mc-0')!.status!.conditions!.length, 1);
  assert.deepEqual(metrics.actions, ['ns/mc/gate']);
  const applied = events.events.filter((e) => e.reason === 'ServiceQualityActionApplied');
  assert.equal(applied.length, 1);
  assert.equal(applied[0]!.ref.kind, 'GameServer');
  // Converged: recomputing writes nothing.
  assert.equal(pipeline.compute(objectKey('ns', 'mc-0')), null);
});

test('an unchanged outcome enqueues nothing; a changed result without a matching action writes 2 objects', () => {
  const { pipeline, enqueued, apply } = setup();
  pipeline.accept('node-a', [outcome(false, 'down', T0)]);
  apply(pipeline.compute(objectKey('ns', 'mc-0')));
  enqueued.length = 0;
  pipeline.accept('node-a', [outcome(false, 'down', T0 + 3000)]);
  assert.deepEqual(enqueued, [], 'same state and result: no work at all');
  pipeline.accept('node-a', [outcome(false, 'still down', T0 + 6000)]);
  assert.deepEqual(enqueued, ['ns/mc-0']);
  const job = pipeline.compute(objectKey('ns', 'mc-0'))!;
  // The action fires again (result changed, not permanent) but opsState is already Maintaining: no spec patch.
  assert.deepEqual(job.steps.map((s) => s.resource), ['pods/status', 'gameservers/status']);
});

test('a restarted decider recomputes from the cluster with zero writes, also when the agent re-sends its outcomes', () => {
  const first = setup();
  first.pipeline.accept('node-a', [outcome(false, 'down', T0)]);
  first.apply(first.pipeline.compute(objectKey('ns', 'mc-0')));
  // A new decider over the same cluster state.
  const second = setup();
  second.pods.set(first.pods.get('ns', 'mc-0')!);
  second.gameServers.set(first.gameServers.get('ns', 'mc-0')!);
  assert.equal(second.pipeline.compute(objectKey('ns', 'mc-0')), null, 'level-based recompute without outcomes writes nothing');
  second.pipeline.accept('node-a', [outcome(false, 'down', T0 + 60_000)]);
  assert.equal(second.pipeline.compute(objectKey('ns', 'mc-0')), null, 'the re-sent outcome equals the written condition');
});

test('a crash between the pod condition and the GameServer writes is repaired from the pod condition', () => {
  const first = setup();
  first.pipeline.accept('node-a', [outcome(false, 'down', T0)]);
  const job = first.pipeline.compute(objectKey('ns', 'mc-0'))!;
  first.apply({ steps: [job.steps[0]!] }); // only the pod condition made it
  const second = setup();
  second.pods.set(first.pods.get('ns', 'mc-0')!);
  const repair = second.pipeline.compute(objectKey('ns', 'mc-0'))!;
  assert.deepEqual(repair.steps.map((s) => s.resource), ['gameservers', 'gameservers/status']);
  assert.deepEqual(repair.steps[0]!.body, { spec: { opsState: 'Maintaining' } });
});

test('a pod recreated under the same name starts with no outcome', () => {
  const { pipeline, pods, apply } = setup();
  pipeline.accept('node-a', [outcome(false, 'down', T0)]);
  apply(pipeline.compute(objectKey('ns', 'mc-0')));
  pods.delete('ns', 'mc-0');
  pods.set(podOf('mc-0', 'uid-new'));
  assert.equal(pipeline.latestOutcome({ podUid: 'uid-mc-0', quality: 'gate' }), undefined);
  assert.equal(pipeline.latestOutcome({ podUid: 'uid-new', quality: 'gate' }), undefined);
  // Outcomes for the old UID are ignored (not planned any more).
  pipeline.accept('node-a', [outcome(true, 'up', T0 + 1000, 'uid-mc-0')]);
  assert.equal(pipeline.latestOutcome({ podUid: 'uid-mc-0', quality: 'gate' }), undefined);
});

test('a GameServer owned by another pod than the one cached under its name gets no decision until both belong together', () => {
  const { pipeline, pods, gameServers, enqueued } = setup();
  gameServers.set(gsOf('mc-0', { uid: 'gs-new', ownerPodUid: 'uid-new' })); // recreated; its pod not seen yet
  assert.deepEqual(enqueued, ['ns/mc-0'], 'a replaced GameServer is enqueued');
  pipeline.accept('node-a', [outcome(false, 'down', T0)]); // the old pod's outcome
  assert.equal(pipeline.compute(objectKey('ns', 'mc-0')), null, "the old pod's outcome is never written onto the new GameServer");
  pods.delete('ns', 'mc-0');
  pods.set(podOf('mc-0', 'uid-new'));
  const job = pipeline.compute(objectKey('ns', 'mc-0'));
  // The new pod has no outcome yet: only the new GameServer's status entry, bound to the new objects.
  assert.deepEqual(job?.steps.map((st) => [st.resource, st.precondition.uid]), [['gameservers/status', 'gs-new']]);
});

test("an outcome observed beyond the decider's clock plus the allowed skew, or before its pod existed, is rejected and counted; the pod's other quality is still written", () => {
  const { pipeline, sets, pods, metrics, apply, clock } = setup();
  const gate = (gss.spec.serviceQualities as unknown[])[0] as Record<string, unknown>;
  sets.set({ ...gss, metadata: { ...gss.metadata, generation: 2 }, spec: { ...gss.spec, serviceQualities: [gate, { ...gate, name: 'data' }] } });
  const p = pods.get('ns', 'mc-0')!;
  pods.set({ ...p, metadata: { ...p.metadata, creationTimestamp: new Date(clock.now() - 3_600_000).toISOString() } });
  const data = (atMs: number): Outcome => ({ ...outcome(false, 'data down', atMs), quality: 'data' });
  for (const bad of [Number.MAX_SAFE_INTEGER, Date.UTC(10000, 0, 1), clock.now() + 5 * 60_000 + 1, clock.now() - 3_600_000 - 5 * 60_000 - 1]) {
    pipeline.accept('node-a', [outcome(false, 'gate down', bad), data(clock.now())]);
  }
  assert.equal(metrics.rejected, 4);
  const job = pipeline.compute(objectKey('ns', 'mc-0'))!;
  const conditions = (job.steps[0]!.body as { status: { conditions: PodCondition[] } }).status.conditions;
  assert.deepEqual(conditions.map((c) => [c.type, c.message]), [['game.kruise.io/data', 'data down']]);
  apply(job);
  // Within the skew, and long ago but after the pod was created (a re-sent outcome): taken.
  pipeline.accept('node-a', [outcome(false, 'gate down', clock.now() + 60_000), data(clock.now() - 1_800_000)]);
  assert.equal(metrics.rejected, 4);
});

test('another writer of our pod condition is reported (Event + metric), our own writes are not', () => {
  const { pipeline, pods, apply, metrics, events } = setup();
  pipeline.accept('node-a', [outcome(true, 'up', T0)]);
  apply(pipeline.compute(objectKey('ns', 'mc-0')));
  assert.deepEqual(metrics.foreign, []);
  const p = pods.get('ns', 'mc-0')!;
  pods.set({ ...p, status: { ...p.status, conditions: [{ type: 'game.kruise.io/gate', status: 'False', reason: 'kruise-daemon', message: '', lastProbeTime: '2026-11-25T20:01:00Z' }] } });
  assert.deepEqual(metrics.foreign, ['ns/mc/gate']);
  assert.equal(events.events.filter((e) => e.reason === 'ForeignConditionWriter' && e.type === 'Warning').length, 1);
});

test('a node whose agent disconnects or falls silent makes its probes stale, never False', async () => {
  const { pipeline, planner, clock, events, apply } = setup();
  apply(pipeline.compute(objectKey('ns', 'mc-0'))); // the status entry {name} a fresh GameServer gets
  const stale: Map<string, number>[] = [];
  const nodes: { planned: number; stale: [string, string, number][] }[] = [];
  const tracker = new StaleTracker({
    plans: planner,
    staleAfterMs: 60_000,
    clock,
    events,
    metrics: {
      probesStale: (c) => void stale.push(new Map([...c].map(([k, v]) => [k, v.count]))),
      nodesStale: (planned, s) => void nodes.push({ planned, stale: [...s].map(([node, v]) => [node, v.reason, v.count]) }),
    },
    logger: silentLogger,
  });
  pipeline.onConnection(tracker);
  pipeline.agentConnected('node-a');
  tracker.check();
  assert.deepEqual([...stale.at(-1)!], []);
  assert.deepEqual(nodes.at(-1), { planned: 1, stale: [] }, 'one node needs an agent; it is connected');
  pipeline.agentDisconnected('node-a');
  tracker.check();
  assert.deepEqual([...stale.at(-1)!], [['ns/mc', 1]]);
  assert.deepEqual(nodes.at(-1), { planned: 1, stale: [['node-a', 'disconnected', 1]] }, 'the stale node, its reason and its probes');
  assert.equal(events.events.filter((e) => e.reason === 'ProbesStale').length, 1);
  tracker.check();
  assert.equal(events.events.filter((e) => e.reason === 'ProbesStale').length, 1, 'reported once per episode');
  assert.equal(pipeline.compute(objectKey('ns', 'mc-0')), null, 'staleness writes nothing');
  pipeline.agentConnected('node-a');
  tracker.check();
  assert.deepEqual([...stale.at(-1)!], []);
  tracker.heard('node-a');
  await clock.advance(61_000);
  tracker.check();
  assert.deepEqual([...stale.at(-1)!], [['ns/mc', 1]], 'silent longer than the limit');
});

test('after losing leadership the outcomes are forgotten: a later leader term never writes an old outcome back', () => {
  const { pipeline, apply } = setup();
  pipeline.accept('node-a', [outcome(false, 'down', T0)]);
  apply(pipeline.compute(objectKey('ns', 'mc-0')));
  pipeline.reset();
  // Meanwhile another leader wrote a newer outcome (the "other decider" is a second pipeline on the same caches' state).
  const other = setup();
  other.pipeline.accept('node-a', [outcome(true, 'up', T0 + 5000)]);
  const newer = other.pipeline.compute(objectKey('ns', 'mc-0'))!;
  apply(newer);
  assert.equal(pipeline.latestOutcome({ podUid: 'uid-mc-0', quality: 'gate' }), undefined);
  assert.equal(pipeline.compute(objectKey('ns', 'mc-0')), null, 'nothing of ours to write over the newer state');
});
