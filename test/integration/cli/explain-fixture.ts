// What `okg-sq explain` reads, on the plain bed (no decider runs there): GameServerSet `mc` with one
// quality `idle`, GameServer `mc-0` (opsState None) and its pod carrying the outcome okg-sq would have
// written (idle, which fires WaitToBeDeleted), in a fresh namespace; and a kubeconfig with three contexts:
// `gone` (current, unreachable), `bed` (the bed, that namespace as its default) and `bed-default` (the
// bed, no namespace of its own).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { stringify } from 'yaml';
import { OKGSQ_CONDITION_REASON } from '../../../common/okg-defaults.js';
import { testbedEnv } from '../../testbed/env.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';

const GROUP = { group: 'game.kruise.io', version: 'v1alpha1' } as const;
const OWNER_LABEL = 'game.kruise.io/owner-gss';
/** The unreachable server of the current context `gone`. */
export const GONE_SERVER = 'https://127.0.0.1:1';

export async function explainFixture(prefix: string): Promise<{ namespace: string; kubeconfig: string }> {
  const admin = adminKubeConfig();
  const namespace = await createNamespace(prefix);
  const custom = admin.makeApiClient(CustomObjectsApi);
  await custom.createNamespacedCustomObject({
    ...GROUP,
    namespace,
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
  await custom.createNamespacedCustomObject({ ...GROUP, namespace, plural: 'gameservers', body: { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name: 'mc-0', labels: { [OWNER_LABEL]: 'mc' } }, spec: { opsState: 'None' } } });
  const core = admin.makeApiClient(CoreV1Api);
  const pod = await core.createNamespacedPod({ namespace, body: { metadata: { name: 'mc-0', labels: { [OWNER_LABEL]: 'mc' } }, spec: { containers: [{ name: 'game', image: 'busybox' }] } } });
  const now = new Date();
  await core.replaceNamespacedPodStatus({ name: 'mc-0', namespace, body: { ...pod, status: { phase: 'Running', conditions: [{ type: 'game.kruise.io/idle', status: 'True', reason: OKGSQ_CONDITION_REASON, message: 'idle', lastProbeTime: now, lastTransitionTime: now }] } } });
  const cluster = admin.getCurrentCluster()!;
  const user = admin.getCurrentUser()!;
  const kubeconfig = join(mkdtempSync(join(testbedEnv().workDir, `${prefix}-`)), 'kubeconfig');
  writeFileSync(kubeconfig, stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'bed', cluster: { server: cluster.server, 'certificate-authority-data': cluster.caData } }, { name: 'gone', cluster: { server: GONE_SERVER } }],
    users: [{ name: 'admin', user: { token: user.token } }],
    contexts: [
      { name: 'bed', context: { cluster: 'bed', user: 'admin', namespace } },
      { name: 'bed-default', context: { cluster: 'bed', user: 'admin' } },
      { name: 'gone', context: { cluster: 'gone', user: 'admin' } },
    ],
    'current-context': 'gone',
  }));
  return { namespace, kubeconfig };
}
