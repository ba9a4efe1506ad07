// Installs CRDs and waits until they are served: by default OpenKruiseGame's own game.kruise.io CRDs, taken
// from the released kruise-game Go module (KRUISE_GAME_VERSION of scripts/versions.env) by
// scripts/build-testbed.sh into the bed's cache, never committed.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApiextensionsV1Api, CustomObjectsApi, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { httpGet } from './https-get.js';
import { parse } from 'yaml';
import { repoPath } from './repo-root.js';
import { waitFor } from './wait-for.js';

const CRD_ESTABLISHED_TIMEOUT_MS = 30_000;

let okgCrds: string | undefined;

/** The folder of OKG's CRDs (game.kruise.io_gameservers.yaml, game.kruise.io_gameserversets.yaml), fetched once. */
export function okgCrdDir(): string {
  if (okgCrds) return okgCrds;
  const out = execFileSync('bash', [repoPath('scripts', 'build-testbed.sh'), 'okg-crds'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const dir = /^okg-crds=(.+)$/m.exec(out)?.[1];
  if (!dir) throw new Error(`scripts/build-testbed.sh okg-crds did not report the CRDs' folder:\n${out}`);
  okgCrds = dir;
  return dir;
}

export async function applyCrds(kc: KubeConfig, dir: string = okgCrdDir()): Promise<string[]> {
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
