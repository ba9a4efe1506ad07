// The local pipeline with the real evaluation core (no fakes): outcome → pod condition → decision →
// GameServer in the store, as a user of `okg-sq local` sees it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LocalPipeline } from '../../../cli/local/local-pipeline.js';
import { MemoryStore, newGameServer, type LocalGameServer } from '../../../cli/local/memory-store.js';
import type { Outcome } from '../../../common/outcome.js';
import type { ServiceQuality } from '../../../common/service-quality.js';

const timing = { initialDelaySeconds: 1, timeoutSeconds: 2, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 };
const healthy: ServiceQuality = {
  name: 'healthy',
  containerName: 'minecraft',
  handler: { kind: 'exec', command: ['/bin/sh', './probe.sh'] },
  timing,
  permanent: false,
  actions: [
    { state: true, result: 'gate', opsState: 'GateMaintaining', labels: { broken: 'gate' } },
    { state: true, result: 'data', opsState: 'DataMaintaining' },
    { state: false, opsState: 'None' },
  ],
};
const NOW = new Date('2026-11-25T20:00:00Z');

function setup() {
  const store = new MemoryStore();
  for (let i = 0; i < 2; i++) store.create(newGameServer('minecraft', i, `gs-${i}`), { uid: `pod-${i}` });
  const changes: LocalGameServer[] = [];
  store.onChange((gs) => changes.push(gs));
  const pipeline = new LocalPipeline({ store, qualities: [healthy], now: () => NOW });
  return { store, changes, pipeline };
}

const outcome = (podUid: string, state: boolean, result: string, errorKind: Outcome['errorKind'] = ''): Outcome => ({
  podUid,
  quality: 'healthy',
  state,
  result,
  exitCode: state ? 0 : 1,
  errorKind,
  durationMs: 3,
  observedAtMs: NOW.getTime() - 1000,
});

test('a gate outcome makes the GameServer GateMaintaining, with its condition, label and pod condition', () => {
  const { store, changes, pipeline } = setup();
  const decision = pipeline.accept(outcome('pod-0', true, 'gate'));
  assert.ok(decision);
  const gs = store.get('minecraft-0')!;
  assert.equal(gs.spec?.opsState, 'GateMaintaining');
  assert.deepEqual(gs.metadata.labels, { 'game.kruise.io/owner-gss': 'minecraft', broken: 'gate' });
  assert.equal(gs.kind, 'GameServer', 'fields the core does not know are kept');
  assert.equal(gs.status?.currentState, 'Ready');
  const [condition] = gs.status?.serviceQualitiesConditions ?? [];
  assert.equal(condition?.name, 'healthy');
  assert.equal(condition?.status, 'True');
  assert.equal(condition?.result, 'gate');
  assert.equal(condition?.lastActionTransitionTime, '2026-11-25T20:00:00Z');
  const [podCondition] = store.pod('minecraft-0')!.conditions;
  assert.equal(podCondition?.type, 'game.kruise.io/healthy');
  assert.equal(podCondition?.status, 'True');
  assert.equal(podCondition?.message, 'gate');
  assert.equal(changes.length, 1, 'one change, one render');
  assert.equal(store.get('minecraft-1')?.spec?.opsState, 'None', 'the other replica is untouched');
});

test('the same outcome again changes nothing and renders nothing (edge-triggered)', () => {
  const { store, changes, pipeline } = setup();
  pipeline.accept(outcome('pod-0', true, 'gate'));
  const before = store.get('minecraft-0');
  assert.equal(pipeline.accept(outcome('pod-0', true, 'gate')), undefined);
  assert.equal(store.get('minecraft-0'), before);
  assert.equal(changes.length, 1);
});

test('recovery (state false) sets None; a manual-looking label is never deleted', () => {
  const { store, pipeline } = setup();
  pipeline.accept(outcome('pod-0', true, 'gate'));
  pipeline.accept(outcome('pod-0', false, ''));
  const gs = store.get('minecraft-0')!;
  assert.equal(gs.spec?.opsState, 'None');
  assert.equal(gs.metadata.labels?.broken, 'gate');
  assert.equal(gs.status?.serviceQualitiesConditions?.[0]?.status, 'False');
});

test('the error kind of a failed run is kept for display even when the result is the same', () => {
  const { store, pipeline } = setup();
  pipeline.accept(outcome('pod-1', false, ''));
  assert.equal(store.pod('minecraft-1')?.errorKinds.healthy, '');
  pipeline.accept(outcome('pod-1', false, '', 'timeout'));
  assert.equal(store.pod('minecraft-1')?.errorKinds.healthy, 'timeout');
});

test('an outcome for an unknown pod is ignored', () => {
  const { changes, pipeline } = setup();
  assert.equal(pipeline.accept(outcome('gone', true, 'gate')), undefined);
  assert.equal(changes.length, 0);
});
