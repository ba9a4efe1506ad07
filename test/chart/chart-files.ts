// Where the chart and its scenario files are, found from the repository root (the directory holding
// package.json), so tests work wherever their compiled output lives.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function repoRoot(fromUrl: string = import.meta.url): string {
  let dir = dirname(fileURLToPath(fromUrl));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${fileURLToPath(fromUrl)}`);
    dir = parent;
  }
}

export const chartFiles = {
  root: (): string => repoRoot(),
  chartDir: (): string => join(repoRoot(), 'charts', 'okg-sq'),
  dashboard: (): string => join(repoRoot(), 'charts', 'okg-sq', 'dashboards', 'okg-sq.json'),
  alertRules: (): string => join(repoRoot(), 'charts', 'okg-sq', 'rules', 'okg-sq-alerts.yaml'),
  rulesTest: (): string => join(repoRoot(), 'test', 'chart', 'rules-test.yaml'),
  /** ci/*-values.yaml, the scenarios every chart test runs through. */
  ciValuesFiles: (): string[] => {
    const dir = join(repoRoot(), 'charts', 'okg-sq', 'ci');
    return readdirSync(dir)
      .filter((f) => f.endsWith('-values.yaml'))
      .sort()
      .map((f) => join(dir, f));
  },
} as const;
