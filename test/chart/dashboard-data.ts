// Whether the dashboard's queries return data from a real Prometheus: each query on its own (a panel with
// two queries, one of them empty, would hide a broken one), with Grafana's variables substituted.
import type { RunningPrometheus } from '../testbed/prometheus.js';
import { waitFor } from '../testbed/wait-for.js';
import { dashboardQueries, type DashboardQuery, type DashboardVariables } from './dashboard-queries.js';

/**
 * Queries of metrics the bed does not have by design, named so a missing series elsewhere is never
 * excused: kube-state-metrics' DaemonSet counts (the "Agents connected vs. desired" panel shows them
 * when kube-state-metrics is installed; the decider's own okgsq_planned_nodes beside them always).
 */
export const NOT_IN_BED = /\bkube_daemonset_status_/;

/** Waits until every selected dashboard query returns at least one sample; the error lists the empty ones. */
export async function waitForDashboardData(
  prom: RunningPrometheus,
  options: { vars?: DashboardVariables; only?: (q: DashboardQuery) => boolean; timeoutMs: number },
): Promise<DashboardQuery[]> {
  const queries = dashboardQueries(options.vars).filter((q) => !NOT_IN_BED.test(q.expr) && (options.only?.(q) ?? true));
  let empty: string[] = [];
  try {
    await waitFor(async () => {
      empty = [];
      for (const q of queries) if ((await prom.query(q.expr)).length === 0) empty.push(`[${q.panel}] ${q.expr}`);
      return empty.length === 0;
    }, { timeoutMs: options.timeoutMs, intervalMs: 1000, what: 'data for every dashboard query' });
  } catch (err) {
    throw new Error(`dashboard queries without data:\n${empty.join('\n')}`, { cause: err });
  }
  return queries;
}
