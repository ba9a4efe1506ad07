// `okg-sq explain` against the bed's API server as a user calls it: the namespace from -n or from the
// kubeconfig context, --context choosing another context than the current one, and -o json's shape.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import type { Explanation } from '../../../cli/explain.js';
import { OKGSQ_CONDITION_REASON } from '../../../common/okg-defaults.js';
import { testbedEnv } from '../../testbed/env.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { runCli } from '../../unit/cli/run-cli.js';

const GROUP = { group: 'game.kruise.io', version: 'v1alpha1' } as const;
const OWNER_LABEL = 'game.kruise.io/owner-gss';

describe('okg-sq explain on a cluster', () => {
  const admin = adminKubeConfig();
  let ns = '';
  let kubeconfig = '';

  before(async () => {
    ns = await createNamespace('okgsq-explain');
    const custom = admin.makeApiClient(CustomObjectsApi);
    await custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: ns,
      plural: 'gameserversets',
      body: {
        apiVersion: 'game.kruise.io/v1alpha1',
        kind: 'GameServerSet',
        metadata: { name: 'mc' },
        spec: {
          replicas: 1,
          gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
          serviceQualities: [{ name: 'idle', containerName: 'game', permanent: false, exec: { command: ['/idle.sh'] }, serviceQualityAction: [{ state: true, result: 'idle', opsState: 'WaitToBeDeleted' }] }],
        },
      },
    });
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: ns, plural: 'gameservers', body: { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name: 'mc-0', labels: { [OWNER_LABEL]: 'mc' } }, spec: { opsState: 'None' } } });
    const core = admin.makeApiClient(CoreV1Api);
    const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'mc-0', labels: { [OWNER_LABEL]: 'mc' } }, spec: { containers: [{ name: 'game', image: 'busybox' }] } } });
    // The outcome okg-sq would have written (no decider runs here): idle, which fires WaitToBeDeleted.
    const now = new Date();
    await core.replaceNamespacedPodStatus({ name: 'mc-0', namespace: ns, body: { ...pod, status: { phase: 'Running', conditions: [{ type: 'game.kruise.io/idle', status: 'True', reason: OKGSQ_CONDITION_REASON, message: 'idle', lastProbeTime: now, lastTransitionTime: now }] } } });
    // Two contexts: the current one points at nothing, "bed" at the bed with this namespace as its default.
    const cluster = admin.getCurrentCluster()!;
    const user = admin.getCurrentUser()!;
    kubeconfig = join(mkdtempSync(join(testbedEnv().workDir, 'explain-')), 'kubeconfig');
    writeFileSync(kubeconfig, stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'bed', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }, { name: 'gone', cluster: { server: 'https://127.0.0.1:1' } }],
      users: [{ name: 'admin', user: { token: user.token } }],
      contexts: [{ name: 'bed', context: { cluster: 'bed', user: 'admin', namespace: ns } }, { name: 'gone', context: { cluster: 'gone', user: 'admin' } }],
      'current-context': 'gone',
    }));
  });

  it('--context picks the context, and its namespace is the default (kubectl\'s rule); -o json has the documented shape', async () => {
    const r = await runCli(['explain', 'mc-0', '--context', 'bed', '--kubeconfig', kubeconfig, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as Explanation;
    assert.equal(e.version, 1);
    assert.deepEqual(e.gameServer, { namespace: ns, name: 'mc-0', opsState: 'None' });
    assert.equal(e.gameServerSet, 'mc');
    assert.equal(e.qualities.length, 1);
    const [q] = e.qualities;
    assert.equal(q!.latest?.writtenBy, 'okg-sq');
    assert.equal(q!.latest?.result, 'idle');
    assert.equal(q!.previous, null);
    assert.equal(q!.evaluation.fires, true);
    assert.deepEqual(q!.actions.map((a) => a.matches), [true]);
    assert.deepEqual(e.pending?.gameServerPatch, { spec: { opsState: 'WaitToBeDeleted' } });
    assert.deepEqual(Object.keys(e).sort(), ['gameServer', 'gameServerSet', 'invalidQualities', 'pending', 'qualities', 'staleReports', 'version']);
  });

  it('-n names the namespace; the text output is the same explanation', async () => {
    const r = await runCli(['explain', 'mc-0', '-n', ns, '--context', 'bed', '--kubeconfig', kubeconfig]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^GameServer ${ns}/mc-0: opsState "None"`));
    assert.match(r.stdout, /pending writes: GameServer patch \{"spec":\{"opsState":"WaitToBeDeleted"\}\}/);
  });

  it('without --context it uses the current context (here unreachable: exit 1 naming it); an unknown context is a usage error', async () => {
    const current = await runCli(['explain', `${ns}/mc-0`, '--kubeconfig', kubeconfig]);
    assert.equal(current.code, 1);
    assert.match(current.stderr, /cannot reach the Kubernetes API server https:\/\/127\.0\.0\.1:1/);
    const unknown = await runCli(['explain', `${ns}/mc-0`, '--context', 'nope', '--kubeconfig', kubeconfig]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--context "nope": no such context in .*kubeconfig \(it has: bed, gone\)/);
  });

  it('a namespace given twice, differently, is a usage error', async () => {
    const r = await runCli(['explain', `${ns}/mc-0`, '-n', 'other', '--context', 'bed', '--kubeconfig', kubeconfig]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`"${ns}/mc-0" and -n other name different namespaces`));
  });
});
