// The world changing under a write the fault proxy holds (real apiserver, the decider as a process, the
// real agent reporter in SimulatedAgent):
// - a pod and its GameServer recreated under the same name (uid A → B) while the decider's write for A is
//   in flight: the write must not land on B. Before the fix no patch carried a uid, so A's condition landed
//   on pod B and B's new GameServer got A's opsState, label and status.
// - an operator's opsState edit between the decider's spec and status writes of one action: the edit must
//   stand. The status write, bound to the version our spec write made, is refused 409; recomputing then
//   would fire the action again (the status does not record it yet) over the operator's edit.
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

/** Holds the decider's first PATCH of `resource` on `name` in the proxy until `release()`. */
function holdFirstPatch(resource: string, name: string): { readonly request: SeenRequest | undefined; release(): void } {
  let release!: (go: boolean) => void;
  const until = new Promise<boolean>((resolve) => (release = resolve));
  let request: SeenRequest | undefined;
  proxy.setRule((r) => {
    if (request || r.method !== 'PATCH' || r.resource !== resource || r.name !== name) return undefined;
    request = r;
    return { kind: 'hold', until };
  });
  return {
    get request() {
      return request;
    },
    release: () => release(true),
  };
}

test("a write computed for pod A never lands on pod B recreated under its name, nor on B's GameServer", async (t) => {
  const uidA = await createOwnedGameServer(admin, ns, ROOM, NODE);
  agent.answer([uidA], 0, 'up');
  await waitAll(admin, ns, [ROOM], (gs) => showsHealthy(gs), 'A: first outcome written');

  // Hold the first write of A's flip (its pod condition) in the proxy.
  const hold = holdFirstPatch('pods/status', ROOM);
  const mark = proxy.requests.length;
  agent.answer([uidA], 1, 'down-A');
  const heldRequest = await waitFor(() => hold.request, { timeoutMs: 15_000, what: "A's flip written (and held)" });
  assert.match(heldRequest.body ?? '', /down-A/);

  // Meanwhile room-0 is deleted and made again: a new pod (uid B) and a new GameServer owned by it.
  await must(admin, 'DELETE', `/api/v1/namespaces/${ns}/pods/${ROOM}?gracePeriodSeconds=0`);
  await must(admin, 'DELETE', `${GAME}/namespaces/${ns}/gameservers/${ROOM}`);
  const uidB = await createOwnedGameServer(admin, ns, ROOM, NODE);
  assert.notEqual(uidB, uidA);
  agent.answer([uidB], 0, 'up');
  hold.release();
  await waitFor(() => heldRequest.status !== undefined, { timeoutMs: 10_000, what: 'the held write answered' });
  t.diagnostic(`A's held pod-condition write, delivered after B existed: HTTP ${heldRequest.status}`);

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
  assert.notEqual(heldRequest.status, 200, "A's pod condition was refused on pod B");
});

test("an operator's opsState edit between the action's spec and status writes stands: the status is re-sent, the action not fired again", async () => {
  const room = 'room-1';
  const uid = await createOwnedGameServer(admin, ns, room, NODE);
  agent.answer([uid], 0, 'up');
  await waitAll(admin, ns, [room], (gs) => showsHealthy(gs), 'first outcome written');

  // Hold the status write of the flip's action; its pod condition and spec writes go through.
  const hold = holdFirstPatch('gameservers/status', room);
  const mark = proxy.requests.length;
  agent.answer([uid], 1, 'down');
  const heldRequest = await waitFor(() => hold.request, { timeoutMs: 15_000, what: "the action's status write (held)" });
  const path = `${GAME}/namespaces/${ns}/gameservers/${room}`;
  assert.equal((await must(admin, 'GET', path)).spec.opsState, 'Maintaining', 'the action landed in the spec before its status');

  await must(admin, 'PATCH', path, { spec: { opsState: 'Allocated' } }, 'application/merge-patch+json');
  hold.release();
  await waitFor(() => heldRequest.status !== undefined, { timeoutMs: 10_000, what: 'the held status write answered' });
  assert.equal(heldRequest.status, 409, 'the held write was bound to the version of our own spec write');

  const recorded = (gs: any) => gs?.status?.serviceQualitiesConditions?.find((c: any) => c.name === QUALITY)?.result === 'down';
  await waitAll(admin, ns, [room], recorded, 'the action recorded in the status');
  proxy.setRule(undefined);
  // Recomputed, the job would have written the spec again before this status.
  const gs = await must(admin, 'GET', path);
  assert.equal(gs.spec.opsState, 'Allocated', "the operator's edit stands");
  const specWrites = proxy.writes((r) => r.resource === 'gameservers' && r.name === room && (r.status ?? 0) >= 200 && (r.status ?? 0) < 300, mark);
  assert.equal(specWrites.length, 1, 'the action was written to the spec once');
});
