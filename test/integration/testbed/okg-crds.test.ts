// The bed's apiserver serves the OKG CRDs like a real cluster: create, merge patch on spec, status
// subresource, unknown fields pruned, wrong types rejected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';

const GROUP = 'game.kruise.io';
const VERSION = 'v1alpha1';
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function gameServerSet(name: string): Record<string, unknown> {
  return {
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'GameServerSet',
    metadata: { name },
    spec: {
      replicas: 1,
      gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'game:1' }] } },
      serviceQualities: [{
        name: 'healthy',
        containerName: 'game',
        permanent: false,
        exec: { command: ['/bin/sh', '-c', 'echo ok'] },
        periodSeconds: 5,
        serviceQualityAction: [{ state: true, result: 'idle', opsState: 'WaitToBeDeleted', deletionPriority: 10, updatePriority: '20%', labels: { a: 'b' } }],
        notAProbeField: 'pruned',
      }],
    },
  };
}

test('GameServerSet and GameServer: create, merge patch, status subresource, pruning and type checks', async () => {
  const kc = adminKubeConfig();
  const api = kc.makeApiClient(CustomObjectsApi);
  const namespace = await createNamespace('tb-crds', kc);

  const gss = (await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameserversets', body: gameServerSet('minecraft') })) as any;
  const quality = gss.spec.serviceQualities[0];
  assert.equal(quality.exec.command[2], 'echo ok');
  assert.equal(quality.serviceQualityAction[0].deletionPriority, 10, 'IntOrString keeps an integer');
  assert.equal(quality.serviceQualityAction[0].updatePriority, '20%', 'IntOrString keeps a string');
  assert.equal('notAProbeField' in quality, false, 'unknown fields are pruned');

  const bad = gameServerSet('bad');
  (bad.spec as any).serviceQualities[0].periodSeconds = 'often';
  await assert.rejects(
    api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameserversets', body: bad }),
    (err: any) => err.code === 422 && /periodSeconds/.test(String(err.body)),
  );
  const missingPermanent = gameServerSet('no-permanent');
  delete (missingPermanent.spec as any).serviceQualities[0].permanent;
  await assert.rejects(
    api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameserversets', body: missingPermanent }),
    (err: any) => err.code === 422 && /permanent/.test(String(err.body)),
  );

  const gs = { apiVersion: `${GROUP}/${VERSION}`, kind: 'GameServer', metadata: { name: 'minecraft-0', labels: { 'game.kruise.io/owner-gss': 'minecraft' } }, spec: { opsState: 'None' } };
  await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameservers', body: gs });

  const patched = (await api.patchNamespacedCustomObject(
    { group: GROUP, version: VERSION, namespace, plural: 'gameservers', name: 'minecraft-0', body: { spec: { opsState: 'Maintaining', deletionPriority: 5 }, status: { currentState: 'Ready' } } },
    mergePatch,
  )) as any;
  assert.equal(patched.spec.opsState, 'Maintaining');
  assert.equal(patched.spec.deletionPriority, 5);
  assert.equal(patched.status, undefined, 'status is a subresource: the main resource ignores it');

  const withStatus = (await api.patchNamespacedCustomObjectStatus(
    {
      group: GROUP, version: VERSION, namespace, plural: 'gameservers', name: 'minecraft-0',
      body: { status: { serviceQualitiesConditions: [{ name: 'healthy', status: 'True', result: 'idle', lastProbeTime: '2026-11-25T20:00:00Z', lastActionTransitionTime: '2026-11-25T20:00:00Z', bogus: 1 }] } },
    },
    mergePatch,
  )) as any;
  const condition = withStatus.status.serviceQualitiesConditions[0];
  assert.deepEqual(condition, { name: 'healthy', status: 'True', result: 'idle', lastProbeTime: '2026-11-25T20:00:00Z', lastActionTransitionTime: '2026-11-25T20:00:00Z' });
  assert.equal(withStatus.spec.opsState, 'Maintaining', 'a status patch leaves spec alone');

  await assert.rejects(
    api.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameservers', name: 'minecraft-0', body: { spec: { networkDisabled: 'yes' } } }, mergePatch),
    (err: any) => err.code === 422,
  );
});
