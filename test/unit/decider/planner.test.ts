// The planner over fake caches: per-node plans, deltas to subscribers, removals, invalid qualities,
// agentless nodes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Planner } from '../../../decider/planner/planner.js';
import { labelSelector } from '../../../decider/planner/label-selector.js';
import { AGENTLESS_NODE, type PlanDelta } from '../../../decider/ingest/ports.js';
import type { GameServerSetView, NodeView } from '../../../decider/kube/cluster-cache.js';
import type { PodView } from '../../../rules/plan.js';
import { FakeCache, FakeEvents, silentLogger } from './kit.js';

function set(name: string, qualities: unknown[], generation = 1): GameServerSetView {
  return {
    metadata: { name, namespace: 'ns', uid: `set-${name}`, generation },
    spec: {
      serviceQualities: qualities,
      gameServerTemplate: { spec: { containers: [{ name: 'game', ports: [{ name: 'http', containerPort: 8080 }] }] } },
    },
  };
}

const gate = { name: 'gate', containerName: 'game', permanent: false, exec: { command: ['/probe.sh', 'gate'] }, serviceQualityAction: [{ state: false, opsState: 'Maintaining' }] };
const web = { name: 'web', containerName: 'game', permanent: false, httpGet: { port: 'http', path: '/' }, serviceQualityAction: [{ state: true, opsState: 'None' }] };

function pod(name: string, node: string, over: Partial<{ uid: string; phase: string; set: string }> = {}): PodView {
  return {
    metadata: { name, namespace: 'ns', uid: over.uid ?? `uid-${name}`, labels: { 'game.kruise.io/owner-gss': over.set ?? 'mc' } },
    spec: { nodeName: node, containers: [{ name: 'game', ports: [{ name: 'http', containerPort: 8080 }] }] },
    status: { phase: over.phase ?? 'Running', podIP: '10.254.77.9', containerStatuses: [] },
  };
}

function setup(selector = 'type=virtual-kubelet') {
  const sets = new FakeCache<GameServerSetView>();
  const pods = new FakeCache<PodView>();
  const nodes = new FakeCache<NodeView>();
  const events = new FakeEvents();
  const invalid = new Map<string, number>();
  const declared = new Map<string, string[]>();
  const planner = new Planner({
    gameServerSets: sets,
    pods,
    nodes,
    agentless: labelSelector(selector, 'OKGSQ_AGENTLESS_NODE_SELECTOR'),
    events,
    metrics: { invalidQualities: (ns, gss, n) => void invalid.set(`${ns}/${gss}`, n), qualitiesDeclared: (ns, gss, q) => void declared.set(`${ns}/${gss}`, [...q]) },
    logger: silentLogger,
  });
  return { sets, pods, nodes, events, invalid, declared, planner };
}

const keys = (d: PlanDelta) => ({ upsert: d.upsert.map((t) => `${t.podName}/${t.key.quality}`), remove: d.remove.map((k) => `${k.podUid}/${k.quality}`) });

test('pods are planned onto their nodes; a subscriber gets the full plan then every change', () => {
  const { sets, pods, planner } = setup();
  sets.set(set('mc', [gate, web]));
  pods.set(pod('mc-0', 'node-a'));
  pods.set(pod('mc-1', 'node-b'));
  const deltas: PlanDelta[] = [];
  const sub = planner.subscribe('node-a', (d) => deltas.push(d));
  assert.deepEqual(sub.initial.map((t) => `${t.podName}/${t.key.quality}/${t.handler.kind}`).sort(), ['mc-0/gate/exec', 'mc-0/web/httpGet']);
  assert.equal((sub.initial.find((t) => t.key.quality === 'web')!.handler as { port: number }).port, 8080);
  assert.ok(planner.isPlanned('node-a', { podUid: 'uid-mc-0', quality: 'gate' }));
  assert.ok(!planner.isPlanned('node-a', { podUid: 'uid-mc-1', quality: 'gate' }), 'another node\'s pod is not planned here');

  pods.set(pod('mc-2', 'node-a'));
  assert.deepEqual(deltas.map(keys), [{ upsert: ['mc-2/gate', 'mc-2/web'], remove: [] }]);

  // An unrelated status change of a planned pod changes nothing.
  pods.set({ ...pod('mc-2', 'node-a'), metadata: { ...pod('mc-2', 'node-a').metadata, resourceVersion: '99' } });
  assert.equal(deltas.length, 1);

  pods.delete('ns', 'mc-0');
  assert.deepEqual(keys(deltas[1]!), { upsert: [], remove: ['uid-mc-0/gate', 'uid-mc-0/web'] });
  assert.ok(!planner.isPlanned('node-a', { podUid: 'uid-mc-0', quality: 'gate' }));
  sub.unsubscribe();
  pods.delete('ns', 'mc-2');
  assert.equal(deltas.length, 2, 'no deltas after unsubscribe');
});

test('a set removed removes its pods\' probes; a quality removed from the set removes just that probe', () => {
  const { sets, pods, planner } = setup();
  sets.set(set('mc', [gate, web]));
  pods.set(pod('mc-0', 'node-a'));
  const deltas: PlanDelta[] = [];
  planner.subscribe('node-a', (d) => deltas.push(d));
  sets.set(set('mc', [gate], 2));
  assert.deepEqual(deltas.map(keys), [{ upsert: [], remove: ['uid-mc-0/web'] }]);
  sets.delete('ns', 'mc');
  assert.deepEqual(keys(deltas[1]!), { upsert: [], remove: ['uid-mc-0/gate'] });
  assert.deepEqual(planner.planOf('node-a'), []);
});

test('a pod recreated under the same name gets new keys (pod UID), the old ones are removed', () => {
  const { sets, pods, planner } = setup();
  sets.set(set('mc', [gate]));
  pods.set(pod('mc-0', 'node-a'));
  const deltas: PlanDelta[] = [];
  planner.subscribe('node-a', (d) => deltas.push(d));
  pods.set(pod('mc-0', 'node-a', { uid: 'uid-new' }));
  assert.deepEqual(deltas.map(keys), [{ upsert: [], remove: ['uid-mc-0/gate'] }, { upsert: ['mc-0/gate'], remove: [] }]);
  assert.equal(planner.targetFor({ podUid: 'uid-new', quality: 'gate' })?.podName, 'mc-0');
  assert.equal(planner.targetFor({ podUid: 'uid-mc-0', quality: 'gate' }), undefined);
});

test('a pod that stops running leaves the plan', () => {
  const { sets, pods, planner } = setup();
  sets.set(set('mc', [gate]));
  pods.set(pod('mc-0', 'node-a'));
  pods.set(pod('mc-0', 'node-a', { phase: 'Succeeded' }));
  assert.deepEqual(planner.planOf('node-a'), []);
});

test('invalid qualities are skipped with one Warning Event per spec change and the metric; valid ones keep working', () => {
  const { sets, pods, planner, events, invalid } = setup();
  const broken = { name: 'web', permanent: false, httpGet: { port: 'nope', path: '/' }, serviceQualityAction: [{ state: true, opsState: 'None' }] };
  sets.set(set('mc', [gate, broken]));
  pods.set(pod('mc-0', 'node-a'));
  assert.deepEqual(planner.planOf('node-a').map((t) => t.key.quality), ['gate']);
  assert.equal(invalid.get('ns/mc'), 1);
  const warnings = events.events.filter((e) => e.reason === 'InvalidServiceQuality');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.type, 'Warning');
  assert.equal(warnings[0]!.ref.kind, 'GameServerSet');
  assert.match(warnings[0]!.message, /serviceQualities\[1\]\.httpGet\.port/);
  // A resync (same generation, e.g. a status update) does not repeat it.
  sets.set({ ...set('mc', [gate, broken]), metadata: { ...set('mc', []).metadata, resourceVersion: '2' } });
  pods.set(pod('mc-1', 'node-a'));
  assert.equal(events.events.filter((e) => e.reason === 'InvalidServiceQuality').length, 1);
  // Fixing it clears the metric.
  sets.set(set('mc', [gate, web], 2));
  assert.equal(invalid.get('ns/mc'), 0);
  assert.deepEqual(planner.planOf('node-a').map((t) => t.key.quality).sort(), ['gate', 'gate', 'web', 'web']);
});

test('pods on nodes matching the agentless selector go to the in-process prober\'s pseudo-node', () => {
  const { sets, pods, nodes, planner } = setup();
  nodes.set({ metadata: { name: 'vk-1', labels: { type: 'virtual-kubelet' } } });
  nodes.set({ metadata: { name: 'node-a', labels: { type: 'real' } } });
  sets.set(set('mc', [web]));
  pods.set(pod('mc-0', 'vk-1'));
  pods.set(pod('mc-1', 'node-a'));
  assert.deepEqual(planner.planOf(AGENTLESS_NODE).map((t) => t.podName), ['mc-0']);
  assert.deepEqual(planner.planOf('vk-1'), []);
  assert.deepEqual(planner.planOf('node-a').map((t) => t.podName), ['mc-1']);
  // Relabelling the node moves its pods.
  const deltas: PlanDelta[] = [];
  planner.subscribe('node-a', (d) => deltas.push(d));
  nodes.set({ metadata: { name: 'node-a', labels: { type: 'virtual-kubelet' } } });
  assert.deepEqual(deltas.map(keys), [{ upsert: [], remove: ['uid-mc-1/web'] }]);
  assert.deepEqual(planner.planOf(AGENTLESS_NODE).map((t) => t.podName).sort(), ['mc-0', 'mc-1']);
});

test('an empty agentless selector selects no node', () => {
  const { sets, pods, nodes, planner } = setup('');
  nodes.set({ metadata: { name: 'vk-1', labels: { type: 'virtual-kubelet' } } });
  sets.set(set('mc', [web]));
  pods.set(pod('mc-0', 'vk-1'));
  assert.deepEqual(planner.planOf(AGENTLESS_NODE), []);
  assert.equal(planner.planOf('vk-1').length, 1);
});

test('the selector option is validated with the variable name', () => {
  assert.throws(() => labelSelector('a=b=c', 'OKGSQ_AGENTLESS_NODE_SELECTOR'), /OKGSQ_AGENTLESS_NODE_SELECTOR.*a=b=c/);
});

test('the planner declares each set\'s valid qualities to the metrics, and none once the set is gone (its series go with it)', () => {
  const { sets, declared } = setup();
  sets.set(set('mc', [gate, web]));
  assert.deepEqual(declared.get('ns/mc'), ['gate', 'web']);
  sets.set(set('mc', [gate], 2));
  assert.deepEqual(declared.get('ns/mc'), ['gate']);
  sets.delete('ns', 'mc');
  assert.deepEqual(declared.get('ns/mc'), []);
});
