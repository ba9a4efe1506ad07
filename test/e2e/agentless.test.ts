// A pod on a virtual node (no agent there): the decider probes its http quality itself, in process,
// and writes the GameServer exactly as for an agent's outcome.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningPod } from '../testbed/fake-kubelet.js';
import { AGENTLESS_NODE } from '../../decider/ingest/ports.js';
import { E2eBed, GAME, must } from './e2e-kit.js';

const bed = new E2eBed({ nodeLabels: { type: 'virtual-kubelet' } });
let pod: RunningPod;

before(async () => {
  await bed.prepare('e2e-vk');
  await must(bed.admin, 'POST', `${GAME}/namespaces/${bed.ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'lobby', namespace: bed.ns },
    spec: {
      replicas: 1,
      gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] } },
      serviceQualities: [
        {
          name: 'players',
          containerName: 'game',
          permanent: false,
          httpGet: { port: 'http', path: '/players' },
          initialDelaySeconds: 1,
          periodSeconds: 1,
          timeoutSeconds: 2,
          failureThreshold: 1,
          serviceQualityAction: [
            { state: true, result: '0', opsState: 'WaitToBeDeleted' },
            { state: false, opsState: 'Maintaining' },
          ],
        },
      ],
    },
  });
  await must(bed.admin, 'POST', `${GAME}/namespaces/${bed.ns}/gameservers`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'lobby-0', namespace: bed.ns, labels: { 'game.kruise.io/owner-gss': 'lobby' } },
    spec: { opsState: 'None' },
  });
  pod = await bed.kubelet.runPod({
    namespace: bed.ns,
    name: 'lobby-0',
    labels: { 'game.kruise.io/owner-gss': 'lobby' },
    containers: [{ name: 'game', command: ['/bin/sh', '-c', 'mkdir -p /www; printf 3 > /www/players; exec httpd -f -p 8080 -h /www'], ports: [{ name: 'http', containerPort: 8080 }] }],
  });
  await bed.start({ agent: false, deciderEnv: { OKGSQ_AGENTLESS_NODE_SELECTOR: 'type=virtual-kubelet' } });
});

after(() => bed.stop());

test('the pod is planned onto the in-process prober, which feeds the same pipeline', async () => {
  const planner = bed.d!.decider.planner;
  assert.deepEqual(planner.planOf(AGENTLESS_NODE).map((t) => `${t.podName}/${t.key.quality}`), ['lobby-0/players']);
  assert.deepEqual(planner.planOf(bed.nodeName), []);
  await bed.waitForGameServer('lobby-0', 'the first outcome', (gs) => gs.status?.serviceQualitiesConditions?.[0]?.result === '3');
  await bed.exec(pod.containers[0]!.id, "printf 0 > /www/players");
  await bed.waitForGameServer('lobby-0', 'an empty lobby is released', (gs) => gs.spec.opsState === 'WaitToBeDeleted');
  await bed.exec(pod.containers[0]!.id, 'rm /www/players');
  await bed.waitForGameServer('lobby-0', 'a 404 is state false', (gs) => gs.spec.opsState === 'Maintaining');
});
