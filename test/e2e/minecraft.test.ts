// The seed's minecraft scenario end to end: the real agent (a child process) probing real containerd
// containers through the CRI, authenticated with a pod-bound token, and the decider writing the real
// apiserver. Kill gate in minecraft-0 → GateMaintaining; kill data in minecraft-1 → DataMaintaining;
// restore both → None.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { testbedEnv } from '../testbed/env.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { FakeKubelet, type RunningPod } from '../testbed/fake-kubelet.js';
import { CriClient } from '../testbed/cri-client.js';
import { repoRoot } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';
import { KubeClient } from '../../decider/kube/kube-client.js';
import type { Decider } from '../../decider/decider.js';
import { CountingApi, GAME, must, startTestDecider, testOptions } from '../integration/decider/kit.js';

const env = testbedEnv();
const kubeConfig = adminKubeConfig();
const admin = new KubeClient(kubeConfig);
const cri = new CriClient(env.containerdSocket);
const nodeName = `e2e-mc-${randomBytes(3).toString('hex')}`;
const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName, kubeConfig });
const pods: RunningPod[] = [];
let ns = '';
let d: { decider: Decider; api: CountingApi } | undefined;
let agent: ChildProcess | undefined;
let agentLog = '';

/** The seed's `healthy` quality, with the processes as pid files inside the container. */
const PROBE = 'for r in gate data; do [ -f /run/mc/$r.pid ] || { echo $r; exit 0; }; done; exit 1';
const GAME_MAIN = 'mkdir -p /run/mc; for r in gate data; do sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/$r.pid; done; while :; do wait; sleep 1; done';
const UNIT_SECONDS = 1;

before(async () => {
  ns = await createNamespace('e2e-mc');
  // The agent's identity: ServiceAccount + a Pod on our node + a pod-bound token, as the chart sets up.
  await must(admin, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: 'okg-sq-agent' } });
  await must(admin, 'POST', `/apis/game.kruise.io/v1alpha1/namespaces/${ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'minecraft', namespace: ns },
    spec: {
      replicas: 3,
      gameServerTemplate: { spec: { containers: [{ name: 'minecraft', image: 'busybox' }] } },
      serviceQualities: [
        {
          name: 'healthy',
          containerName: 'minecraft',
          permanent: false,
          exec: { command: ['/bin/sh', '-c', PROBE] },
          initialDelaySeconds: UNIT_SECONDS,
          periodSeconds: UNIT_SECONDS,
          timeoutSeconds: 2,
          successThreshold: 1,
          failureThreshold: 1,
          serviceQualityAction: [
            { state: true, result: 'gate', opsState: 'GateMaintaining' },
            { state: true, result: 'data', opsState: 'DataMaintaining' },
            { state: false, opsState: 'None' },
          ],
        },
      ],
    },
  });
  for (let i = 0; i < 3; i++) {
    const name = `minecraft-${i}`;
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
      apiVersion: 'game.kruise.io/v1alpha1',
      kind: 'GameServer',
      metadata: { name, namespace: ns, labels: { 'game.kruise.io/owner-gss': 'minecraft' } },
      spec: { opsState: 'None' },
    });
    pods.push(
      await kubelet.runPod({
        namespace: ns,
        name,
        labels: { 'game.kruise.io/owner-gss': 'minecraft' },
        containers: [{ name: 'minecraft', command: ['/bin/sh', '-c', GAME_MAIN] }],
      }),
    );
  }
  const agentPod = await must(admin, 'POST', `/api/v1/namespaces/${ns}/pods`, {
    metadata: { name: 'okg-sq-agent-0' },
    spec: { nodeName, serviceAccountName: 'okg-sq-agent', automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'okg-sq-agent:test' }] },
  });
  const review = await must(admin, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/okg-sq-agent/token`, {
    spec: { audiences: ['okg-sq'], expirationSeconds: 3600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'okg-sq-agent-0', uid: agentPod.metadata.uid } },
  });
  const dir = mkdtempSync(join(env.workDir, 'e2e-mc-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, review.status.token);

  d = await startTestDecider(kubeConfig, testOptions(ns, 'decider-e2e', { OKGSQ_AGENT_NAMESPACE: ns }), true);
  await waitFor(() => d!.decider.ready(), { timeoutMs: 20_000, what: 'decider ready' });

  agent = spawn(process.execPath, [join(repoRoot(import.meta.url), process.env.OKGSQ_DIST_DIR ?? 'dist', 'agent', 'main.js')], {
    env: {
      ...process.env,
      OKGSQ_NODE_NAME: nodeName,
      OKGSQ_DECIDER_ADDRESS: `127.0.0.1:${d.decider.grpcPort}`,
      OKGSQ_INSECURE_GRPC: 'true',
      OKGSQ_TOKEN_FILE: tokenFile,
      OKGSQ_CRI_ENDPOINT: `unix://${env.containerdSocket}`,
      OKGSQ_HTTP_PORT: '0',
      OKGSQ_RESYNC_SECONDS: '5',
      OKGSQ_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  agent.stdout!.on('data', (c: Buffer) => (agentLog = (agentLog + c.toString()).slice(-20_000)));
  agent.stderr!.on('data', (c: Buffer) => (agentLog = (agentLog + c.toString()).slice(-20_000)));
});

after(async () => {
  if (agent && agent.exitCode === null) {
    agent.kill('SIGTERM');
    await waitFor(() => agent!.exitCode !== null || agent!.signalCode !== null, { timeoutMs: 10_000, what: 'agent exit' }).catch(() => agent!.kill('SIGKILL'));
  }
  await d?.decider.stop();
  (d?.api.inner as KubeClient | undefined)?.close();
  await kubelet.close();
  cri.close();
  admin.close();
});

async function opsStates(): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 3; i++) out.push((await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-${i}`)).spec.opsState);
  return out;
}

async function expectOpsStates(want: string[], what: string): Promise<void> {
  let last: string[] = [];
  try {
    await waitFor(async () => {
      last = await opsStates();
      return JSON.stringify(last) === JSON.stringify(want);
    }, { timeoutMs: 30_000, intervalMs: 200, what });
  } catch (err) {
    throw new Error(`${what}: opsStates ${JSON.stringify(last)}; agent log tail:\n${agentLog.slice(-3000)}`, { cause: err });
  }
}

/** Sum of okgsq_probe_runs_total as the decider exports it (the agent's counters). */
async function probeRuns(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${d!.decider.httpPort}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith('okgsq_probe_runs_total{')) sum += Number(line.split(' ').pop());
  return sum;
}

async function execIn(pod: RunningPod, script: string): Promise<void> {
  const res = await cri.execSync({ containerId: pod.containers[0]!.id, cmd: ['/bin/sh', '-c', script], timeout: 10 });
  assert.equal(res.exitCode, 0, `exec ${script}: ${res.stderr.toString()}`);
}

test('every GameServer gets its healthy condition from the agent (all processes up: None)', async () => {
  await waitFor(async () => {
    for (let i = 0; i < 3; i++) {
      const gs = await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/minecraft-${i}`);
      const c = gs.status?.serviceQualitiesConditions?.find((x: { name: string }) => x.name === 'healthy');
      if (c?.status !== 'False') return false;
    }
    return true;
  }, { timeoutMs: 30_000, intervalMs: 200, what: 'healthy=False (all up) on all three GameServers' }).catch((err) => {
    throw new Error(`${(err as Error).message}; agent log tail:\n${agentLog.slice(-3000)}`);
  });
  assert.deepEqual(await opsStates(), ['None', 'None', 'None']);
  const pod = await must(admin, 'GET', `/api/v1/namespaces/${ns}/pods/minecraft-0`);
  const cond = pod.status.conditions.find((c: { type: string }) => c.type === 'game.kruise.io/healthy');
  assert.equal(cond.reason, 'OkgSqProbe');
});

test('kill gate in minecraft-0 → GateMaintaining; kill data in minecraft-1 → DataMaintaining', async () => {
  await execIn(pods[0]!, 'kill $(cat /run/mc/gate.pid); rm /run/mc/gate.pid');
  await expectOpsStates(['GateMaintaining', 'None', 'None'], 'minecraft-0 GateMaintaining');
  await execIn(pods[1]!, 'kill $(cat /run/mc/data.pid); rm /run/mc/data.pid');
  await expectOpsStates(['GateMaintaining', 'DataMaintaining', 'None'], 'minecraft-1 DataMaintaining');
});

test('restore both → None again, and a steady state writes nothing more', async () => {
  await execIn(pods[0]!, 'sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/gate.pid');
  await execIn(pods[1]!, 'sleep 2147483647 >/dev/null 2>&1 & echo $! > /run/mc/data.pid');
  await expectOpsStates(['None', 'None', 'None'], 'all None');
  await d!.decider.batcher.drain();
  d!.api.writes.length = 0;
  // Three more runs per pod reported by the agent later: still no object write.
  const before = await probeRuns();
  await waitFor(async () => (await probeRuns()) >= before + 9, { timeoutMs: 30_000, intervalMs: 200, what: '9 more probe runs' });
  await d!.decider.batcher.drain();
  assert.deepEqual(d!.api.objectWrites(), []);
});
