// The bed enforces RBAC for ServiceAccount tokens and issues pod-bound tokens whose TokenReview names the
// pod and node (the agent's identity), like a real cluster.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { testbedEnv } from '../../testbed/env.js';
import { FakeKubelet } from '../../testbed/fake-kubelet.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { waitFor } from '../../testbed/wait-for.js';

function tokenKubeConfig(admin: KubeConfig, token: string): KubeConfig {
  const kc = new KubeConfig();
  const cluster = admin.getCurrentCluster()!;
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: 'sa', token }],
    contexts: [{ name: 'sa', cluster: cluster.name, user: 'sa' }],
    currentContext: 'sa',
  });
  return kc;
}

test('a ServiceAccount token gets what its Role grants and 403 for the rest', async () => {
  const admin = adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const namespace = await createNamespace('tb-rbac', admin);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'reader' } } });
  await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'gs-reader' }, rules: [{ apiGroups: ['game.kruise.io'], resources: ['gameservers'], verbs: ['get', 'list'] }] } });
  await rbac.createNamespacedRoleBinding({ namespace, body: { metadata: { name: 'gs-reader' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'gs-reader' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace }] } });
  const tr = await core.createNamespacedServiceAccountToken({ name: 'reader', namespace, body: { spec: { audiences: [testbedEnv().serviceAccountIssuer] } } });
  const asReader = tokenKubeConfig(admin, tr.status!.token);

  const custom = asReader.makeApiClient(CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({ group: 'game.kruise.io', version: 'v1alpha1', namespace, plural: 'gameservers' })) as { items: unknown[] };
  assert.deepEqual(list.items, []);
  await assert.rejects(
    custom.createNamespacedCustomObject({ group: 'game.kruise.io', version: 'v1alpha1', namespace, plural: 'gameservers', body: { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name: 'x' } } }),
    (err: any) => err.code === 403,
  );
  await assert.rejects(asReader.makeApiClient(CoreV1Api).listNamespacedPod({ namespace }), (err: any) => err.code === 403);
  await assert.rejects(
    tokenKubeConfig(admin, 'not-a-token').makeApiClient(CoreV1Api).listNamespacedPod({ namespace }),
    (err: any) => err.code === 401,
  );
});

test('TokenRequest for a pod-bound token and TokenReview return the pod name, uid and node name', async () => {
  const env = testbedEnv();
  const admin = adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const namespace = await createNamespace('tb-token', admin);
  await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'okg-sq-agent' } } });
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: 'tb-token-node', kubeConfig: admin });
  try {
    const pod = await kubelet.runPod({ namespace, name: 'agent-x1', serviceAccountName: 'okg-sq-agent', containers: [{ name: 'agent', command: ['sleep', '3600'] }] });
    const tr = await core.createNamespacedServiceAccountToken({
      name: 'okg-sq-agent', namespace,
      body: { spec: { audiences: ['okg-sq'], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: pod.name, uid: pod.uid } } },
    });
    const auth = admin.makeApiClient(AuthenticationV1Api);
    const review = await auth.createTokenReview({ body: { spec: { token: tr.status!.token, audiences: ['okg-sq'] } } });
    assert.equal(review.status?.authenticated, true, review.status?.error);
    assert.equal(review.status?.user?.username, `system:serviceaccount:${namespace}:okg-sq-agent`);
    const extra = review.status?.user?.extra ?? {};
    assert.deepEqual(extra['authentication.kubernetes.io/pod-name'], [pod.name]);
    assert.deepEqual(extra['authentication.kubernetes.io/pod-uid'], [pod.uid]);
    assert.deepEqual(extra['authentication.kubernetes.io/node-name'], ['tb-token-node']);
    assert.deepEqual(review.status?.audiences, ['okg-sq']);

    const wrongAudience = await auth.createTokenReview({ body: { spec: { token: tr.status!.token, audiences: ['someone-else'] } } });
    assert.equal(wrongAudience.status?.authenticated ?? false, false);

    await kubelet.removePod(pod);
    // The apiserver checks the bound pod through its informer cache: allow it a moment to see the delete.
    await waitFor(async () => {
      const afterDelete = await auth.createTokenReview({ body: { spec: { token: tr.status!.token, audiences: ['okg-sq'] } } });
      return (afterDelete.status?.authenticated ?? false) === false;
    }, { timeoutMs: 15_000, what: 'the bound token to be refused after its pod was deleted' });
  } finally {
    await kubelet.close();
  }
});
