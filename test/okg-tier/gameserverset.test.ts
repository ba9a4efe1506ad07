// A GameServerSet applied as users write it (examples/minecraft, kubectl apply) is turned by OKG's own
// controllers into an Advanced StatefulSet, pods and GameServers: nothing here creates a GameServer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OkgBed, USERS } from './okg-kit.js';

test('kubectl apply of examples/minecraft: OKG makes the Advanced StatefulSet, its pods and one GameServer per pod, and a PodProbeMarker that kruise-manager processes', async () => {
  const bed = new OkgBed();
  try {
    const namespace = await bed.applyMinecraft('okg-gss');
    const pods = await bed.waitForReplicas(namespace, 3);
    assert.deepEqual([...pods.keys()].sort(), ['minecraft-0', 'minecraft-1', 'minecraft-2']);

    const asts = await bed.custom.getNamespacedCustomObject({ group: 'apps.kruise.io', version: 'v1beta1', namespace, plural: 'statefulsets', name: 'minecraft' }) as any;
    assert.equal(asts.metadata.ownerReferences?.[0]?.kind, 'GameServerSet', 'the Advanced StatefulSet belongs to the GameServerSet');
    for (const pod of pods.values()) {
      assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, 'StatefulSet', `${pod.metadata?.name} belongs to the Advanced StatefulSet`);
      assert.equal(pod.metadata?.ownerReferences?.[0]?.apiVersion, 'apps.kruise.io/v1beta1');
    }
    for (const gs of await bed.gameServers(namespace)) {
      assert.equal(gs.metadata.ownerReferences?.[0]?.kind, 'Pod', `GameServer ${gs.metadata.name} belongs to its pod`);
    }
    const creators = bed.audit(namespace).filter((e) => e.verb === 'create' && e.objectRef?.resource === 'gameservers' && !e.objectRef.subresource);
    assert.deepEqual(creators.map((e) => e.user.username), [USERS.kruiseGame, USERS.kruiseGame, USERS.kruiseGame], 'OKG created the three GameServers');

    const ppm = await bed.custom.getNamespacedCustomObject({ group: 'apps.kruise.io', version: 'v1alpha1', namespace, plural: 'podprobemarkers', name: 'minecraft' }) as any;
    assert.equal(ppm.spec.probes[0].name, 'healthy');
    assert.equal(ppm.status?.observedGeneration, ppm.metadata.generation, 'kruise-manager processed the PodProbeMarker');
  } finally {
    bed.close();
  }
});
