// Where the chart and its scenario files are, found from the repository root (the directory holding
// package.json), so tests work wherever their compiled output lives.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../testbed/repo-root.js';

export { repoRoot };

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
