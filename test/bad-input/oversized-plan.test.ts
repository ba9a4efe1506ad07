// One hostile set must not take a whole node's probing down: a quality with a ~1 MiB exec command (the
// apiserver and etcd accept it) on several pods of the same node makes that node's plan larger than a
// gRPC message may be (4 MiB). The real decider process must still deliver the node's other qualities to
// the real agent, and the agent must keep probing them.
// Lower-level proof: test/unit/wire/plan.test.ts (plans split by count and by bytes).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { testbedEnv } from '../testbed/env.js';
import { createNamespace } from '../testbed/kube.js';
import { FakeKubelet } from '../testbed/fake-kubelet.js';
import { CriClient } from '../testbed/cri-client.js';
import { waitFor } from '../testbed/wait-for.js';
import { createGameServerAndPod } from '../integration/decider/kit.js';
import { adminClient, agentToken, DeciderProcess, GAME, must, startAgent, startRoom, type Program } from './bad-kit.js';

const BIG_PODS = 5;
const ARG_BYTES = 100_000; // under Linux's per-argument limit (128 KiB)
const ARGS = 10; // ~1 MB per quality, below etcd's 1.5 MiB request limit

describe('an oversized node plan', () => {
  const admin = adminClient();
  const env = testbedEnv();
  const node = `big-${randomBytes(3).toString('hex')}`;
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: node });
  const cri = new CriClient(env.containerdSocket);
  let ns = '';
  let decider: DeciderProcess | undefined;
  let agent: Program | undefined;
  let containerId = '';

  before(async () => {
    ns = await createNamespace('bad-plan');
    const template = { spec: { containers: [{ name: 'game', image: 'busybox' }] } };
    const timing = { initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 1, successThreshold: 1 };
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServerSet', metadata: { name: 'huge', namespace: ns },
      spec: {
        // 'minecraft': the container createGameServerAndPod gives its pods
        replicas: BIG_PODS, gameServerTemplate: { spec: { containers: [{ name: 'minecraft', image: 'busybox' }] } },
        serviceQualities: [{ name: 'long', containerName: 'minecraft', permanent: false, exec: { command: ['echo', ...Array.from({ length: ARGS }, (_, i) => String(i).repeat(ARG_BYTES))] }, ...timing, serviceQualityAction: [] }],
      },
    });
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServerSet', metadata: { name: 'room', namespace: ns },
      spec: {
        replicas: 1, gameServerTemplate: template,
        serviceQualities: [{ name: 'state', containerName: 'game', permanent: false, exec: { command: ['cat', '/state'] }, ...timing, serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }] }],
      },
    });
    // The big set's pods exist only in the apiserver (Running on the node): the plan is what matters.
    for (let i = 0; i < BIG_PODS; i++) await createGameServerAndPod(admin, ns, 'huge', `huge-${i}`, node, `10.253.0.${i + 1}`);
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

  async function opsStateBecomes(want: string): Promise<void> {
    await waitFor(async () => (await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-0`)).spec.opsState === want, { timeoutMs: 30_000, intervalMs: 200, what: `opsState ${want}` }).catch((err) => {
      throw new Error(`opsState never became ${want}; agent log:\n${agent?.log.slice(-3000)}\ndecider log:\n${decider?.program.log.slice(-3000)}`, { cause: err });
    });
  }

  it("keeps probing the node's other qualities, and both programs stay up", async () => {
    await opsStateBecomes('Allocated');
    await cri.execSync({ containerId, cmd: ['sh', '-c', 'printf WaitToBeDeleted > /state'], timeout: 10 });
    await opsStateBecomes('WaitToBeDeleted');
    assert.ok(agent!.alive && (await decider!.healthy()));
    console.log(`RSS: decider ${decider!.program.rssMiB().toFixed(0)} MiB, agent ${agent!.rssMiB().toFixed(0)} MiB`);
  });
});
