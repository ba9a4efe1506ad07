// Every PromQL expression of the chart's Grafana dashboard, with Grafana's variables substituted as
// Grafana would for "All" selections, so the queries can be parsed and run against a real Prometheus.
import { readFileSync } from 'node:fs';
import { chartFiles } from './chart-files.js';

export interface DashboardQuery {
  /** Panel title (row titles excluded). */
  panel: string;
  expr: string;
}

export interface DashboardVariables {
  /** Regex for $cluster; default ".*" (All: also matches series without a cluster label). */
  cluster?: string;
  /** Regex for $namespace; default ".*" (the variables' allValue). */
  namespace?: string;
  /** Regex for $gameserverset; default ".*". */
  gameserverset?: string;
  /** Replaces $__rate_interval and $__interval; default "1m". */
  rateInterval?: string;
  /** Replaces $__range (the dashboard's time range); default: rateInterval. */
  range?: string;
}

export interface Panel {
  type: string;
  title?: string;
  description?: string;
  interval?: string;
  targets?: { expr?: string }[];
  panels?: Panel[];
}

/** The dashboard JSON as shipped in the chart. */
export function loadDashboard(): Record<string, any> {
  return JSON.parse(readFileSync(chartFiles.dashboard(), 'utf8')) as Record<string, any>;
}

export function substituteVariables(expr: string, vars: DashboardVariables = {}): string {
  const interval = vars.rateInterval ?? '1m';
  const values: Record<string, string> = {
    cluster: vars.cluster ?? '.*',
    namespace: vars.namespace ?? '.*',
    gameserverset: vars.gameserverset ?? '.*',
    __rate_interval: interval,
    __interval: interval,
    __range: vars.range ?? interval,
  };
  // ${name}, ${name:fmt} and $name; longest names first so $__rate_interval is not read as $__range.
  return expr.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = values[name];
    if (value === undefined) throw new Error(`dashboard query uses unknown variable ${whole}: ${expr}`);
    return value;
  });
}

function collectPanels(panels: readonly Panel[], out: Panel[]): Panel[] {
  for (const p of panels) {
    if (p.type !== 'row') out.push(p);
    if (p.panels) collectPanels(p.panels, out);
  }
  return out;
}

/** Every panel (rows excluded, collapsed rows' panels included). */
export function dashboardPanels(): Panel[] {
  return collectPanels((loadDashboard().panels ?? []) as Panel[], []);
}

/** All panels' expressions (rows and collapsed rows included), variables substituted. */
export function dashboardQueries(vars: DashboardVariables = {}): DashboardQuery[] {
  const dashboard = loadDashboard();
  const queries: DashboardQuery[] = [];
  for (const panel of collectPanels((dashboard.panels ?? []) as Panel[], [])) {
    for (const target of panel.targets ?? []) {
      if (!target.expr) continue;
      queries.push({ panel: panel.title ?? '(untitled)', expr: substituteVariables(target.expr, vars) });
    }
  }
  return queries;
}
