// A quality whose actions render the probe result into so many annotations that the GameServer would
// pass Kubernetes' 256 KiB annotation limit: the apiserver refuses that patch (422). The other qualities
// of the same GameServer must still be applied, and the refusal must be visible (Event or metric).
// Before the fix the whole GameServer patch got 422 and was dropped, opsState included, on every change:
// the valid quality never applied and nothing but a log line said why.
// Lower-level proof: test/unit/rules/evaluate.test.ts (AnnotationsTooLarge).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { testbedEnv } from '../testbed/env.js';
import { createNamespace } from '../testbed/kube.js';
import { FakeKubelet } from '../testbed/fake-kubelet.js';
import { CriClient } from '../testbed/cri-client.js';
import { waitFor } from '../testbed/wait-for.js';
import { adminClient, agentToken, DeciderProcess, eventsAbout, GAME, metricSum, must, startAgent, startRoom, type Program } from './bad-kit.js';

const KEYS = 300; // × 1,000-byte results: 300 kB of annotations, over the 256 KiB limit

describe('annotations rendered past the size limit', () => {
  const admin = adminClient();
  const env = testbedEnv();
  const node = `ann-${randomBytes(3).toString('hex')}`;
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: node });
  const cri = new CriClient(env.containerdSocket);
  let ns = '';
  let decider: DeciderProcess | undefined;
  let agent: Program | undefined;
  let containerId = '';

  before(async () => {
    ns = await createNamespace('bad-ann');
    const timing = { initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 1, successThreshold: 1 };
    const annotations = Object.fromEntries(Array.from({ length: KEYS }, (_, i) => [`okg-sq.test/a${i}`, '{{.Result}}']));
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServerSet', metadata: { name: 'room', namespace: ns },
      spec: {
        replicas: 1, gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
        serviceQualities: [
          { name: 'state', containerName: 'game', permanent: false, exec: { command: ['cat', '/state'] }, ...timing, serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }] },
          { name: 'fat', containerName: 'game', permanent: false, exec: { command: ['sh', '-c', "head -c 1000 /dev/zero | tr '\\0' f"] }, ...timing, serviceQualityAction: [{ state: true, annotations }] },
        ],
      },
    });
    containerId = await startRoom(admin, kubelet, ns);
    const token = await agentToken(admin, ns, node);
    decider = await DeciderProcess.start(ns);
    agent = startAgent(node, decider.grpcPort, token);
  });

  after(async () => {
    await agent?.stop();
    await decider?.program.stop();
    await kubelet.close();
    cri.close();
    admin.close();
  });

  it("applies the other quality's opsState, leaves the oversized annotations out with a Warning naming the quality", async () => {
    const gs = await waitFor(async () => {
      const g = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-0`);
      return g.status?.serviceQualitiesConditions?.filter((c: any) => c.status).length === 2 && g.spec.opsState === 'Allocated' ? g : false;
    }, { timeoutMs: 30_000, what: 'both outcomes recorded and the opsState applied' }).catch((err) => {
      throw new Error(`decider log:\n${decider?.program.log.slice(-4000)}`, { cause: err });
    });
    assert.equal(Object.keys(gs.metadata.annotations ?? {}).filter((k) => k.startsWith('okg-sq.test/')).length, 0);
    const warning = await waitFor(async () => (await eventsAbout(admin, ns, 'GameServer', 'room-0')).find((e) => e.reason === 'AnnotationsTooLarge'), { timeoutMs: 10_000, what: 'the Warning Event' });
    assert.equal(warning.type, 'Warning');
    assert.match(warning.message, /service quality fat action 0: annotations would total \d+ bytes, over Kubernetes' limit of 262144/);
    // Later changes keep working: the GameServer is not stuck behind a refused patch.
    await cri.execSync({ containerId, cmd: ['sh', '-c', 'printf WaitToBeDeleted > /state'], timeout: 10 });
    await waitFor(async () => (await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-0`)).spec.opsState === 'WaitToBeDeleted', { timeoutMs: 20_000, what: 'the later flip' });
    assert.equal(metricSum(await decider!.metrics(), 'okgsq_kube_writes_total', 'code="422"'), 0, 'no write refused by the apiserver');
  });
});
