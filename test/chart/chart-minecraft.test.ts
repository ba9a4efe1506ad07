// The "done when": `helm install` of the chart into the test bed, then the seed's minecraft
// scenario shows the GameServers change. The decider runs with the chart's ServiceAccount token and
// env, the agent with the DaemonSet's env, TLS and token audience, probing real containerd containers
// of a FakeKubelet node. Kill gate in minecraft-0 → GateMaintaining; kill data in minecraft-1 →
// DataMaintaining; restore both → None. Prometheus scrapes the decider and the agent throughout, and every
// dashboard query returns data from them (a second quality whose probe binary is missing feeds the error
// panels; stopping the agent at the end feeds the stale-per-node panel).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CustomObjectsApi } from '@kubernetes/client-node';
import { CriClient } from '../testbed/cri-client.js';
import { testbedEnv } from '../testbed/env.js';
import { FakeKubelet, type RunningPod } from '../testbed/fake-kubelet.js';
import { httpGet } from '../testbed/https-get.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import type { ManagedProcess } from '../testbed/managed-process.js';
import { startPrometheus, type RunningPrometheus } from '../testbed/prometheus.js';
import { waitFor } from '../testbed/wait-for.js';
import { freePort } from '../testbed/free-port.js';
import { waitForDashboardData } from './dashboard-data.js';
import { helmInstall, helmUninstall, releaseManifest, startChartAgent, startChartDecider, type RunningDecider } from './bed-release.js';

const GROUP = { group: 'game.kruise.io', version: 'v1alpha1' } as const;
const OWNER_LABEL = 'game.kruise.io/owner-gss';
/** The seed's probe, with the game's processes as pid files inside the container. */
const PROBE = 'for r in gate data; do [ -f /run/mc/$r.pid ] || { echo $r; exit 0; }; done; exit 1';
const GAME_MAIN = 'mkdir -p /run/mc; for r in gate data; do sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/$r.pid; done; while :; do wait; sleep 1; done';
const SCENARIO_STEP_TIMEOUT_MS = 30_000;
const DASHBOARD_DATA_TIMEOUT_MS = 30_000;

describe('helm install, then the minecraft scenario', () => {
  const env = testbedEnv();
  const admin = adminKubeConfig();
  const custom = admin.makeApiClient(CustomObjectsApi);
  const cri = new CriClient(env.containerdSocket);
  const nodeName = `chart-mc-${randomBytes(3).toString('hex')}`;
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName, kubeConfig: admin });
  const pods: RunningPod[] = [];
  let releaseNs = '';
  let gamesNs = '';
  let decider: RunningDecider | undefined;
  let agent: ManagedProcess | undefined;
  let prom: RunningPrometheus | undefined;

  before(async () => {
    releaseNs = await createNamespace('okgsq-chart-mc');
    gamesNs = await createNamespace('okgsq-games-mc');
    await helmInstall(releaseNs);
    await custom.createNamespacedCustomObject({
      ...GROUP,
      namespace: gamesNs,
      plural: 'gameserversets',
      body: {
        apiVersion: 'game.kruise.io/v1alpha1',
        kind: 'GameServerSet',
        metadata: { name: 'minecraft' },
        spec: {
          replicas: 3,
          gameServerTemplate: { spec: { containers: [{ name: 'minecraft', image: 'busybox' }] } },
          serviceQualities: [
            {
              name: 'healthy',
              containerName: 'minecraft',
              permanent: false,
              exec: { command: ['/bin/sh', '-c', PROBE] },
              initialDelaySeconds: 1,
              periodSeconds: 1,
              timeoutSeconds: 2,
              successThreshold: 1,
              failureThreshold: 1,
              serviceQualityAction: [
                { state: true, result: 'gate', opsState: 'GateMaintaining' },
                { state: true, result: 'data', opsState: 'DataMaintaining' },
                { state: false, opsState: 'None' },
              ],
            },
            {
              // Its binary is missing from the image: every run is an exec error (a CRI error too).
              name: 'broken',
              containerName: 'minecraft',
              permanent: false,
              exec: { command: ['/no/such/probe'] },
              initialDelaySeconds: 1,
              periodSeconds: 1,
              timeoutSeconds: 2,
              serviceQualityAction: [{ state: true, opsState: 'Allocated' }],
            },
          ],
        },
      },
    });
    for (let i = 0; i < 3; i++) {
      const name = `minecraft-${i}`;
      await custom.createNamespacedCustomObject({
        ...GROUP,
        namespace: gamesNs,
        plural: 'gameservers',
        body: { apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name, labels: { [OWNER_LABEL]: 'minecraft' } }, spec: { opsState: 'None' } },
      });
      pods.push(await kubelet.runPod({ namespace: gamesNs, name, labels: { [OWNER_LABEL]: 'minecraft' }, containers: [{ name: 'minecraft', command: ['/bin/sh', '-c', GAME_MAIN] }] }));
    }
    decider = await startChartDecider(releaseNs);
    // Scrapes the decider and the agent through the whole scenario, for the dashboard checks at the end.
    const agentHttpPort = await freePort();
    prom = await startPrometheus({ targets: [`127.0.0.1:${decider.httpPort}`, `127.0.0.1:${agentHttpPort}`], scrapeIntervalSeconds: 1 });
    agent = await startChartAgent(releaseNs, await releaseManifest(releaseNs), decider, nodeName, { httpPort: agentHttpPort });
  });

  after(async () => {
    await prom?.stop();
    await agent?.stop();
    await decider?.stop();
    await kubelet.close();
    cri.close();
    if (releaseNs) await helmUninstall(releaseNs).catch(() => undefined);
  });

  async function opsStates(): Promise<string[]> {
    const out: string[] = [];
    for (const pod of pods) {
      const gs = (await custom.getNamespacedCustomObject({ ...GROUP, namespace: gamesNs, plural: 'gameservers', name: pod.name })) as { spec?: { opsState?: string } };
      out.push(gs.spec?.opsState ?? '');
    }
    return out;
  }

  async function expectOpsStates(want: string[], what: string): Promise<void> {
    let last: string[] = [];
    try {
      await waitFor(async () => {
        agent!.assertRunning();
        decider!.process.assertRunning();
        last = await opsStates();
        return JSON.stringify(last) === JSON.stringify(want);
      }, { timeoutMs: SCENARIO_STEP_TIMEOUT_MS, intervalMs: 200, what });
    } catch (err) {
      throw new Error(`${what}: opsStates ${JSON.stringify(last)}\nagent log:\n${agent!.logTail()}\ndecider log:\n${decider!.process.logTail()}`, { cause: err });
    }
  }

  async function execIn(pod: RunningPod, script: string): Promise<void> {
    const res = await cri.execSync({ containerId: pod.containers[0]!.id, cmd: ['/bin/sh', '-c', script], timeout: 10 });
    assert.equal(res.exitCode, 0, `exec ${script}: ${res.stderr.toString()}`);
  }

  it('all processes up: every GameServer gets its healthy condition (False) and stays None', async () => {
    await waitFor(async () => {
      agent!.assertRunning();
      for (const pod of pods) {
        const gs = (await custom.getNamespacedCustomObject({ ...GROUP, namespace: gamesNs, plural: 'gameservers', name: pod.name })) as any;
        const c = gs.status?.serviceQualitiesConditions?.find((x: { name: string }) => x.name === 'healthy');
        if (c?.status !== 'False') return false;
      }
      return true;
    }, { timeoutMs: SCENARIO_STEP_TIMEOUT_MS, intervalMs: 200, what: 'healthy=False on all three GameServers' }).catch((err: Error) => {
      throw new Error(`${err.message}\nagent log:\n${agent!.logTail()}\ndecider log:\n${decider!.process.logTail()}`, { cause: err });
    });
    assert.deepEqual(await opsStates(), ['None', 'None', 'None']);
  });

  it('kill gate in minecraft-0 → GateMaintaining; kill data in minecraft-1 → DataMaintaining', async () => {
    await execIn(pods[0]!, 'kill $(cat /run/mc/gate.pid); rm /run/mc/gate.pid');
    await expectOpsStates(['GateMaintaining', 'None', 'None'], 'minecraft-0 GateMaintaining');
    await execIn(pods[1]!, 'kill $(cat /run/mc/data.pid); rm /run/mc/data.pid');
    await expectOpsStates(['GateMaintaining', 'DataMaintaining', 'None'], 'minecraft-1 DataMaintaining');
  });

  it('restore both → None', async () => {
    await execIn(pods[0]!, 'sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/gate.pid');
    await execIn(pods[1]!, 'sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/data.pid');
    await expectOpsStates(['None', 'None', 'None'], 'all None');
  });

  it('wrote everything with the chart RBAC: pod conditions, GameServers, status, Events; no 403', async () => {
    const text = (await httpGet(`http://127.0.0.1:${decider!.httpPort}/metrics`)).body;
    const writes = text.split('\n').filter((l) => l.startsWith('okgsq_kube_writes_total{'));
    const ok = (resource: string, verb: string) => writes.some((l) => l.includes(`resource="${resource}"`) && l.includes(`verb="${verb}"`) && /code="2\d\d"/.test(l));
    assert.ok(writes.length > 0, 'the decider counts its writes');
    assert.deepEqual(writes.filter((l) => /code="40[13]"/.test(l)), [], 'no write refused by authentication or RBAC');
    assert.ok(writes.some((l) => /code="2\d\d"/.test(l) && /resource="(pods|pods\/status)"/.test(l)), `pod condition written: ${writes.join('; ')}`);
    assert.ok(writes.some((l) => /code="2\d\d"/.test(l) && /resource="gameservers(\/status)?"/.test(l)), `GameServer written: ${writes.join('; ')}`);
    assert.ok(ok('events', 'create'), `an Event created: ${writes.join('; ')}`);
  });

  it('every Grafana dashboard query returns data from Prometheus scraping this decider and agent', async () => {
    await prom!.waitForTargetsUp(DASHBOARD_DATA_TIMEOUT_MS);
    // Stale probes exist only once an agent is gone: the next test stops it.
    await waitForDashboardData(prom!, { only: (q) => !q.expr.includes('okgsq_node_probes_stale'), timeoutMs: DASHBOARD_DATA_TIMEOUT_MS });
  });

  it('the agent stopped: "Stale probes per node" names its node, and the stale panels fill', async () => {
    await agent!.stop();
    const queries = await waitForDashboardData(prom!, { only: (q) => /okgsq_(node_)?probes_stale/.test(q.expr), timeoutMs: DASHBOARD_DATA_TIMEOUT_MS });
    const perNode = queries.find((q) => q.expr.includes('okgsq_node_probes_stale'))!;
    const series = await prom!.query(perNode.expr);
    assert.deepEqual(series.map((x) => [x.metric.node, x.metric.reason, x.value]), [[nodeName, 'disconnected', 6]], 'three GameServers × two qualities on the node');
  });
});
