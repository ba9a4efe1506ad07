// The pinned component versions, read from scripts/versions.env (the one place they are named), so the
// bed's TypeScript and the build scripts can never disagree.
import { readFileSync } from 'node:fs';
import { repoPath } from './repo-root.js';

export interface Versions {
  readonly KUBE_VERSION: string;
  readonly ETCD_VERSION: string;
  readonly HELM_VERSION: string;
  readonly KRUISE_GAME_VERSION: string;
  readonly KRUISE_GAME_GO_VERSION: string;
  readonly KRUISE_VERSION: string;
  readonly COREDNS_VERSION: string;
  readonly PROMETHEUS_OPERATOR_VERSION: string;
  readonly PROMETHEUS_MODULE_VERSION: string;
  readonly CRIO_VERSION: string;
  readonly NODE_VERSION: string;
  readonly NPM_VERSION: string;
  readonly DEBIAN_SUITE: string;
}

const LINE = /^([A-Z][A-Z0-9_]*)=(\S+)$/;

let cached: Versions | undefined;

export function versions(): Versions {
  if (cached) return cached;
  const file = repoPath('scripts', 'versions.env');
  const found: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`${file}: not a NAME=value line: ${JSON.stringify(line)}`);
    found[m[1]!] = m[2]!;
  }
  const names: (keyof Versions)[] = ['KUBE_VERSION', 'ETCD_VERSION', 'HELM_VERSION', 'KRUISE_GAME_VERSION', 'KRUISE_GAME_GO_VERSION', 'KRUISE_VERSION', 'COREDNS_VERSION', 'PROMETHEUS_OPERATOR_VERSION', 'PROMETHEUS_MODULE_VERSION', 'CRIO_VERSION', 'NODE_VERSION', 'NPM_VERSION', 'DEBIAN_SUITE'];
  for (const name of names) if (!found[name]) throw new Error(`${file}: ${name} is missing`);
  cached = Object.freeze(found as unknown as Versions);
  return cached;
}
