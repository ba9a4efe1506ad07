// OKG's operations beside okg-sq (docs/operations.md, "Living beside OpenKruiseGame"): okg-sq installed by
// its chart, kruise-daemon's probing off, OKG's controllers running, one GameServerSet applied as users
// write it (examples/minecraft with an `idle` quality, `permanent: true`, and `updateStrategy: OnDelete`).
// The tests run in order on that set, each watching every opsState change (each happens once, none is
// reverted):
// - permanent: idle → WaitToBeDeleted once; the probe turning back (and again) changes nothing;
// - an operator's `kubectl patch` of opsState stands (nobody writes back) until the probe's result changes;
// - scale-up: the new pods are probed and their actions apply; scale-down: OKG removes the WaitToBeDeleted
//   GameServer first, okg-sq writes nothing to the removed objects, fails no write, and its metrics drop them;
// - an image update with OnDelete: nothing changes until a pod is deleted; its replacement runs the new
//   image and is probed, the old pods keep their probes, actions apply on both.
// What OKG's own controllers do in these situations, read in their source: docs/design.md, "OKG's operations
// the OKG tier relies on"; okg-sq matches it.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { after, before, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { OKGSQ_CONDITION_REASON } from '../../common/okg-defaults.js';
import { waitFor } from '../testbed/wait-for.js';
import { ADMIN_USER, describeWrites, FLIP_TIMEOUT_MS, MINECRAFT_IMAGE, OkgBed, POD_TIMEOUT_MS, requireOkgMode, USERS, type AuditEvent } from './okg-kit.js';

const QUALITIES = ['healthy', 'idle'];
/** OKG copies a GameServer's opsState into this pod label (SyncGsToPod); scale-down reads it. */
const OPS_STATE_LABEL = 'game.kruise.io/gs-opsState';

/** The example with the test's set-up: `replicas`, the example image `version`, OnDelete, and the idle quality. */
function minecraftSet(replicas: number, version: string): (gss: any) => void {
  return (gss) => {
    gss.spec.replicas = replicas;
    // kruise-game copies `type` to the Advanced StatefulSet, unless rollingUpdate is set (then RollingUpdate).
    gss.spec.updateStrategy = { type: 'OnDelete' };
    gss.spec.gameServerTemplate.spec.containers[0].image = MINECRAFT_IMAGE(version);
    // An idle room (the game writes /tmp/idle) is to be deleted: OKG's idle example (service_qualities.md),
    // made permanent: the action happens once.
    gss.spec.serviceQualities.push({
      name: 'idle', containerName: 'minecraft', permanent: true,
      exec: { command: ['/usr/bin/test', '-e', '/tmp/idle'] },
      initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 2, successThreshold: 1, failureThreshold: 1,
      serviceQualityAction: [{ state: true, opsState: 'WaitToBeDeleted' }],
    });
  };
}

let bed: OkgBed;
let namespace: string;

before(async () => {
  requireOkgMode('probing-off');
  bed = new OkgBed('probing-off');
  namespace = await bed.applyMinecraft('okg-ops', minecraftSet(3, '1.0'));
  await bed.waitForReplicas(namespace, 3);
  await bed.waitForFirstOutcomes(namespace, ['minecraft-0', 'minecraft-1', 'minecraft-2'], QUALITIES);
});

after(() => bed?.close());

/** Watches opsState over `body`, then asserts each GameServer's sequence (its state at the start first). */
async function expectSequences(body: () => Promise<void>, expected: Record<string, string[]>): Promise<void> {
  const recorder = await bed.recordOpsStates(namespace);
  try {
    await body();
  } finally {
    recorder.stop();
  }
  assert.deepEqual(Object.fromEntries(recorder.sequences), expected, 'each change flipped opsState once, and nothing reverted it');
}

function isSpecWrite(e: AuditEvent): boolean {
  return e.objectRef?.resource === 'gameservers' && !e.objectRef.subresource && e.verb !== 'create' && e.verb !== 'delete';
}

/** The writes of the pod's conditions (pods/status) by `user` since `since`. */
function conditionWrites(since: Date, pod: string, user: string): AuditEvent[] {
  return bed.audit(namespace, since).filter((e) => e.user.username === user && e.objectRef?.name === pod && e.objectRef.resource === 'pods' && e.objectRef.subresource === 'status');
}

function qualityCondition(gs: any, name: string): any {
  return gs.status?.serviceQualitiesConditions?.find((c: any) => c.name === name);
}

async function waitForQualityStatus(name: string, quality: string, status: string): Promise<any> {
  return waitFor(async () => {
    const gs = await bed.gameServer(namespace, name);
    return qualityCondition(gs, quality)?.status === status ? gs : false;
  }, { timeoutMs: FLIP_TIMEOUT_MS, intervalMs: 250, what: `${name}'s quality ${quality} ${status}` });
}

test('permanent: idle → WaitToBeDeleted once, and it stays when the probe turns back; an operator\'s opsState patch stands until the probe\'s result changes; OKG reverts neither', async () => {
  await expectSequences(async () => {
    await bed.exec(namespace, 'minecraft-2', '/usr/bin/touch', '/tmp/idle');
    await bed.waitForOpsState(namespace, 'minecraft-2', 'WaitToBeDeleted');
    const fired = qualityCondition(await bed.gameServer(namespace, 'minecraft-2'), 'idle').lastActionTransitionTime;
    assert.ok(fired, 'the action time is recorded');
    const turnedBack = new Date();
    await bed.exec(namespace, 'minecraft-2', '/usr/bin/rm', '/tmp/idle');
    const back = await waitForQualityStatus('minecraft-2', 'idle', 'False');
    assert.equal(qualityCondition(back, 'idle').lastActionTransitionTime, fired, 'a permanent quality keeps its action time: it does not fire again');

    // The operator's edit, as OKG's docs do it. OKG copies it onto the pod's label; nobody writes it back.
    const patched = new Date();
    await bed.kubectlRun('-n', namespace, 'patch', 'gameserver', 'minecraft-1', '--type=merge', '-p', '{"spec":{"opsState":"Maintaining"}}');
    await waitFor(async () => (await bed.core.readNamespacedPod({ namespace, name: 'minecraft-1' })).metadata?.labels?.[OPS_STATE_LABEL] === 'Maintaining',
      { timeoutMs: FLIP_TIMEOUT_MS, intervalMs: 250, what: 'OKG to copy the patched opsState onto minecraft-1\'s label' });
    await bed.assertQuietAfterSettling(namespace, ['minecraft-1', 'minecraft-2']);
    const others = bed.audit(namespace, patched).filter((e) => e.objectRef?.name === 'minecraft-1'
      && !(e.user.username === ADMIN_USER && isSpecWrite(e))
      && !(e.user.username === USERS.kruiseGame && e.objectRef.resource === 'pods' && !e.objectRef.subresource));
    assert.deepEqual(describeWrites(others), [], 'after the operator\'s patch only OKG\'s label copy wrote minecraft-1\'s objects');
    assert.equal((await bed.gameServer(namespace, 'minecraft-1')).spec.opsState, 'Maintaining');

    // The probe's results change again: the action applies to minecraft-1 as OKG's would; minecraft-2's
    // permanent quality records the new result and fires nothing.
    await bed.ctl(namespace, 'minecraft-1', 'kill-data', 'minecraft-1');
    await bed.exec(namespace, 'minecraft-2', '/usr/bin/touch', '/tmp/idle');
    await bed.waitForOpsState(namespace, 'minecraft-1', 'DataMaintaining');
    const again = await waitForQualityStatus('minecraft-2', 'idle', 'True');
    assert.equal(qualityCondition(again, 'idle').lastActionTransitionTime, fired, 'still the first action time');
    await bed.ctl(namespace, 'minecraft-1', 'start', 'minecraft-1');
    await bed.waitForOpsState(namespace, 'minecraft-1', 'None');
    // OKG's controller may still be reconciling the action itself from a cache that had not seen okg-sq's
    // write (docs/design.md §4): it then patches the same opsState, which changes nothing. Nothing else.
    const repeatsTheAction = (e: AuditEvent): boolean => e.user.username === USERS.kruiseGame && isDeepStrictEqual(e.requestObject, { spec: { opsState: 'WaitToBeDeleted' } });
    const afterAction = bed.audit(namespace, turnedBack).filter((e) => e.objectRef?.name === 'minecraft-2' && isSpecWrite(e));
    assert.deepEqual(describeWrites(afterAction.filter((e) => !repeatsTheAction(e))), [], 'nobody wrote minecraft-2\'s GameServer after its action');
    assert.equal((await bed.gameServer(namespace, 'minecraft-2')).spec.opsState, 'WaitToBeDeleted');
  }, {
    'minecraft-0': ['None'],
    'minecraft-1': ['None', 'Maintaining', 'DataMaintaining', 'None'],
    'minecraft-2': ['None', 'WaitToBeDeleted'],
  });
});

/** okgsq_kube_writes_total of the leader decider that did not succeed (its Lease's and Events left out), by "resource verb code". */
async function failedDeciderWrites(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { labels, value } of await bed.deciderMetric('okgsq_kube_writes_total')) {
    if (labels.resource === 'leases' || labels.resource === 'events' || labels.code!.startsWith('2')) continue;
    const key = `${labels.resource} ${labels.verb} ${labels.code}`;
    out[key] = (out[key] ?? 0) + value;
  }
  return out;
}

/** okgsq_gameservers of the set, by opsState (zero series left out). */
async function gameServersMetric(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { labels, value } of await bed.deciderMetric('okgsq_gameservers')) {
    if (labels.namespace === namespace && labels.gameserverset === 'minecraft' && value > 0) out[labels.ops_state!] = value;
  }
  return out;
}

test('scale-up: the new pods are probed and their actions apply; scale-down: OKG removes the WaitToBeDeleted GameServer first, and okg-sq writes nothing to the removed objects, fails no write, and drops them from its metrics', async () => {
  const decider = bed.deciderUser();
  await expectSequences(async () => {
    const scaledUp = new Date();
    await bed.applyGss(namespace, minecraftSet(5, '1.0'));
    await bed.waitForReplicas(namespace, 5);
    await bed.waitForFirstOutcomes(namespace, ['minecraft-3', 'minecraft-4'], QUALITIES);
    for (const name of ['minecraft-3', 'minecraft-4']) {
      const pod = await bed.core.readNamespacedPod({ namespace, name });
      assert.equal(pod.status?.conditions?.find((c) => c.type === 'game.kruise.io/healthy')?.reason, OKGSQ_CONDITION_REASON, `${name}: okg-sq probes the new pod`);
    }
    await bed.ctl(namespace, 'minecraft-3', 'kill-gate', 'minecraft-3');
    await bed.waitForOpsState(namespace, 'minecraft-3', 'GateMaintaining');
    assert.ok(conditionWrites(scaledUp, 'minecraft-3', decider).length > 0, 'the decider (found by its user) wrote the new pod\'s condition');
    await waitFor(async () => sum(await gameServersMetric()) === 5, { timeoutMs: FLIP_TIMEOUT_MS, intervalMs: 500, what: 'okgsq_gameservers to count 5' });
    const failedBefore = await failedDeciderWrites();

    const scaledDown = new Date();
    await bed.applyGss(namespace, minecraftSet(3, '1.0'));
    // OKG deletes by opsState (WaitToBeDeleted before None and custom states), then the highest ordinal.
    const pods = await bed.waitForReplicas(namespace, 3);
    assert.deepEqual([...pods.keys()].sort(), ['minecraft-0', 'minecraft-1', 'minecraft-3']);
    const removed = ['minecraft-2', 'minecraft-4'];
    await waitFor(async () => {
      const all = await bed.custom.listNamespacedCustomObject({ group: 'game.kruise.io', version: 'v1alpha1', namespace, plural: 'gameservers' });
      return (all.items as any[]).every((gs) => !removed.includes(gs.metadata.name));
    }, { timeoutMs: POD_TIMEOUT_MS, intervalMs: 500, what: `GameServers ${removed.join(', ')} gone` });
    await waitFor(async () => {
      const byState = await gameServersMetric();
      return sum(byState) === 3 && !('WaitToBeDeleted' in byState) ? byState : false;
    }, { timeoutMs: FLIP_TIMEOUT_MS, intervalMs: 500, what: 'okgsq_gameservers to drop the removed GameServers' });

    for (const name of removed) {
      const events = bed.auditAll(namespace, scaledDown).filter((e) => e.objectRef?.name === name);
      const deleted = events.find((e) => e.objectRef?.resource === 'pods' && e.verb === 'delete' && !e.objectRef.subresource);
      assert.ok(deleted, `${name}'s pod was deleted: ${describeWrites(events).join('; ')}`);
      const late = events.filter((e) => e.user.username === decider && e.requestReceivedTimestamp >= deleted.requestReceivedTimestamp);
      assert.deepEqual(describeWrites(late), [], `okg-sq wrote nothing to ${name}'s pod or GameServer once the pod was being deleted`);
    }
    assert.deepEqual(await failedDeciderWrites(), failedBefore, 'okg-sq counted no failed write');
    const refused = bed.auditAll(namespace, scaledDown).filter((e) => e.user.username === decider && (e.responseStatus?.code ?? 0) >= 300);
    assert.deepEqual(describeWrites(refused), [], 'the API server refused none of okg-sq\'s writes');
  }, {
    'minecraft-0': ['None'],
    'minecraft-1': ['None'],
    'minecraft-2': ['WaitToBeDeleted'],
    'minecraft-3': ['None', 'GateMaintaining'],
    'minecraft-4': ['None'],
  });
});

function sum(byState: Record<string, number>): number {
  return Object.values(byState).reduce((a, b) => a + b, 0);
}

function image(pod: V1Pod): string | undefined {
  return pod.spec?.containers.find((c) => c.name === 'minecraft')?.image;
}

test('image update with OnDelete: nothing changes until a pod is deleted; its replacement runs the new image and is probed, the old pods keep their probes, actions apply on both', async () => {
  const decider = bed.deciderUser();
  const oldPods = await bed.waitForReplicas(namespace, 3);
  await expectSequences(async () => {
    const readAsts = async (): Promise<any> => bed.custom.getNamespacedCustomObject({ group: 'apps.kruise.io', version: 'v1beta1', namespace, plural: 'statefulsets', name: 'minecraft' });
    const revision = (await readAsts()).status?.updateRevision;
    const updated = new Date();
    await bed.applyGss(namespace, minecraftSet(3, '1.1'));
    await waitFor(async () => {
      const asts = await readAsts();
      return asts.spec.updateStrategy?.type === 'OnDelete' && asts.spec.template.spec.containers[0].image === MINECRAFT_IMAGE('1.1')
        && asts.status?.observedGeneration === asts.metadata.generation && asts.status.updateRevision !== revision;
    }, { timeoutMs: FLIP_TIMEOUT_MS, intervalMs: 500, what: 'the Advanced StatefulSet to take the new image (a new revision), OnDelete' });
    for (const [name, pod] of await bed.waitForReplicas(namespace, 3)) {
      assert.equal(pod.metadata?.uid, oldPods.get(name)!.metadata?.uid, `${name} is the same pod`);
      assert.equal(image(pod), MINECRAFT_IMAGE('1.0'), `${name} still runs the old image`);
    }

    // The operator deletes minecraft-0 (OnDelete); its replacement runs 1.1 with a GameServer made by OKG.
    await bed.kubectlRun('-n', namespace, 'delete', 'pod', 'minecraft-0', '--wait=true');
    await waitFor(async () => {
      const fresh = await bed.core.readNamespacedPod({ namespace, name: 'minecraft-0' }).catch(() => undefined);
      if (!fresh || fresh.metadata?.uid === oldPods.get('minecraft-0')!.metadata?.uid) return false;
      const gs = await bed.gameServer(namespace, 'minecraft-0').catch(() => undefined);
      return gs?.metadata?.ownerReferences?.[0]?.uid === fresh.metadata?.uid;
    }, { timeoutMs: POD_TIMEOUT_MS, intervalMs: 1000, what: 'minecraft-0 replaced, with its GameServer made by OKG' });
    const pods = await bed.waitForReplicas(namespace, 3);
    assert.equal(image(pods.get('minecraft-0')!), MINECRAFT_IMAGE('1.1'), 'the replacement runs the new image');
    assert.equal(image(pods.get('minecraft-1')!), MINECRAFT_IMAGE('1.0'));
    await bed.waitForFirstOutcomes(namespace, ['minecraft-0'], QUALITIES);
    assert.ok(conditionWrites(updated, 'minecraft-0', decider).length > 0, 'the decider (found by its user) wrote the replacement\'s conditions');
    // The old pods' probes carried on: okg-sq had nothing to write for them.
    const oldWrites = bed.audit(namespace, updated).filter((e) => ['minecraft-1', 'minecraft-3'].includes(e.objectRef?.name ?? '') && e.user.username === decider);
    assert.deepEqual(describeWrites(oldWrites), [], 'okg-sq wrote nothing to the old pods or their GameServers because of the update');

    await bed.ctl(namespace, 'minecraft-0', 'kill-data', 'minecraft-0');
    await bed.ctl(namespace, 'minecraft-1', 'kill-gate', 'minecraft-1');
    await bed.waitForOpsState(namespace, 'minecraft-0', 'DataMaintaining');
    await bed.waitForOpsState(namespace, 'minecraft-1', 'GateMaintaining');
    for (const name of ['minecraft-0', 'minecraft-1', 'minecraft-3']) await bed.ctl(namespace, name, 'start', name);
    for (const name of ['minecraft-0', 'minecraft-1', 'minecraft-3']) await bed.waitForOpsState(namespace, name, 'None');
  }, {
    'minecraft-0': ['None', 'DataMaintaining', 'None'],
    'minecraft-1': ['None', 'GateMaintaining', 'None'],
    'minecraft-3': ['GateMaintaining', 'None'],
  });
});
