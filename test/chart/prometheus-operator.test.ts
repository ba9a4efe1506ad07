// The chart's monitoring as kube-prometheus-stack users run it: the real Prometheus Operator (built from
// its Go module) turns the chart's ServiceMonitor, PodMonitor and PrometheusRule (ci/monitoring-values.yaml)
// into a Prometheus configuration; a Prometheus on this host (built from its Go module: Debian's has no
// Kubernetes discovery) runs exactly that configuration against the bed (discovery through the API
// server), scraping the real decider and agent of the release. Then every
// dashboard query returns data, each set keeps its own `namespace` (no exported_namespace: honorLabels),
// and the alerts fire with the game namespace in their labels.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { testbedEnv } from '../testbed/env.js';
import { FakeKubelet } from '../testbed/fake-kubelet.js';
import { freePort } from '../testbed/free-port.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import type { ManagedProcess } from '../testbed/managed-process.js';
import { startPrometheus, type RunningPrometheus } from '../testbed/prometheus.js';
import { waitFor } from '../testbed/wait-for.js';
import { startApiProxy, type ApiProxy } from './api-proxy.js';
import { helmInstall, helmUninstall, releaseManifest, setPodRunning, startChartAgent, startChartDecider, type RunningDecider } from './bed-release.js';
import { chartFiles } from './chart-files.js';
import { waitForDashboardData } from './dashboard-data.js';
import { dashboardQueries } from './dashboard-queries.js';
import type { KubeObject } from './helm.js';
import {
  createPrometheusResource,
  hostConfigFromOperator,
  installOperatorCrds,
  monitoringBuild,
  prometheusVersion,
  startPrometheusOperator,
} from './prometheus-operator.js';

const GROUP = { group: 'game.kruise.io', version: 'v1alpha1' } as const;
const OWNER_LABEL = 'game.kruise.io/owner-gss';
/** ci/monitoring-values.yaml's selector label: what kube-prometheus-stack's Prometheus selects. */
const SELECTOR = { release: 'kube-prometheus-stack' };
const TARGETS_UP_TIMEOUT_MS = 60_000;
const DATA_TIMEOUT_MS = 60_000;
const ALERT_TIMEOUT_MS = 60_000;
const GAME_MAIN = 'while :; do sleep 1; done';

/** An address of this host other than loopback (Endpoints refuse loopback addresses), where the programs listen. */
function hostAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  throw new Error('no non-loopback IPv4 address on this host');
}

interface Alert {
  labels: Record<string, string>;
  state: string;
}

describe('chart monitoring through the Prometheus Operator', () => {
  const env = testbedEnv();
  const admin = adminKubeConfig();
  const core = admin.makeApiClient(CoreV1Api);
  const custom = admin.makeApiClient(CustomObjectsApi);
  const nodeName = `chart-po-${randomBytes(3).toString('hex')}`;
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName, kubeConfig: admin });
  const ip = hostAddress();
  const workDir = mkdtempSync(join(env.workDir, 'prometheus-operator-'));
  let proxy: ApiProxy | undefined;
  let operator: ManagedProcess | undefined;
  let decider: RunningDecider | undefined;
  let agent: ManagedProcess | undefined;
  let prom: RunningPrometheus | undefined;
  let releaseNs = '';
  let gamesA = '';
  let gamesB = '';

  /** A GameServerSet `minecraft` with `replicas` GameServers and their running pods in `namespace`. */
  async function gameServers(namespace: string, replicas: number, quality: Record<string, unknown>): Promise<void> {
    await custom.createNamespacedCustomObject({
      ...GROUP,
      namespace,
      plural: 'gameserversets',
      body: {
        apiVersion: 'game.kruise.io/v1alpha1',
        kind: 'GameServerSet',
        metadata: { name: 'minecraft' },
        spec: { replicas, gameServerTemplate: { spec: { containers: [{ name: 'minecraft', image: 'busybox' }] } }, serviceQualities: [{ containerName: 'minecraft', permanent: false, initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 2, successThreshold: 1, failureThreshold: 1, ...quality }] },
      },
    });
    for (let i = 0; i < replicas; i++) {
      const name = `minecraft-${i}`;
      await custom.createNamespacedCustomObject({ ...GROUP, namespace, plural: 'gameservers', body: { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name, labels: { [OWNER_LABEL]: 'minecraft' } }, spec: { opsState: 'None' } } });
      await kubelet.runPod({ namespace, name, labels: { [OWNER_LABEL]: 'minecraft' }, containers: [{ name: 'minecraft', command: ['/bin/sh', '-c', GAME_MAIN] }] });
    }
  }

  /** The decider's pod and the metrics Service's Endpoints, as the kubelet and the endpoints controller would write them. */
  async function publishDecider(objects: readonly KubeObject[], httpPort: number): Promise<void> {
    const template = objects.find((o) => o.kind === 'Deployment')!.spec.template;
    const pod = await core.createNamespacedPod({
      namespace: releaseNs,
      body: { metadata: { name: decider!.env.POD_NAME!, labels: template.metadata.labels }, spec: { nodeName, containers: [{ name: 'decider', image: 'okg-sq-decider:test', ports: [{ name: 'http', containerPort: httpPort }] }] } },
    });
    await setPodRunning(releaseNs, pod.metadata!.name!, ip);
    const service = objects.find((o) => o.kind === 'Service' && o.metadata.name.endsWith('-decider-metrics'))!;
    await core.createNamespacedEndpoints({
      namespace: releaseNs,
      body: {
        metadata: { name: service.metadata.name, labels: service.metadata.labels },
        subsets: [{ addresses: [{ ip, nodeName, targetRef: { kind: 'Pod', name: pod.metadata!.name!, namespace: releaseNs, uid: pod.metadata!.uid! } }], ports: [{ name: 'http', port: httpPort, protocol: 'TCP' }] }],
      },
    });
  }

  async function alerts(name: string): Promise<Alert[]> {
    return ((await prom!.api('/api/v1/alerts')).alerts as (Alert & { labels: { alertname: string } })[]).filter((a) => a.labels.alertname === name);
  }

  before(async () => {
    const built = monitoringBuild();
    await installOperatorCrds(admin, built.crds, workDir);
    proxy = await startApiProxy(admin);
    operator = await startPrometheusOperator(built.operator, proxy.url, workDir);
    releaseNs = await createNamespace('okgsq-chart-po');
    const monitoringNs = await createNamespace('okgsq-monitoring');
    gamesA = await createNamespace('okgsq-games-a');
    gamesB = await createNamespace('okgsq-games-b');
    await createPrometheusResource(admin, monitoringNs, 'k8s', prometheusVersion(built.prometheus), SELECTOR);
    // kube-prometheus-stack's scenario, scraping every second and with the dashboard beside the release.
    const monitoringValues = join(chartFiles.chartDir(), 'ci', 'monitoring-values.yaml');
    // The decider serves only this test's game namespaces: other tests' sets in the same bed stay out.
    await helmInstall(releaseNs, [
      '--values', monitoringValues,
      '--set', 'metrics.serviceMonitor.interval=1s', '--set', 'metrics.agentPodMonitor.interval=1s', '--set', 'dashboard.namespace=',
      '--set', `decider.namespaces={${gamesA},${gamesB}}`,
    ]);
    const objects = await releaseManifest(releaseNs);
    // Same-named sets in two namespaces: A healthy (exit 0 → true, no action matches), B's probe binary missing (→ Maintaining).
    await gameServers(gamesA, 2, { name: 'healthy', exec: { command: ['/bin/true'] }, serviceQualityAction: [{ state: false, opsState: 'Maintaining' }] });
    await gameServers(gamesB, 1, { name: 'healthy', exec: { command: ['/no/such/probe'] }, serviceQualityAction: [{ state: false, opsState: 'Maintaining' }] });
    decider = await startChartDecider(releaseNs);
    await publishDecider(objects, decider.httpPort);
    agent = await startChartAgent(releaseNs, objects, decider, nodeName, { httpPort: await freePort(), podIp: ip });
    const config = await hostConfigFromOperator(admin, {
      namespace: monitoringNs,
      name: 'k8s',
      apiServer: proxy.url,
      workDir,
      wantJobs: [`serviceMonitor/${releaseNs}/`, `podMonitor/${releaseNs}/`],
      wantRuleText: 'OkgSqNoLeader',
    });
    prom = await startPrometheus({ targets: [], config, workDir, bin: built.prometheus });
  });

  after(async () => {
    await prom?.stop();
    await agent?.stop();
    await decider?.stop();
    await operator?.stop();
    await proxy?.close();
    await kubelet.close();
    if (releaseNs) await helmUninstall(releaseNs).catch(() => undefined);
  });

  it("scrapes the decider (ServiceMonitor) and the agent (PodMonitor) with the operator's config, honoring their labels", async () => {
    await prom!.waitForTargetsUp(TARGETS_UP_TIMEOUT_MS, 2);
    const targets = (await prom!.api('/api/v1/targets?state=active')).activeTargets as { labels: Record<string, string>; scrapePool: string }[];
    const decider = targets.find((t) => t.scrapePool.startsWith('serviceMonitor/'))!;
    const agentTarget = targets.find((t) => t.scrapePool.startsWith('podMonitor/'))!;
    assert.equal(decider.labels.namespace, releaseNs);
    assert.equal(decider.labels.service, 'okg-sq-decider-metrics');
    assert.equal(agentTarget.labels.node, nodeName, "the chart's relabeling adds the agent's node");
    const config = (await prom!.api('/api/v1/status/config')).yaml as string;
    assert.equal(config.match(/honor_labels: true/g)?.length, 2, 'both monitors keep the programs\' own labels');
  });

  it('keeps each set in its own namespace: two sets named minecraft stay apart, and no exported_namespace appears', async () => {
    const series = await waitFor(async () => {
      const s = await prom!.query('okgsq_gameservers{gameserverset="minecraft"}');
      const byNs = new Map(s.map((x) => [`${x.metric.namespace}/${x.metric.ops_state}`, x.value]));
      return byNs.get(`${gamesA}/None`) === 2 && byNs.get(`${gamesB}/Maintaining`) === 1 ? s : undefined;
    }, { timeoutMs: DATA_TIMEOUT_MS, intervalMs: 1000, what: `okgsq_gameservers for ${gamesA} (2 None) and ${gamesB} (1 Maintaining)` });
    assert.deepEqual([...new Set(series.map((s) => s.metric.namespace))].sort(), [gamesA, gamesB].sort());
    assert.deepEqual(await prom!.query('count({exported_namespace!=""})'), []);
    // Series without a namespace of their own carry the target's: the release namespace.
    const leader = await prom!.query('okgsq_leader');
    assert.deepEqual(leader.map((s) => [s.metric.namespace, s.metric.pod, s.value]), [[releaseNs, decider!.env.POD_NAME, 1]]);
  });

  it('answers every dashboard query, and the namespace variable selects one namespace\'s series', async () => {
    await waitForDashboardData(prom!, { only: (q) => !q.expr.includes('okgsq_node_probes_stale'), timeoutMs: DATA_TIMEOUT_MS });
    const perSet = dashboardQueries({ namespace: gamesB }).filter((q) => q.expr.includes('namespace=~') && /by \([^)]*namespace/.test(q.expr));
    assert.ok(perSet.length >= 3, perSet.map((q) => q.panel).join(', '));
    for (const q of perSet) {
      for (const s of await prom!.query(q.expr)) if (s.metric.namespace !== undefined) assert.equal(s.metric.namespace, gamesB, `[${q.panel}] ${q.expr}`);
    }
  });

  it('loads every alert of the PrometheusRule, healthy, with the chart\'s additional labels', async () => {
    const rules = await waitFor(async () => {
      const groups = (await prom!.api('/api/v1/rules?type=alert')).groups as { rules: { name: string; health: string; labels: Record<string, string> }[] }[];
      const all = groups.flatMap((g) => g.rules);
      return all.length > 0 && all.every((r) => r.health === 'ok') ? all : undefined;
    }, { timeoutMs: ALERT_TIMEOUT_MS, intervalMs: 500, what: 'the alerts evaluated' });
    assert.equal(rules.length, 10);
    for (const r of rules) assert.equal(r.labels.team, 'games', r.name);
    assert.deepEqual(await alerts('OkgSqNoLeader'), [], 'a leader is there');
  });

  it('raises OkgSqMassProbeErrors for the namespace whose probes all fail, not for the release namespace', async () => {
    const raised = await waitFor(async () => {
      const a = await alerts('OkgSqMassProbeErrors');
      return a.length > 0 ? a : undefined;
    }, { timeoutMs: ALERT_TIMEOUT_MS, intervalMs: 1000, what: 'OkgSqMassProbeErrors pending' });
    assert.deepEqual(raised.map((a) => [a.labels.namespace, a.labels.gameserverset, a.state]), [[gamesB, 'minecraft', 'pending']]);
  });

  it('the agent stopped: stale probes per node name it, and OkgSqProbesStale names both game namespaces', async () => {
    await agent!.stop();
    await waitForDashboardData(prom!, { only: (q) => q.expr.includes('okgsq_node_probes_stale'), timeoutMs: DATA_TIMEOUT_MS });
    const perNode = await prom!.query('okgsq_node_probes_stale');
    assert.deepEqual(perNode.map((s) => [s.metric.node, s.metric.reason, s.metric.namespace, s.value]), [[nodeName, 'disconnected', releaseNs, 3]]);
    const stale = await waitFor(async () => {
      const a = await alerts('OkgSqProbesStale');
      return a.length === 2 ? a : undefined;
    }, { timeoutMs: ALERT_TIMEOUT_MS, intervalMs: 1000, what: 'OkgSqProbesStale for both namespaces' });
    assert.deepEqual(stale.map((a) => `${a.labels.namespace}/${a.labels.gameserverset}`).sort(), [`${gamesA}/minecraft`, `${gamesB}/minecraft`].sort());
  });
});
