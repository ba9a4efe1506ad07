// A pod and its GameServer recreated under the same name (uid A → B) while the decider's write for A is in
// flight: the write must not land on B. The fault proxy holds the first write of A's flip (the pod
// condition) while the test deletes room-0 and makes it again; released, the write reaches the apiserver
// after B exists. Before the fix no patch carried a uid, so A's condition landed on pod B and B's new
// GameServer got A's opsState, label and status. Real apiserver (the bed's), the decider as a process,
// the real agent reporter (SimulatedAgent).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { KubeClient } from '../../decider/kube/kube-client.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { waitFor } from '../testbed/wait-for.js';
import type { FaultProxy, SeenRequest } from './fault-proxy.js';
import { DeciderProcess } from '../bad-input/bad-kit.js';
import {
  DOWN_LABEL,
  GAME,
  QUALITY,
  SimulatedAgent,
  agentToken,
  bedProxy,
  createArenaSet,
  createOwnedGameServer,
  must,
  showsAction,
  showsHealthy,
  waitAll,
} from './fault-kit.js';

const NODE = 'recreate-node';
const ROOM = 'room-0';

let admin: KubeClient;
let proxy: FaultProxy;
let decider: DeciderProcess;
let agent: SimulatedAgent;
let ns = '';

before(async () => {
  admin = new KubeClient(adminKubeConfig());
  ns = await createNamespace('fault-recreate');
  await createArenaSet(admin, ns);
  const token = await agentToken(admin, ns, NODE);
  const proxied = await bedProxy(ns);
  proxy = proxied.proxy;
  decider = await DeciderProcess.start(ns, { KUBECONFIG: proxied.kubeconfig });
  agent = new SimulatedAgent({ node: NODE, address: `127.0.0.1:${decider.grpcPort}`, token });
  agent.start();
});

after(async () => {
  await agent?.stop().catch(() => {});
  await decider?.program.stop().catch(() => {});
  await proxy?.close().catch(() => {});
  admin?.close();
});

const gameServer = (): Promise<any> => must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/${ROOM}`);
const podCondition = async (): Promise<any> =>
  (await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/${ROOM}`)).status?.conditions?.find((c: any) => c.type === `game.kruise.io/${QUALITY}`);

test("a write computed for pod A never lands on pod B recreated under its name, nor on B's GameServer", async (t) => {
  const uidA = await createOwnedGameServer(admin, ns, ROOM, NODE);
  agent.answer([uidA], 0, 'up');
  await waitAll(admin, ns, [ROOM], (gs) => showsHealthy(gs), 'A: first outcome written');

  // Hold the first write of A's flip (its pod condition) in the proxy.
  let release!: (go: boolean) => void;
  const held = new Promise<boolean>((resolve) => (release = resolve));
  let heldRequest: SeenRequest | undefined;
  proxy.setRule((r) => {
    if (heldRequest || r.method !== 'PATCH' || r.resource !== 'pods/status' || r.name !== ROOM) return undefined;
    heldRequest = r;
    return { kind: 'hold', until: held };
  });
  const mark = proxy.requests.length;
  agent.answer([uidA], 1, 'down-A');
  await waitFor(() => heldRequest, { timeoutMs: 15_000, what: "A's flip written (and held)" });
  assert.match(heldRequest!.body ?? '', /down-A/);

  // Meanwhile room-0 is deleted and made again: a new pod (uid B) and a new GameServer owned by it.
  await must(admin, 'DELETE', `/api/v1/namespaces/${ns}/pods/${ROOM}?gracePeriodSeconds=0`);
  await must(admin, 'DELETE', `${GAME}/namespaces/${ns}/gameservers/${ROOM}`);
  const uidB = await createOwnedGameServer(admin, ns, ROOM, NODE);
  assert.notEqual(uidB, uidA);
  agent.answer([uidB], 0, 'up');
  release(true);
  await waitFor(() => heldRequest!.status !== undefined, { timeoutMs: 10_000, what: 'the held write answered' });
  t.diagnostic(`A's held pod-condition write, delivered after B existed: HTTP ${heldRequest!.status}`);

  // B converges on its own outcome; nothing of A's ever reached it.
  await waitAll(admin, ns, [ROOM], (gs) => showsHealthy(gs) || showsAction(gs, 'down-A'), "B: its own first outcome written", 30_000);
  const gs = await gameServer();
  assert.equal(gs.metadata.uid !== undefined && gs.metadata.ownerReferences?.[0]?.uid, uidB);
  assert.equal(gs.spec.opsState, 'None', "B's GameServer never got A's opsState");
  assert.equal(gs.metadata.labels?.[DOWN_LABEL], undefined, "B's GameServer never got A's label");
  const cond = await podCondition();
  assert.equal(cond?.status, 'True', `pod B's condition is B's own outcome: ${JSON.stringify(cond)}`);
  assert.equal(cond?.message, 'up');
  const landedWithA = proxy.writes((r) => r.name === ROOM && (r.status ?? 0) >= 200 && (r.status ?? 0) < 300 && (r.body ?? '').includes('down-A'), mark);
  assert.deepEqual(landedWithA.map((r) => `${r.method} ${r.resource} ${r.status}`), [], "no write carrying A's result landed");
  assert.notEqual(heldRequest!.status, 200, "A's pod condition was refused on pod B");
});
