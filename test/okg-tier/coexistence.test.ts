// okg-sq beside OpenKruiseGame's own controllers (docs/operations.md, "Living beside OpenKruiseGame"):
// okg-sq installed by its chart, kruise-daemon's probing off as the guide says (PodProbeMarkerGate=false
// on kruise-daemon only), OKG's GameServer controller running. The minecraft scenario flips each
// GameServer once per change, OKG never reverts it, nobody writes a settled pod or GameServer, and OKG,
// reconciling, computes the serviceQualitiesConditions okg-sq wrote.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OKGSQ_CONDITION_REASON } from '../../common/okg-defaults.js';
import { httpGet } from '../testbed/https-get.js';
import { waitFor } from '../testbed/wait-for.js';
import { ADMIN_USER, describeWrites, okgQualityFromPod, OkgBed, requireOkgMode, SCENARIO_SEQUENCES } from './okg-kit.js';

const KRUISE_GAME_METRICS_PORT = 8080;

/** controller_runtime_reconcile_total of kruise-game-manager's gameserver controller. */
async function okgReconciles(bed: OkgBed): Promise<number> {
  const pods = await bed.core.listNamespacedPod({ namespace: 'kruise-game-system', labelSelector: 'control-plane=controller-manager' });
  const ip = pods.items.find((p) => p.status?.phase === 'Running')?.status?.podIP;
  assert.ok(ip, 'kruise-game-manager pod IP');
  const res = await httpGet(`http://${ip}:${KRUISE_GAME_METRICS_PORT}/metrics`);
  let sum = 0;
  for (const m of res.body.matchAll(/^controller_runtime_reconcile_total\{controller="gameserver-controller",result="[^"]*"\} (\S+)$/gm)) sum += Number(m[1]);
  return sum;
}

test('beside OKG\'s controllers: the minecraft scenario flips each GameServer once per change, OKG never reverts it, nothing writes a settled pod or GameServer, and OKG computes the same serviceQualitiesConditions', async () => {
  requireOkgMode('probing-off');
  const bed = new OkgBed('probing-off');
  const decider = bed.deciderUser();
  try {
    const namespace = await bed.applyMinecraft('okg-coexist');
    await bed.waitForReplicas(namespace, 3);
    // okg-sq publishes the first real outcome (all processes up: state false → opsState None).
    await bed.waitForFirstOutcomes(namespace, ['minecraft-0', 'minecraft-1', 'minecraft-2'], ['healthy']);
    const recorder = await bed.recordOpsStates(namespace);
    try {
      await bed.ctl(namespace, 'minecraft-0', 'kill-gate', 'minecraft-0');
      await bed.ctl(namespace, 'minecraft-1', 'kill-data', 'minecraft-1');
      await bed.waitForOpsState(namespace, 'minecraft-0', 'GateMaintaining');
      await bed.waitForOpsState(namespace, 'minecraft-1', 'DataMaintaining');
      await bed.assertQuietAfterSettling(namespace, ['minecraft-0', 'minecraft-1', 'minecraft-2']);

      const flipped = new Date();
      await bed.ctl(namespace, 'minecraft-0', 'start', 'minecraft-0');
      await bed.ctl(namespace, 'minecraft-1', 'start', 'minecraft-1');
      await bed.waitForOpsState(namespace, 'minecraft-0', 'None');
      await bed.waitForOpsState(namespace, 'minecraft-1', 'None');
      await bed.assertQuietAfterSettling(namespace, ['minecraft-0', 'minecraft-1', 'minecraft-2']);

      const specWrites = bed.audit(namespace, flipped).filter((e) => e.objectRef?.resource === 'gameservers' && !e.objectRef.subresource && e.verb !== 'create');
      assert.ok(specWrites.some((e) => e.user.username === decider), `okg-sq's decider wrote the GameServers: ${describeWrites(specWrites).join('; ')}`);
      // kruise-daemon and kruise-manager do write pods/status (kruise-daemon its container-meta annotation,
      // kruise-manager its readiness conditions), never the quality's condition: no field of it is theirs.
      for (const name of ['minecraft-0', 'minecraft-1', 'minecraft-2']) {
        const pod = await bed.core.readNamespacedPod({ namespace, name });
        const kruiseOwned = (pod.metadata?.managedFields ?? []).filter((m) => m.manager?.startsWith('kruise-') && JSON.stringify(m.fieldsV1 ?? {}).includes('game.kruise.io/healthy'));
        assert.deepEqual(kruiseOwned.map((m) => m.manager), [], `${name}: kruise owns no field of condition game.kruise.io/healthy`);
        assert.equal(pod.status?.conditions?.find((c) => c.type === 'game.kruise.io/healthy')?.reason, OKGSQ_CONDITION_REASON, `${name}: the condition is okg-sq's`);
      }
    } finally {
      recorder.stop();
    }
    assert.deepEqual(Object.fromEntries(recorder.sequences), SCENARIO_SEQUENCES, 'each change flipped opsState once, and nothing reverted it');

    // OKG's computation from the pod conditions okg-sq wrote equals what is stored …
    for (const gs of await bed.gameServers(namespace)) {
      const pod = await bed.core.readNamespacedPod({ namespace, name: gs.metadata.name });
      const stored = gs.status.serviceQualitiesConditions.map((c: any) => ({ name: c.name, status: c.status, result: c.result ?? '', lastProbeTime: c.lastProbeTime ?? '' }));
      assert.deepEqual(stored, [okgQualityFromPod(pod, 'healthy')], `${gs.metadata.name}: status.serviceQualitiesConditions as OKG derives them from the pod`);
    }
    // … and OKG's controller itself agrees: made to reconcile every GameServer (the test's annotation, the
    // only write left out below), it writes nothing. (The bed's kubelet writes pod status as the admin too.)
    const before = await okgReconciles(bed);
    const touched = new Date();
    for (const name of ['minecraft-0', 'minecraft-1', 'minecraft-2']) await bed.kubectlRun('-n', namespace, 'annotate', 'gameserver', name, `okgsq.test/touch=${Date.now()}`);
    await waitFor(async () => (await okgReconciles(bed)) >= before + 3, { timeoutMs: 120_000, intervalMs: 500, what: 'OKG\'s GameServer controller to reconcile the touched GameServers' });
    const okgWrites = bed.audit(namespace, touched).filter((e) => !(e.user.username === ADMIN_USER && e.objectRef?.resource === 'gameservers' && !e.objectRef.subresource));
    assert.deepEqual(describeWrites(okgWrites), [], 'reconciling, OKG and okg-sq found nothing to change');
  } finally {
    bed.close();
  }
});
