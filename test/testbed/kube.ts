// Kubernetes helpers for tests running under the bed: the admin client config and fresh namespaces.
// No controllers run in a plain bed: nothing creates ServiceAccount `default` and deleted namespaces stay
// Terminating forever, hence one fresh namespace per test. (In a cluster bed the controller-manager may
// create `default` first.)
import { randomBytes } from 'node:crypto';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { testbedEnv } from './env.js';

export function adminKubeConfig(kubeconfigPath: string = testbedEnv().kubeconfig): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

const NAMESPACE_SUFFIX_BYTES = 3;

/** Creates `<prefix>-<random>` with ServiceAccount `default`, and returns its name. */
export async function createNamespace(prefix: string, kc: KubeConfig = adminKubeConfig()): Promise<string> {
  const core = kc.makeApiClient(CoreV1Api);
  const name = `${prefix}-${randomBytes(NAMESPACE_SUFFIX_BYTES).toString('hex')}`.toLowerCase();
  await core.createNamespace({ body: { metadata: { name } } });
  await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: 'default' } } }).catch((err: { code?: number }) => {
    if (err.code !== 409) throw err;
  });
  return name;
}
