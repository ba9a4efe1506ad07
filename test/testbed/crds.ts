// Installs the OKG CRD fixtures (test/fixtures/crds/) and waits until they are served.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { httpGet } from './https-get.js';
import { parse } from 'yaml';
import { repoRoot } from './repo-root.js';
import { waitFor } from './wait-for.js';

const CRD_ESTABLISHED_TIMEOUT_MS = 30_000;

export function crdFixtureDir(): string {
  return join(repoRoot(import.meta.url), 'test', 'fixtures', 'crds');
}

export async function applyCrds(kc: KubeConfig, dir: string = crdFixtureDir()): Promise<string[]> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  const names: string[] = [];
  for (const file of files) {
    const crd = parse(readFileSync(join(dir, file), 'utf8')) as V1CustomResourceDefinition;
    // Posted as raw JSON: client-node's model would drop the x-kubernetes-* schema keys.
    const cluster = kc.getCurrentCluster()!;
    const res = await httpGet(`${cluster.server}/apis/apiextensions.k8s.io/v1/customresourcedefinitions`, {
      method: 'POST',
      body: JSON.stringify(crd),
      ca: cluster.caData ? Buffer.from(cluster.caData, 'base64') : undefined,
      token: kc.getCurrentUser()?.token,
    });
    if (res.status !== 201) throw new Error(`creating CRD ${crd.metadata!.name}: HTTP ${res.status}: ${res.body.slice(0, 1000)}`);
    names.push(crd.metadata!.name!);
    await waitFor(async () => {
      const current = await api.readCustomResourceDefinition({ name: crd.metadata!.name! });
      return current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True');
    }, { timeoutMs: CRD_ESTABLISHED_TIMEOUT_MS, what: `CRD ${crd.metadata!.name} Established` });
    const version = crd.spec.versions[0]!.name;
    // Established can precede the handler being routable: wait until a list answers.
    await waitFor(async () => {
      await custom.listClusterCustomObject({ group: crd.spec.group, version, plural: crd.spec.names.plural });
      return true;
    }, { timeoutMs: CRD_ESTABLISHED_TIMEOUT_MS, what: `CRD ${crd.metadata!.name} served` });
  }
  return names;
}
