// The seed's minecraft scenario end to end: the real agent (a child process) probing real containerd
// containers through the CRI, authenticated with a pod-bound token, and the decider writing the real
// apiserver. Kill gate in minecraft-0 → GateMaintaining; kill data in minecraft-1 → DataMaintaining;
// restore both → None.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningPod } from '../testbed/fake-kubelet.js';
import { waitFor } from '../testbed/wait-for.js';
import { E2eBed, GAME, must } from './e2e-kit.js';

const bed = new E2eBed();
const pods: RunningPod[] = [];

/** The seed's `healthy` quality, with the processes as pid files inside the container. */
const PROBE = 'for r in gate data; do [ -f /run/mc/$r.pid ] || { echo $r; exit 0; }; done; exit 1';
const GAME_MAIN = 'mkdir -p /run/mc; for r in gate data; do sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/$r.pid; done; while :; do wait; sleep 1; done';
const UNIT_SECONDS = 1;

before(async () => {
  await bed.prepare('e2e-mc');
  const { admin, ns } = bed;
  await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'minecraft', namespace: ns },
    spec: {
      replicas: 3,
      gameServerTemplate: { spec: { containers: [{ name: 'minecraft', image: 'busybox' }] } },
      serviceQualities: [
        {
          name: 'healthy',
          containerName: 'minecraft',
          permanent: false,
          exec: { command: ['/bin/sh', '-c', PROBE] },
          initialDelaySeconds: UNIT_SECONDS,
          periodSeconds: UNIT_SECONDS,
          timeoutSeconds: 2,
          successThreshold: 1,
          failureThreshold: 1,
          serviceQualityAction: [
            { state: true, result: 'gate', opsState: 'GateMaintaining' },
            { state: true, result: 'data', opsState: 'DataMaintaining' },
            { state: false, opsState: 'None' },
          ],
        },
      ],
    },
  });
  for (let i = 0; i < 3; i++) {
    const name = `minecraft-${i}`;
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
      apiVersion: 'game.kruise.io/v1alpha1',
      kind: 'GameServer',
      metadata: { name, namespace: ns, labels: { 'game.kruise.io/owner-gss': 'minecraft' } },
      spec: { opsState: 'None' },
    });
    pods.push(
      await bed.kubelet.runPod({
        namespace: ns,
        name,
        labels: { 'game.kruise.io/owner-gss': 'minecraft' },
        containers: [{ name: 'minecraft', command: ['/bin/sh', '-c', GAME_MAIN] }],
      }),
    );
  }
  await bed.start();
});

after(() => bed.stop());

async function opsStates(): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 3; i++) out.push((await bed.gameServer(`minecraft-${i}`)).spec.opsState);
  return out;
}

async function expectOpsStates(want: string[], what: string): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(async () => {
      last = await opsStates();
      return JSON.stringify(last) === JSON.stringify(want);
    }, { timeoutMs: 30_000, intervalMs: 200, what });
  } catch (err) {
    throw new Error(`${what}: opsStates ${JSON.stringify(last)}; agent log tail:\n${bed.agentLog.slice(-3000)}`, { cause: err });
  }
}

test('every GameServer gets its healthy condition from the agent (all processes up: None)', async () => {
  for (let i = 0; i < 3; i++) {
    await bed.waitForGameServer(`minecraft-${i}`, 'healthy=False (all up)', (gs) => gs.status?.serviceQualitiesConditions?.find((x: { name: string }) => x.name === 'healthy')?.status === 'False');
  }
  assert.deepEqual(await opsStates(), ['None', 'None', 'None']);
  const pod = await must(bed.admin, 'GET', `/api/v1/namespaces/${bed.ns}/pods/minecraft-0`);
  const cond = pod.status.conditions.find((c: { type: string }) => c.type === 'game.kruise.io/healthy');
  assert.equal(cond.reason, 'OkgSqProbe');
});

test('kill gate in minecraft-0 → GateMaintaining; kill data in minecraft-1 → DataMaintaining', async () => {
  await bed.exec(pods[0]!.containers[0]!.id, 'kill $(cat /run/mc/gate.pid); rm /run/mc/gate.pid');
  await expectOpsStates(['GateMaintaining', 'None', 'None'], 'minecraft-0 GateMaintaining');
  await bed.exec(pods[1]!.containers[0]!.id, 'kill $(cat /run/mc/data.pid); rm /run/mc/data.pid');
  await expectOpsStates(['GateMaintaining', 'DataMaintaining', 'None'], 'minecraft-1 DataMaintaining');
});

test('restore both → None again, and a steady state writes nothing more', async () => {
  await bed.exec(pods[0]!.containers[0]!.id, 'sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/gate.pid');
  await bed.exec(pods[1]!.containers[0]!.id, 'sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/data.pid');
  await expectOpsStates(['None', 'None', 'None'], 'all None');
  const d = bed.d!;
  await d.decider.batcher.drain();
  d.api.writes.length = 0;
  // Three more runs per pod reported by the agent later: still no object write.
  await bed.moreProbeRuns(9);
  await d.decider.batcher.drain();
  assert.deepEqual(d.api.objectWrites(), []);
});

test('the agent dies: its probes go stale (metric + Warning Event), nothing becomes False, nothing is written', async () => {
  const d = bed.d!;
  await d.decider.batcher.drain();
  d.api.writes.length = 0;
  bed.agent!.kill('SIGKILL');
  const staleLine = new RegExp(`^okgsq_probes_stale\\{namespace="${bed.ns}",gameserverset="minecraft"\\} 3$`, 'm');
  await waitFor(async () => staleLine.test(await (await fetch(`http://127.0.0.1:${d.decider.httpPort}/metrics`)).text()), {
    timeoutMs: 20_000,
    intervalMs: 200,
    what: 'okgsq_probes_stale = 3',
  });
  await waitFor(async () => {
    const events = await must(bed.admin, 'GET', `/api/v1/namespaces/${bed.ns}/events`);
    return events.items.some((e: { reason: string; type: string; involvedObject: { kind: string } }) => e.reason === 'ProbesStale' && e.type === 'Warning' && e.involvedObject.kind === 'GameServerSet');
  }, { timeoutMs: 10_000, what: 'the ProbesStale Warning Event' });
  await d.decider.batcher.drain();
  assert.deepEqual(await opsStates(), ['None', 'None', 'None']);
  assert.deepEqual(d.api.objectWrites().filter((w) => !w.includes('events')), [], 'staleness writes no GameServer or pod');
});
