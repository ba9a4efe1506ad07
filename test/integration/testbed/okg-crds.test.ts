// The bed's apiserver serves the OKG CRDs like a real cluster: create, merge patch on spec, status
// subresource, unknown fields pruned, wrong types rejected.
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parseServiceQualities } from '../../../rules/schema.js';
import { okgCrdDir } from '../../testbed/crds.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { repoPath } from '../../testbed/repo-root.js';

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

// `okg-sq check` validates a set's shape with the schema generated from this very CRD
// (rules/okg-crd-schema.gen.ts): for each shape, the API server and parseServiceQualities agree.
test("the API server and okg-sq's shape check agree on what OKG's CRD accepts", async () => {
  const api = adminKubeConfig().makeApiClient(CustomObjectsApi);
  const namespace = await createNamespace('tb-crd-shape', adminKubeConfig());
  const shapes: { name: string; change: (q: any) => void; accepted: boolean }[] = [
    { name: 'valid', change: () => {}, accepted: true },
    { name: 'unknown-field', change: (q) => (q.probeEvery = 5), accepted: true },
    { name: 'no-permanent', change: (q) => delete q.permanent, accepted: false },
    { name: 'no-name', change: (q) => delete q.name, accepted: false },
    { name: 'action-without-state', change: (q) => delete q.serviceQualityAction[0].state, accepted: false },
    { name: 'period-string', change: (q) => (q.periodSeconds = '5'), accepted: false },
    { name: 'period-float', change: (q) => (q.periodSeconds = 1.5), accepted: false },
    // int32 is a format the API server does not enforce on integers: okg-sq does not either.
    { name: 'period-over-int32', change: (q) => (q.periodSeconds = 2 ** 40), accepted: true },
    { name: 'priority-float', change: (q) => (q.serviceQualityAction[0].deletionPriority = 1.5), accepted: false },
    { name: 'label-number', change: (q) => (q.serviceQualityAction[0].labels = { a: 1 }), accepted: false },
    { name: 'command-string', change: (q) => (q.exec.command = 'echo ok'), accepted: false },
    { name: 'grpc-named-port', change: (q) => { delete q.exec; q.grpc = { port: 'game' }; }, accepted: false },
    { name: 'header-without-value', change: (q) => { delete q.exec; q.httpGet = { port: 8080, httpHeaders: [{ name: 'x' }] }; }, accepted: false },
    { name: 'container-without-name', change: (q) => (q.serviceQualityAction[0].containers = [{ image: 'game:2' }]), accepted: false },
    { name: 'bad-quantity', change: (q) => (q.serviceQualityAction[0].containers = [{ name: 'game', resources: { limits: { cpu: 'lots' } } }]), accepted: false },
  ];
  for (const shape of shapes) {
    const body = gameServerSet(`shape-${shape.name}`);
    const quality = (body.spec as any).serviceQualities[0];
    delete quality.notAProbeField;
    shape.change(quality);
    const apiAccepts = await api.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameserversets', body }).then(
      () => true,
      (err: any) => {
        assert.equal(err.code, 422, `${shape.name}: ${String(err.body)}`);
        return false;
      },
    );
    const shapeErrors = parseServiceQualities(body).problems.filter((p) => p.severity === 'error' && (p.code === 'WrongType' || p.code === 'MissingField' || p.code === 'InvalidValue'));
    assert.equal(apiAccepts, shape.accepted, `${shape.name}: the API server`);
    assert.equal(shapeErrors.length === 0, shape.accepted, `${shape.name}: okg-sq's shape check, ${JSON.stringify(shapeErrors)}`);
  }
});

test('rules/okg-crd-schema.gen.ts is what scripts/okg-crd-schema.mjs makes of this CRD', () => {
  // Fails (exit 1, naming the file) when the committed module and the CRD differ: regenerate with `npm run crd-schema:gen`.
  execFileSync(process.execPath, [repoPath('scripts', 'okg-crd-schema.mjs'), '--check', '--crds', okgCrdDir()], { stdio: ['ignore', 'inherit', 'inherit'] });
});
