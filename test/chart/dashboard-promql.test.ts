// Every query of the Grafana dashboard is valid PromQL for promtool and runs on a real Prometheus
// (no decider here: the lead's e2e test proves they return data against a real decider).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { testbedEnv } from '../testbed/env.js';
import { startPrometheus, type RunningPrometheus } from '../testbed/prometheus.js';
import { dashboardQueries } from './dashboard-queries.js';
import { promtool } from './promtool.js';

describe('dashboard PromQL', () => {
  const queries = dashboardQueries();

  it('has queries', () => {
    assert.ok(queries.length >= 20, `${queries.length} queries`);
  });

  it('parses with promtool (every expression as a recording rule)', async () => {
    const dir = mkdtempSync(join(testbedEnv().workDir, 'dashboard-promql-'));
    const file = join(dir, 'dashboard-queries.rules.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: queries.map((q, i) => ({ record: `okgsq_dashboard_query_${i}`, expr: q.expr })) }] }));
    const res = await promtool(['check', 'rules', file]);
    assert.equal(res.code, 0, `${res.stdout}${res.stderr}\n${queries.map((q, i) => `${i}: [${q.panel}] ${q.expr}`).join('\n')}`);
  });

  describe('against a real Prometheus', () => {
    let prom: RunningPrometheus;
    before(async () => {
      prom = await startPrometheus({ targets: [] });
    });
    after(async () => {
      await prom?.stop();
    });

    it('every query runs with `promtool query instant` (no errors)', async () => {
      const failures: string[] = [];
      for (const q of queries) {
        const res = await promtool(['query', 'instant', prom.url, q.expr]);
        if (res.code !== 0) failures.push(`[${q.panel}] ${q.expr}: ${res.stderr.trim()}`);
      }
      assert.deepEqual(failures, []);
    });

    it('a broken query would be caught (the check can fail)', async () => {
      const res = await promtool(['query', 'instant', prom.url, 'sum by (le (rate(okgsq_batch_size_bucket[1m]))']);
      assert.notEqual(res.code, 0);
    });
  });
});
