// The shipped Grafana dashboard: importable anywhere (datasource as a variable), filterable by
// namespace and set, and covering what an operator looks at. Whether every query returns data is
// proven against a real Prometheus in the chart tier.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { REJECT_REASONS } from '../../../decider/ingest/ports.js';
import { dashboardPanels, dashboardQueries, loadDashboard, substituteVariables } from '../../chart/dashboard-queries.js';
import { repoPath } from '../../testbed/repo-root.js';

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
  'agent CPU and RSS': 'okgsq_agent_stream_connected',
  'CRI errors by method and code': 'okgsq_agent_cri_calls_total',
  'refused agent streams': 'okgsq_agent_streams_refused_total',
  'throttled outcomes': 'okgsq_outcomes_throttled_total',
  'stale probes per node': 'okgsq_node_probes_stale',
  'connected agents compared with the nodes that need one': 'okgsq_planned_nodes',
} as const;

/** Metrics the dashboard reads that okg-sq does not export (kube-state-metrics, prom-client's process metrics). */
const FOREIGN_METRICS = new Set(['kube_daemonset_status_desired_number_scheduled', 'process_cpu_seconds_total', 'process_resident_memory_bytes']);

/** Every metric name the decider and the agent register, from their sources. */
function exportedMetrics(): Set<string> {
  const names = new Set<string>();
  for (const file of ['decider/metrics.ts', 'agent/metrics.ts']) {
    for (const m of readFileSync(repoPath(file), 'utf8').matchAll(/\bname(?::| =) '(okgsq_\w+)'/g)) names.add(m[1]!);
  }
  return names;
}

/** Selectors (`metric{…}` or a bare metric name) of an expression, with their matchers. */
function selectors(expr: string): { metric: string; matchers: string }[] {
  const out: { metric: string; matchers: string }[] = [];
  for (const m of expr.matchAll(/\b([a-z_][a-z0-9_]*)(\{[^}]*\})?/g)) {
    const name = m[1]!;
    if (!/^(okgsq_|process_|kube_)/.test(name)) continue;
    out.push({ metric: name, matchers: m[2] ?? '' });
  }
  return out;
}

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

  it('has a cluster variable (All = .*, which also matches series without a cluster label) before namespace and set', () => {
    const names = templating.map((v) => v.name);
    assert.deepEqual(names, ['datasource', 'cluster', 'namespace', 'gameserverset']);
    const cluster = templating.find((v) => v.name === 'cluster')!;
    assert.equal(cluster.type, 'query');
    assert.equal(cluster.includeAll, true);
    assert.equal(cluster.allValue, '.*');
    assert.match(cluster.query.query, /^label_values\(okgsq_\w+, cluster\)$/);
    for (const name of ['namespace', 'gameserverset']) {
      assert.match(templating.find((v) => v.name === name)!.query.query, /cluster=~"\$cluster"/, `${name} values follow the cluster`);
    }
  });

  it('filters every query by $cluster', () => {
    const raw = (dashboard.panels as Array<Record<string, any>>).flatMap((p) => (p.targets ?? []).map((t: { expr: string }) => t.expr as string));
    for (const e of raw) {
      for (const sel of selectors(e)) assert.match(sel.matchers, /cluster=~"\$cluster"/, `${sel.metric} in ${e}`);
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
      for (const e of uses) assert.match(e, new RegExp(`${metric}\\{cluster=~"\\$cluster", namespace=~"\\$namespace", gameserverset=~"\\$gameserverset"`), e);
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

  it('queries only metrics okg-sq exports (or kube-state-metrics / process metrics, named)', () => {
    const exported = exportedMetrics();
    assert.ok(exported.has('okgsq_leader') && exported.has('okgsq_agent_cri_calls_total'), 'read the metric names from the sources');
    const unknown = new Set<string>();
    for (const q of dashboardQueries()) {
      for (const { metric } of selectors(q.expr)) {
        const base = metric.replace(/_(bucket|sum|count)$/, '');
        if (!exported.has(metric) && !exported.has(base) && !FOREIGN_METRICS.has(metric)) unknown.add(`${metric} (${q.panel})`);
      }
    }
    assert.deepEqual([...unknown], []);
  });

  it('shows actions as counts per interval or range (increase), never as a rate, and never by the result-derived ops_state', () => {
    const actions = dashboardPanels().filter((p) => (p.targets ?? []).some((t) => t.expr?.includes('okgsq_actions_applied_total')));
    assert.ok(actions.length >= 2, 'a time series and a total');
    for (const p of actions) {
      for (const t of p.targets ?? []) {
        if (!t.expr?.includes('okgsq_actions_applied_total')) continue;
        assert.match(t.expr, /increase\(okgsq_actions_applied_total\{[^}]*\}\[\$__(interval|range)\]\)/, `${p.title}: ${t.expr}`);
        assert.doesNotMatch(t.expr, /ops_state/, `${p.title}: ops_state is derived from probe results (cardinality); not a panel label`);
      }
      // Counts per $__interval need at least two scrapes inside each interval.
      if ((p.targets ?? []).some((t) => t.expr?.includes('[$__interval]'))) assert.ok(p.interval, `${p.title} sets a minimum interval`);
    }
  });

  it('describes the rejected outcomes with the reasons the decider has, and only those', () => {
    const panel = dashboardPanels().find((p) => (p.targets ?? []).some((t) => t.expr?.includes('okgsq_outcomes_rejected_total')));
    assert.ok(panel?.description);
    const named = [...panel.description.matchAll(/\b([a-z]+(?:_[a-z]+)+|unplanned|invalid)\b =/g)].map((m) => m[1]);
    assert.deepEqual(named.sort(), [...REJECT_REASONS].sort(), panel.description);
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
    assert.equal(substituteVariables('increase(x{cluster=~"$cluster"}[$__range])', { range: '6h', cluster: 'eu' }), 'increase(x{cluster=~"eu"}[6h])');
    for (const q of dashboardQueries()) assert.doesNotMatch(q.expr, /\$/, `${q.panel}: ${q.expr}`);
  });
});
