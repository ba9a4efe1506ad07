import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryStore, newGameServer, type LocalGameServer } from '../../../cli/local/memory-store.js';

function storeWith(replicas: number): { store: MemoryStore; seen: LocalGameServer[] } {
  const store = new MemoryStore();
  const seen: LocalGameServer[] = [];
  store.onChange((gs) => seen.push(gs));
  for (let i = 0; i < replicas; i++) store.create(newGameServer('minecraft', i, `gs-uid-${i}`), { uid: `pod-uid-${i}` });
  return { store, seen };
}

test('new GameServers have the Kubernetes shape OKG gives them', () => {
  const { store } = storeWith(1);
  const gs = store.get('minecraft-0');
  assert.deepEqual(gs, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServer',
    metadata: {
      name: 'minecraft-0',
      namespace: 'default',
      uid: 'gs-uid-0',
      resourceVersion: gs?.metadata.resourceVersion,
      labels: { 'game.kruise.io/owner-gss': 'minecraft' },
      annotations: {},
    },
    spec: { opsState: 'None', updatePriority: 0, deletionPriority: 0, networkDisabled: false },
    status: { currentState: 'Ready', serviceQualitiesConditions: [] },
  });
});

test('list() is in ordinal order, not string order', () => {
  const { store } = storeWith(12);
  assert.deepEqual(
    store.list().map((gs) => gs.metadata.name).slice(0, 3),
    ['minecraft-0', 'minecraft-1', 'minecraft-2'],
  );
  assert.equal(store.list().at(-1)?.metadata.name, 'minecraft-11');
});

test('an update notifies with the new version and bumps resourceVersion; an identical one does not', () => {
  const { store, seen } = storeWith(1);
  assert.equal(seen.length, 1, 'creation is a change');
  const before = store.get('minecraft-0')!;
  const after = store.update({ ...before, spec: { ...before.spec, opsState: 'GateMaintaining' } });
  assert.equal(after.spec?.opsState, 'GateMaintaining');
  assert.notEqual(after.metadata.resourceVersion, before.metadata.resourceVersion);
  assert.equal(seen.length, 2);
  assert.equal(seen[1], after);

  const same = store.update({ ...after, spec: { ...after.spec } });
  assert.equal(same, after, 'nothing changed: the stored object is kept');
  assert.equal(seen.length, 2, 'and nobody is told');
});

test('stored objects are frozen copies: callers cannot change the store behind its back', () => {
  const { store } = storeWith(1);
  const labels = { team: 'red' };
  const gs = store.get('minecraft-0')!;
  store.update({ ...gs, metadata: { ...gs.metadata, labels } });
  labels.team = 'blue';
  assert.equal(store.get('minecraft-0')?.metadata.labels?.team, 'red');
  assert.throws(() => {
    (store.get('minecraft-0')!.spec as { opsState?: string }).opsState = 'Kill';
  }, TypeError);
});

test('pods are found by name and by UID and keep their conditions and error kinds', () => {
  const { store } = storeWith(2);
  assert.equal(store.podByUid('pod-uid-1')?.name, 'minecraft-1');
  assert.equal(store.podByUid('nope'), undefined);
  const conditions = [{ type: 'game.kruise.io/healthy', status: 'True', message: 'gate' }];
  store.setPodConditions('minecraft-1', conditions, { healthy: '' });
  assert.deepEqual(store.pod('minecraft-1')?.conditions, conditions);
  assert.deepEqual(store.pod('minecraft-1')?.errorKinds, { healthy: '' });
  assert.deepEqual(store.pod('minecraft-0')?.conditions, []);
});

test('creating a name twice or updating an unknown one throws', () => {
  const { store } = storeWith(1);
  assert.throws(() => store.create(newGameServer('minecraft', 0, 'x'), { uid: 'y' }), /already exists/);
  assert.throws(() => store.update(newGameServer('minecraft', 7, 'x')), /not found/);
});

test('an unsubscribed listener hears nothing more', () => {
  const store = new MemoryStore();
  let calls = 0;
  const off = store.onChange(() => calls++);
  store.create(newGameServer('s', 0, 'a'), { uid: 'b' });
  off();
  store.create(newGameServer('s', 1, 'c'), { uid: 'd' });
  assert.equal(calls, 1);
});
