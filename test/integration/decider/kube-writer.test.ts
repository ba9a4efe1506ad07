// KubeWriter against the real apiserver: a patch computed for one object never lands on its successor
// under the same name. Also pins the API server behaviour the design relies on: a wrong uid in a pod or
// GameServer patch is refused 422 on metadata.uid (not 409), and a custom resource's status subresource
// ignores metadata.uid in the body, which is why status steps also carry a resourceVersion; and a patch
// naming a resourceVersion is refused 409 once the object moved on, which makes a retry safe.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeClient } from '../../../decider/kube/kube-client.js';
import { KubeWriter } from '../../../decider/kube/kube-writer.js';
import { pinned, type WriteResource, type WriteStep } from '../../../decider/kube/write-step.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { GAME, must } from './kit.js';

describe('KubeWriter preconditions on a real apiserver', () => {
  const api = new KubeClient(adminKubeConfig());
  const observed: string[] = [];
  const forgotten: string[] = [];
  const writer = new KubeWriter(api, {
    observe: (resource, obj: any) => void observed.push(`${resource} ${obj?.metadata?.uid}`),
    forget: (resource, _ns, name) => void forgotten.push(`${resource} ${name}`),
  });
  const never = new AbortController().signal;
  let ns = '';

  before(async () => {
    ns = await createNamespace('kube-writer');
  });
  after(() => api.close());

  async function make(name: string): Promise<{ pod: any; gs: any }> {
    const pod = await must(api, 'POST', `/api/v1/namespaces/${ns}/pods`, { metadata: { name }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    const gs = await must(api, 'POST', `${GAME}/namespaces/${ns}/gameservers`, { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name }, spec: { opsState: 'None' } });
    return { pod, gs };
  }

  async function remove(name: string): Promise<void> {
    await must(api, 'DELETE', `/api/v1/namespaces/${ns}/pods/${name}?gracePeriodSeconds=0`);
    await must(api, 'DELETE', `${GAME}/namespaces/${ns}/gameservers/${name}`);
  }

  function step(resource: WriteResource, name: string, precondition: WriteStep['precondition']): WriteStep {
    const body =
      resource === 'pods/status' ? { status: { conditions: [{ type: 'game.kruise.io/q', status: 'False', message: 'old' }] } }
      : resource === 'gameservers' ? { spec: { opsState: 'Maintaining' } }
      : { status: { serviceQualitiesConditions: [{ name: 'q', status: 'False', result: 'old' }] } };
    const contentType = resource === 'pods/status' ? 'application/strategic-merge-patch+json' : 'application/merge-patch+json';
    return { resource, namespace: ns, name, contentType, body, precondition };
  }

  it('writes to the object it was computed for', async () => {
    const { pod, gs } = await make('room-a');
    for (const s of [step('pods/status', 'room-a', { uid: pod.metadata.uid }), step('gameservers', 'room-a', { uid: gs.metadata.uid })]) {
      const res = await writer.write(s, never);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(!res.conflict);
    }
    const current = await must(api, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-a`);
    assert.equal((await writer.write(step('gameservers/status', 'room-a', { uid: gs.metadata.uid, resourceVersion: current.metadata.resourceVersion, pinned: true }), never)).status, 200);
  });

  it('is refused by a successor under the same name, as a conflict, and writes nothing there', async () => {
    const a = await make('room-b');
    await remove('room-b');
    const b = await make('room-b');
    for (const s of [step('pods/status', 'room-b', { uid: a.pod.metadata.uid }), step('gameservers', 'room-b', { uid: a.gs.metadata.uid })]) {
      const res = await writer.write(s, never);
      assert.equal(res.status, 422, `${s.resource}: ${JSON.stringify(res.body)}`);
      assert.equal(res.conflict, true, s.resource);
    }
    const status = await writer.write(step('gameservers/status', 'room-b', { uid: a.gs.metadata.uid, resourceVersion: a.gs.metadata.resourceVersion, pinned: true }), never);
    assert.equal(status.status, 409);
    const pod = await must(api, 'GET', `/api/v1/namespaces/${ns}/pods/room-b`);
    const gs = await must(api, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-b`);
    assert.equal(pod.metadata.uid, b.pod.metadata.uid);
    assert.ok(!pod.status?.conditions?.some((c: any) => c.type === 'game.kruise.io/q'));
    assert.equal(gs.spec.opsState, 'None');
    assert.equal(gs.status?.serviceQualitiesConditions, undefined);
  });

  it('lands a retry only on the version it was computed from: after the first attempt landed unanswered, the retry is a conflict', async () => {
    const { pod, gs } = await make('room-e');
    for (const [s, from] of [
      [step('pods/status', 'room-e', { uid: pod.metadata.uid }), pod],
      [step('gameservers', 'room-e', { uid: gs.metadata.uid }), gs],
    ] as const) {
      const planned: WriteStep = { ...s, precondition: { uid: from.metadata.uid, resourceVersion: from.metadata.resourceVersion } };
      // The first attempt carries only the uid and lands; say its answer was lost.
      assert.equal((await writer.write(planned, never)).status, 200, s.resource);
      const retry = await writer.write(pinned(planned), never);
      assert.equal(retry.status, 409, `${s.resource}: the retry names the version the step was computed from: ${JSON.stringify(retry.body)}`);
    }
    // Nothing moved on meanwhile: a retry lands.
    const current = await must(api, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-e`);
    const retry = await writer.write(pinned({ ...step('gameservers', 'room-e', { uid: gs.metadata.uid, resourceVersion: current.metadata.resourceVersion }), body: { spec: { opsState: 'None' } } }), never);
    assert.equal(retry.status, 200);
  });

  it('relies on a resourceVersion for a GameServer status: that subresource ignores metadata.uid in the body', async () => {
    const a = await make('room-c');
    await remove('room-c');
    await make('room-c');
    const res = await api.request('PATCH', `${GAME}/namespaces/${ns}/gameservers/room-c/status`, {
      body: { metadata: { uid: a.gs.metadata.uid }, status: { serviceQualitiesConditions: [{ name: 'q' }] } },
      contentType: 'application/merge-patch+json',
    });
    assert.equal(res.status, 200, 'if this ever becomes a refusal, the uid alone would do');
  });

  it('re-reads both objects after a conflict, and forgets the ones that are gone', async () => {
    const { pod, gs } = await make('room-d');
    observed.length = 0;
    await writer.refresh(step('gameservers', 'room-d', { uid: gs.metadata.uid }), never);
    assert.deepEqual(observed.sort(), [`gameservers ${gs.metadata.uid}`, `pods/status ${pod.metadata.uid}`].sort());
    await remove('room-d');
    await writer.refresh(step('gameservers/status', 'room-d', { uid: gs.metadata.uid }), never);
    assert.deepEqual(forgotten.sort(), ['gameservers room-d', 'pods/status room-d']);
  });
});
