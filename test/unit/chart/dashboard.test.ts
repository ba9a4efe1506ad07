// The shipped Grafana dashboard: importable anywhere (datasource as a variable), filterable by
// namespace and set, and covering what an operator looks at. Whether every query returns data is
// proven against a real Prometheus in the chart tier.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dashboardQueries, loadDashboard, substituteVariables } from '../../chart/dashboard-queries.js';

const dashboard = loadDashboard();
const templating = dashboard.templating.list as Array<Record<string, any>>;

/** Metric names each required view reads; a panel for it must query that metric. */
const REQUIRED_METRICS = {
  'GameServers by opsState': 'okgsq_gameservers',
  'actions applied per quality': 'okgsq_actions_applied_total',
  'probe outcomes and error kinds': 'okgsq_probe_runs_total',
  'probe duration percentiles': 'okgsq_probe_duration_seconds_bucket',
  'flip→patch latency percentiles': 'okgsq_flip_to_patch_seconds_bucket',
  'write rate and 429/409 rate': 'okgsq_kube_writes_total',
  'batch size': 'okgsq_batch_size_bucket',
  'queue depth': 'okgsq_write_queue_depth',
  'agents connected': 'okgsq_agents_connected',
  'stale probes': 'okgsq_probes_stale',
  'leader': 'okgsq_leader',
} as const;

describe('Grafana dashboard', () => {
  it('takes its Prometheus datasource from a variable, in every panel and query', () => {
    const ds = templating.find((v) => v.name === 'datasource');
    assert.ok(ds, 'a datasource variable');
    assert.equal(ds.type, 'datasource');
    assert.equal(ds.query, 'prometheus');
    const text = JSON.stringify(dashboard.panels);
    assert.doesNotMatch(text, /"uid":\s*"(?!\$\{datasource\})[^"]*"/, 'no hard-coded datasource uid in panels');
    for (const panel of dashboard.panels as Array<Record<string, any>>) {
      if (panel.type === 'row') continue;
      assert.deepEqual(panel.datasource, { type: 'prometheus', uid: '${datasource}' }, `panel ${panel.title}`);
      for (const t of panel.targets) assert.equal(t.datasource.uid, '${datasource}', `query of panel ${panel.title}`);
    }
  });

  it('has namespace and gameserverset variables (multi, All = .*) read from okg-sq metrics', () => {
    for (const name of ['namespace', 'gameserverset']) {
      const v = templating.find((x) => x.name === name);
      assert.ok(v, `variable ${name}`);
      assert.equal(v.type, 'query');
      assert.equal(v.datasource.uid, '${datasource}');
      assert.equal(v.includeAll, true);
      assert.equal(v.multi, true);
      assert.equal(v.allValue, '.*');
      assert.match(v.query.query, /^label_values\(okgsq_gameservers/);
    }
  });

  it('filters every per-set metric by the namespace and gameserverset variables', () => {
    const raw = (dashboard.panels as Array<Record<string, any>>).flatMap((p) => (p.targets ?? []).map((t: { expr: string }) => t.expr));
    const perSet = ['okgsq_gameservers', 'okgsq_actions_applied_total', 'okgsq_probe_runs_total', 'okgsq_probe_duration_seconds_bucket', 'okgsq_probes_stale', 'okgsq_invalid_qualities'];
    for (const metric of perSet) {
      const uses = raw.filter((e) => e.includes(`${metric}{`) || e.includes(`${metric}[`) || e.includes(`${metric})`));
      assert.ok(uses.length > 0, `${metric} is queried`);
      for (const e of uses) assert.match(e, new RegExp(`${metric}\\{namespace=~"\\$namespace", gameserverset=~"\\$gameserverset"`), e);
    }
  });

  it('covers every view an operator needs', () => {
    const queries = dashboardQueries();
    for (const [view, metric] of Object.entries(REQUIRED_METRICS)) {
      assert.ok(queries.some((q) => new RegExp(`\\b${metric}\\b`).test(q.expr)), `${view}: some panel queries ${metric}`);
    }
    assert.ok(queries.some((q) => /code=~"409\|429"/.test(q.expr)), '429/409 rate panel');
    assert.ok(queries.some((q) => /histogram_quantile\(0\.99, sum by \(le\) \(rate\(okgsq_flip_to_patch_seconds_bucket/.test(q.expr)), 'flip→patch p99');
  });

  it('has unique panel ids and titles, and panels that do not overlap', () => {
    const panels = dashboard.panels as Array<{ id: number; title: string; gridPos: { x: number; y: number; w: number; h: number } }>;
    assert.equal(new Set(panels.map((p) => p.id)).size, panels.length);
    assert.equal(new Set(panels.map((p) => p.title)).size, panels.length);
    const cells = new Set<string>();
    for (const p of panels) {
      assert.ok(p.gridPos.x + p.gridPos.w <= 24, `${p.title} fits the 24-column grid`);
      for (let x = p.gridPos.x; x < p.gridPos.x + p.gridPos.w; x++) {
        for (let y = p.gridPos.y; y < p.gridPos.y + p.gridPos.h; y++) {
          const cell = `${x},${y}`;
          assert.ok(!cells.has(cell), `${p.title} overlaps another panel at ${cell}`);
          cells.add(cell);
        }
      }
    }
  });

  it('substitutes variables the way Grafana does for All, and refuses unknown ones', () => {
    assert.equal(
      substituteVariables('rate(x{namespace=~"$namespace", gameserverset=~"${gameserverset}"}[$__rate_interval])', { rateInterval: '2m' }),
      'rate(x{namespace=~".*", gameserverset=~".*"}[2m])',
    );
    assert.throws(() => substituteVariables('x{pod=~"$pod"}'), /unknown variable \$pod/);
    for (const q of dashboardQueries()) assert.doesNotMatch(q.expr, /\$/, `${q.panel}: ${q.expr}`);
  });
});
