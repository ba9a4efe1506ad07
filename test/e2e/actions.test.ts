// OKG's action semantics end to end with the real agent: an http quality whose body is the opsState
// (idle → WaitToBeDeleted), a manual opsState edit that stands until the result changes, and a
// `permanent: true` quality that fires once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningPod } from '../testbed/fake-kubelet.js';
import { E2eBed, GAME, must } from './e2e-kit.js';

const bed = new E2eBed();
let pod: RunningPod;

/** busybox httpd serves /www; the files' contents are the probes' answers. */
const MAIN = 'mkdir -p /www; printf None > /www/state; printf a > /www/once; exec httpd -f -p 8080 -h /www';

before(async () => {
  await bed.prepare('e2e-act');
  await must(bed.admin, 'POST', `${GAME}/namespaces/${bed.ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'arena', namespace: bed.ns },
    spec: {
      replicas: 1,
      gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox', ports: [{ name: 'http', containerPort: 8080 }] }] } },
      serviceQualities: [
        {
          name: 'state',
          containerName: 'game',
          permanent: false,
          httpGet: { port: 'http', path: '/state' },
          initialDelaySeconds: 1,
          periodSeconds: 1,
          timeoutSeconds: 2,
          failureThreshold: 1,
          serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }],
        },
        {
          name: 'first',
          containerName: 'game',
          permanent: true,
          exec: { command: ['cat', '/www/once'] },
          initialDelaySeconds: 1,
          periodSeconds: 1,
          timeoutSeconds: 2,
          failureThreshold: 1,
          serviceQualityAction: [{ state: true, annotations: { 'okg-sq.test/first': '{{.Result}}' } }],
        },
      ],
    },
  });
  await must(bed.admin, 'POST', `${GAME}/namespaces/${bed.ns}/gameservers`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'arena-0', namespace: bed.ns, labels: { 'game.kruise.io/owner-gss': 'arena' } },
    spec: { opsState: 'None' },
  });
  pod = await bed.kubelet.runPod({
    namespace: bed.ns,
    name: 'arena-0',
    labels: { 'game.kruise.io/owner-gss': 'arena' },
    containers: [{ name: 'game', command: ['/bin/sh', '-c', MAIN], ports: [{ name: 'http', containerPort: 8080 }] }],
  });
  await bed.start();
});

after(() => bed.stop());

const setFile = (file: string, text: string) => bed.exec(pod.containers[0]!.id, `printf '%s' '${text}' > /www/${file}`);

test('an http quality whose body is the opsState: the room goes idle → WaitToBeDeleted', async () => {
  await bed.waitForGameServer('arena-0', 'first outcomes', (gs) => gs.status?.serviceQualitiesConditions?.find((c: any) => c.name === 'state')?.result === 'None');
  await setFile('state', 'WaitToBeDeleted');
  await bed.waitForGameServer('arena-0', 'opsState from the body', (gs) => gs.spec.opsState === 'WaitToBeDeleted');
});

test('a manual opsState edit stands until the probe result changes', async () => {
  await must(bed.admin, 'PATCH', `${GAME}/namespaces/${bed.ns}/gameservers/arena-0`, { spec: { opsState: 'Allocated' } }, 'application/merge-patch+json');
  await bed.moreProbeRuns(4);
  await bed.d!.decider.batcher.drain();
  assert.equal((await bed.gameServer('arena-0')).spec.opsState, 'Allocated', 'an unchanged result does not re-apply');
  await setFile('state', 'None');
  await bed.waitForGameServer('arena-0', 'the changed result applies', (gs) => gs.spec.opsState === 'None');
});

test('a permanent quality fires once: a later result change updates the condition, not the GameServer', async () => {
  await bed.waitForGameServer('arena-0', 'first action of the permanent quality', (gs) => gs.metadata.annotations?.['okg-sq.test/first'] === 'a');
  await setFile('once', 'b');
  const gs = await bed.waitForGameServer('arena-0', 'the new result recorded', (g) => g.status?.serviceQualitiesConditions?.find((c: any) => c.name === 'first')?.result === 'b');
  assert.equal(gs.metadata.annotations['okg-sq.test/first'], 'a', 'not applied again');
});
