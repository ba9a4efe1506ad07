// Reads the goldens test/okg-oracle/regenerate.sh writes from kruise-game's own code (gzip'd JSON lines:
// a header, then one case group per line).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { repoPath } from '../../testbed/repo-root.js';

export interface GoldenHeader {
  readonly kruiseGame: string;
  readonly go: string;
  readonly pairs?: number;
  readonly chains?: number;
}

export function readGolden<T>(name: string): { header: GoldenHeader; lines: T[] } {
  const text = gunzipSync(readFileSync(repoPath('test/fixtures/gss/template-golden', name))).toString('utf8');
  const [head, ...rest] = text.split('\n').filter((l) => l !== '');
  return { header: JSON.parse(head!) as GoldenHeader, lines: rest.map((l) => JSON.parse(l) as T) };
}
