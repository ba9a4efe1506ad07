import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podContainerState, PodContainerStates } from '../../../../decider/ingest/pod-container-states.js';
import type { PodView } from '../../../../rules/plan.js';

function pod(uid: string, statuses: { name: string; running: boolean }[]): PodView {
  return {
    metadata: { name: 'gs-0', namespace: 'ns', uid },
    spec: { nodeName: 'virtual-1', containers: statuses.map((s) => ({ name: s.name })) },
    status: {
      phase: 'Running',
      podIP: '10.0.0.9',
      containerStatuses: statuses.map((s) => ({ name: s.name, state: s.running ? { running: { startedAt: '2026-12-04T10:00:00Z' } } : {} })),
    },
  } as unknown as PodView;
}

describe('podContainerState (the decider prober: pod status, no CRI)', () => {
  const cases: [string, PodView | undefined, string, string, string][] = [
    ['running', pod('u1', [{ name: 'game', running: true }]), 'u1', 'game', 'running'],
    ['waiting or terminated (crash loop back-off)', pod('u1', [{ name: 'game', running: false }]), 'u1', 'game', 'not_running'],
    ['no status for the container yet', pod('u1', [{ name: 'sidecar', running: true }]), 'u1', 'game', 'not_found'],
    ['the pod is gone', undefined, 'u1', 'game', 'not_found'],
    ['recreated under its name (another UID)', pod('u2', [{ name: 'game', running: true }]), 'u1', 'game', 'not_found'],
  ];
  for (const [what, p, uid, container, want] of cases) {
    it(what, () => assert.equal(podContainerState(p, uid, container), want));
  }

  it('PodContainerStates looks the pod up by namespace and name', async () => {
    const seen: string[] = [];
    const states = new PodContainerStates((namespace, name) => {
      seen.push(`${namespace}/${name}`);
      return pod('u1', [{ name: 'game', running: false }]);
    });
    assert.equal(await states.containerState({ namespace: 'ns', podName: 'gs-0', podUid: 'u1', containerName: 'game' }), 'not_running');
    assert.deepEqual(seen, ['ns/gs-0']);
  });
});
