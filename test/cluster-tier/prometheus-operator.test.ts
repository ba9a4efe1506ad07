// Monitoring on the cluster bed as kube-prometheus-stack users run it: the release is upgraded with
// ci/monitoring-values.yaml (ServiceMonitor, PodMonitor, PrometheusRule), the real Prometheus Operator
// (built from its Go module, run on the host against the bed's API server) turns them into a Prometheus
// configuration, and a Prometheus with Kubernetes discovery runs exactly that configuration: it finds the
// decider pods through their metrics Service's endpoints and the agent pod through the PodMonitor, and
// scrapes the pods the kubelet runs. Every series keeps its own `namespace` (honorLabels) and carries the
// `pod` it came from. Enabling the monitors replaces no pod; the release is rolled back afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { startApiProxy, type ApiProxy } from '../chart/api-proxy.js';
import { chartFiles } from '../chart/chart-files.js';
import { helm } from '../chart/helm.js';
import {
  createPrometheusResource, hostConfigFromOperator, installOperatorCrds, monitoringBuild, prometheusVersion, startPrometheusOperator,
} from '../chart/prometheus-operator.js';
import { RELEASE_NAME } from '../testbed/cluster-bed.js';
import { createNamespace } from '../testbed/kube.js';
import type { ManagedProcess } from '../testbed/managed-process.js';
import { startPrometheus, type RunningPrometheus } from '../testbed/prometheus.js';
import { waitFor } from '../testbed/wait-for.js';
import { ClusterBed } from './cluster-kit.js';

/** ci/monitoring-values.yaml's selector label: what kube-prometheus-stack's Prometheus selects. */
const SELECTOR = { release: 'kube-prometheus-stack' };
const SCRAPE_TIMEOUT_MS = 120_000;

test('the Prometheus Operator scrapes the decider pods (ServiceMonitor) and the agent pod (PodMonitor) with their namespace and pod labels', async () => {
  const bed = new ClusterBed();
  const kubeconfig = { kubeconfig: bed.env.kubeconfig };
  const ns = ['--namespace', bed.releaseNamespace];
  const workDir = mkdtempSync(join(bed.env.workDir, 'prometheus-operator-'));
  let proxy: ApiProxy | undefined;
  let operator: ManagedProcess | undefined;
  let prom: RunningPrometheus | undefined;
  let revision = '';
  try {
    const built = monitoringBuild();
    await installOperatorCrds(bed.kc, built.crds, workDir);
    proxy = await startApiProxy(bed.kc);
    operator = await startPrometheusOperator(built.operator, proxy.url, workDir);
    const monitoringNs = await createNamespace('ct-monitoring', bed.kc);
    await createPrometheusResource(bed.kc, monitoringNs, 'k8s', prometheusVersion(built.prometheus), SELECTOR);
    const game = await bed.createGame('ct-metrics', 'arena', 1);

    const podUids = async (): Promise<string[]> => [...(await bed.pods('decider')), ...(await bed.pods('agent'))].map((p) => p.metadata!.uid!).sort();
    const before = await podUids();
    revision = JSON.parse((await helm(['history', RELEASE_NAME, ...ns, '-o', 'json'], kubeconfig)).stdout).at(-1).revision.toString();
    await helm([
      'upgrade', RELEASE_NAME, chartFiles.chartDir(), ...ns, '--reset-then-reuse-values',
      '--values', join(chartFiles.chartDir(), 'ci', 'monitoring-values.yaml'),
      '--set', 'metrics.serviceMonitor.interval=1s', '--set', 'metrics.agentPodMonitor.interval=1s', '--set', 'dashboard.namespace=',
      '--wait', '--timeout', '5m',
    ], kubeconfig);
    assert.deepEqual(await podUids(), before, 'enabling the monitors replaced no pod');

    const config = await hostConfigFromOperator(bed.kc, {
      namespace: monitoringNs, name: 'k8s', apiServer: proxy.url, workDir,
      wantJobs: [`serviceMonitor/${bed.releaseNamespace}/`, `podMonitor/${bed.releaseNamespace}/`], wantRuleText: 'OkgSqNoLeader',
    });
    prom = await startPrometheus({ targets: [], config, workDir, bin: built.prometheus });

    const deciders = (await bed.readyPods('decider')).map((p) => p.metadata!.name!).sort();
    const [agent] = await bed.readyPods('agent');
    assert.equal(deciders.length, 2);
    assert.ok(agent);
    await prom.waitForTargetsUp(SCRAPE_TIMEOUT_MS, 3);
    const targets = (await prom.api('/api/v1/targets?state=active')).activeTargets as { labels: Record<string, string>; scrapePool: string }[];
    const byPool = (prefix: string): Record<string, string>[] => targets.filter((t) => t.scrapePool.startsWith(prefix)).map((t) => t.labels);
    assert.deepEqual(byPool('serviceMonitor/').map((l) => [l.namespace, l.service, l.pod]).sort(), deciders.map((d) => [bed.releaseNamespace, `${RELEASE_NAME}-decider-metrics`, d]));
    assert.deepEqual(byPool('podMonitor/').map((l) => [l.namespace, l.pod, l.node]), [[bed.releaseNamespace, agent.metadata!.name, bed.cluster.nodeName]]);

    // Both decider pods' own series, labelled with the pod they came from: one leads.
    const leader = await bed.leader();
    const leaders = await waitFor(async () => {
      const s = await prom!.query('okgsq_leader');
      return s.length === 2 ? s : undefined;
    }, { timeoutMs: SCRAPE_TIMEOUT_MS, intervalMs: 500, what: 'okgsq_leader from both decider pods' });
    assert.deepEqual(leaders.map((s) => [s.metric.namespace, s.metric.pod, s.value]).sort(), deciders.map((d) => [bed.releaseNamespace, d, d === leader ? 1 : 0]));
    // The agent pod's series, with its pod and node.
    const agentSeries = await waitFor(async () => {
      const s = await prom!.query('okgsq_agent_stream_connected');
      return s.length === 1 && s[0]!.value === 1 ? s : undefined;
    }, { timeoutMs: SCRAPE_TIMEOUT_MS, intervalMs: 500, what: 'okgsq_agent_stream_connected 1 from the agent pod' });
    assert.deepEqual([agentSeries[0]!.metric.namespace, agentSeries[0]!.metric.pod, agentSeries[0]!.metric.node], [bed.releaseNamespace, agent.metadata!.name, bed.cluster.nodeName]);
    // The leader's per-set series keep the game's namespace (honorLabels), not the release's.
    await bed.setState(game, 'arena-0', 'Maintaining');
    await bed.waitForOpsState(game, 'arena-0', 'Maintaining');
    // Every replica's cache counts them, the standby's too, each on its own watch and scrape: wait until
    // both pods' last scrapes show the change, then every series is the game's, from a decider pod.
    const perSet = await waitFor(async () => {
      const s = await prom!.query(`okgsq_gameservers{namespace="${game}",gameserverset="arena"} > 0`);
      const settled = s.length === deciders.length && s.every((x) => x.metric.ops_state === 'Maintaining');
      return settled && s.some((x) => x.metric.pod === leader) ? s : undefined;
    }, { timeoutMs: SCRAPE_TIMEOUT_MS, intervalMs: 500, what: `okgsq_gameservers of ${game}/arena from both decider pods: 1 Maintaining` });
    assert.deepEqual(perSet.map((s) => [s.metric.namespace, s.metric.pod, s.metric.ops_state, s.value]).sort(), deciders.map((d) => [game, d, 'Maintaining', 1]));
    assert.deepEqual(await prom.query('count({exported_namespace!=""})'), [], 'no series renamed its namespace');
  } finally {
    await prom?.stop();
    await operator?.stop();
    await proxy?.close();
    if (revision) await helm(['rollback', RELEASE_NAME, revision, ...ns, '--wait', '--timeout', '5m'], kubeconfig);
    bed.close();
  }
});
