// The real agent (child process, real containerd container, CRI exec) cut off from the decider for 60 s by
// a network partition (a TCP proxy that stops forwarding without closing anything), then healed. While cut
// off, the agent keeps probing and the container's answer changes twice; the decider marks the probes
// stale, writes nothing and nothing turns False. After the heal the latest outcome is applied, once; the
// intermediate one never is.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { KubeClient } from '../../decider/kube/kube-client.js';
import { startTestDecider, testOptions, type CountingApi } from '../integration/decider/kit.js';
import type { Decider } from '../../decider/decider.js';
import { CriClient } from '../testbed/cri-client.js';
import { testbedEnv } from '../testbed/env.js';
import { FakeKubelet, type RunningPod } from '../testbed/fake-kubelet.js';
import { freePort } from '../testbed/free-port.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { repoRoot } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';
import { GAME, agentToken, must } from './fault-kit.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

const CUT_MS = 60_000;
const STALE_SECONDS = 5; // the decider's stale window, shortened from 60 s for the test

const env = testbedEnv();
const kubeConfig = adminKubeConfig();
const admin = new KubeClient(kubeConfig);
const cri = new CriClient(env.containerdSocket);
const node = `cut-${randomBytes(3).toString('hex')}`;
const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: node, kubeConfig });
let ns = '';
let d: { decider: Decider; api: CountingApi };
let proxy: TcpProxy;
let agent: ChildProcess | undefined;
let agentLog = '';
let agentHttpPort = 0;
let pod: RunningPod;

before(async () => {
  ns = await createNamespace('fault-cut', kubeConfig);
  const token = await agentToken(admin, ns, node);
  const tokenFile = join(mkdtempSync(join(env.workDir, 'fault-cut-')), 'token');
  writeFileSync(tokenFile, token);
  await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name: 'room', namespace: ns },
    spec: {
      replicas: 1,
      gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
      serviceQualities: [
        {
          name: 'state',
          containerName: 'game',
          permanent: false,
          exec: { command: ['cat', '/tmp/state'] },
          initialDelaySeconds: 1,
          periodSeconds: 1,
          timeoutSeconds: 2,
          failureThreshold: 1,
          // A stale agent wrongly taken as False would show as Maintaining.
          serviceQualityAction: [
            { state: true, opsState: '{{.Result}}' },
            { state: false, opsState: 'Maintaining' },
          ],
        },
      ],
    },
  });
  await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServer',
    metadata: { name: 'room-0', namespace: ns, labels: { 'game.kruise.io/owner-gss': 'room' } },
    spec: { opsState: 'None' },
  });
  pod = await kubelet.runPod({
    namespace: ns,
    name: 'room-0',
    labels: { 'game.kruise.io/owner-gss': 'room' },
    containers: [{ name: 'game', command: ['/bin/sh', '-c', 'printf Ready > /tmp/state; exec sleep 100000'] }],
  });
  d = await startTestDecider(kubeConfig, testOptions(ns, `decider-${ns}`, { OKGSQ_AGENT_NAMESPACE: ns, OKGSQ_AGENT_STALE_SECONDS: String(STALE_SECONDS) }), true);
  await waitFor(() => d.decider.active(), { timeoutMs: 20_000, what: 'decider ready and leading' });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: d.decider.grpcPort });
  agentHttpPort = await freePort();
  agent = spawn(process.execPath, [join(repoRoot(import.meta.url), process.env.OKGSQ_DIST_DIR ?? 'dist', 'agent', 'main.js')], {
    env: {
      ...process.env,
      OKGSQ_NODE_NAME: node,
      OKGSQ_DECIDER_ADDRESS: proxy.address,
      OKGSQ_INSECURE_GRPC: 'true',
      OKGSQ_TOKEN_FILE: tokenFile,
      OKGSQ_CRI_ENDPOINT: `unix://${env.containerdSocket}`,
      OKGSQ_HTTP_PORT: String(agentHttpPort),
      OKGSQ_RESYNC_SECONDS: '5',
      OKGSQ_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (c: Buffer): void => void (agentLog = (agentLog + c.toString()).slice(-20_000));
  agent.stdout!.on('data', keep);
  agent.stderr!.on('data', keep);
});

after(async () => {
  if (agent && agent.exitCode === null && agent.signalCode === null) {
    const a = agent;
    a.kill('SIGTERM');
    await waitFor(() => a.exitCode !== null || a.signalCode !== null, { timeoutMs: 10_000, what: 'agent exit' }).catch(() => a.kill('SIGKILL'));
  }
  await proxy?.close();
  await d?.decider.stop();
  (d?.api.inner as KubeClient | undefined)?.close();
  await kubelet.close();
  cri.close();
  admin.close();
});

async function gameServer(): Promise<any> {
  return must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-0`);
}

function condition(gs: any): any {
  return gs?.status?.serviceQualitiesConditions?.find((c: any) => c.name === 'state');
}

async function setState(text: string): Promise<void> {
  const res = await cri.execSync({ containerId: pod.containers[0]!.id, cmd: ['/bin/sh', '-c', `printf '%s' '${text}' > /tmp/state`], timeout: 10 });
  assert.equal(res.exitCode, 0, res.stderr.toString());
}

/** Sums a counter or gauge (all label sets) from a /metrics text, optionally only lines containing `filter`. */
function metric(text: string, name: string, filter = ''): number {
  let sum = 0;
  for (const line of text.split('\n')) if ((line.startsWith(`${name}{`) || line.startsWith(`${name} `)) && line.includes(filter)) sum += Number(line.split(' ').pop());
  return sum;
}

const deciderMetrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${d.decider.httpPort}/metrics`)).text();
const agentMetrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${agentHttpPort}/metrics`)).text();
const objectWrites = (from: number): string[] => d.api.writes.slice(from).filter((w) => !w.includes(' leases') && !w.includes(' events') && !w.includes('/tokenreviews'));

test('an agent cut off for 60 s: stale, nothing written, nothing False; after the heal the latest outcome applies once', async (t) => {
  await waitFor(async () => {
    const gs = await gameServer();
    return gs.spec.opsState === 'Ready' && condition(gs)?.status === 'True';
  }, { timeoutMs: 30_000, intervalMs: 200, what: `first outcome applied (agent log: ${agentLog.slice(-1500)})` });
  const before = await gameServer();
  await d.decider.batcher.drain();
  const mark = d.api.writes.length;
  const appliedBefore = metric(await deciderMetrics(), 'okgsq_actions_applied_total');

  const connectionsBefore = proxy.accepted;
  proxy.cut();
  const cutAt = Date.now();
  // The agent keeps probing while cut off: the answer changes, then changes again (only the last counts).
  const runsAt = async (): Promise<number> => metric(await agentMetrics(), 'okgsq_agent_probe_runs_total');
  await setState('Draining');
  let runs = await runsAt();
  await waitFor(async () => (await runsAt()) >= runs + 2, { timeoutMs: 10_000, what: 'the agent probing "Draining" while cut off' });
  await waitFor(async () => metric(await deciderMetrics(), 'okgsq_probes_stale') >= 1, { timeoutMs: (STALE_SECONDS + 10) * 1000, intervalMs: 250, what: 'okgsq_probes_stale ≥ 1' });
  t.diagnostic(`probes stale ${Date.now() - cutAt} ms into the cut`);
  await waitFor(() => Date.now() - cutAt >= CUT_MS / 2, { timeoutMs: CUT_MS, intervalMs: 500, what: 'half the cut' });
  await setState('WaitToBeDeleted');
  runs = await runsAt();
  await waitFor(async () => (await runsAt()) >= runs + 2, { timeoutMs: 10_000, what: 'the agent probing "WaitToBeDeleted" while cut off' });
  // Hold the partition for its full length, checking all along that nothing is written.
  await waitFor(async () => {
    assert.deepEqual(objectWrites(mark), [], 'nothing written while the agent is cut off');
    return Date.now() - cutAt >= CUT_MS;
  }, { timeoutMs: CUT_MS, intervalMs: 500, what: 'the end of the cut' });
  const during = await gameServer();
  assert.equal(during.spec.opsState, 'Ready', 'the last written state stands (never Maintaining)');
  assert.deepEqual(condition(during), condition(before), 'the condition is untouched: stale is not False');
  assert.equal(metric(await deciderMetrics(), 'okgsq_actions_applied_total'), appliedBefore);
  const reconnectsDuring = proxy.accepted - connectionsBefore;

  proxy.heal();
  const healedAt = Date.now();
  const after = await waitFor(async () => {
    const gs = await gameServer();
    return gs.spec.opsState === 'WaitToBeDeleted' && condition(gs)?.result === 'WaitToBeDeleted' ? gs : false;
  }, { timeoutMs: 60_000, intervalMs: 100, what: `the latest outcome applied after the heal (agent log: ${agentLog.slice(-1500)})` });
  t.diagnostic(`convergence: ${Date.now() - healedAt} ms after the heal; the agent opened ${reconnectsDuring} new connection(s) during the cut (keepalive gave up on the old one), ${proxy.accepted - connectionsBefore - reconnectsDuring} after`);
  assert.equal(condition(after).status, 'True');
  await d.decider.batcher.drain();
  await waitFor(async () => metric(await deciderMetrics(), 'okgsq_probes_stale') === 0, { timeoutMs: (STALE_SECONDS + 10) * 1000, intervalMs: 250, what: 'probes fresh again' });

  // Exactly one action for the whole cut (the latest outcome), none for the intermediate one, at ≤ 3 writes.
  const text = await deciderMetrics();
  // One action, one spec write, and the opsState is WaitToBeDeleted: neither the intermediate "Draining"
  // nor a False outcome was ever applied (either would have been a second action).
  assert.equal(metric(text, 'okgsq_actions_applied_total') - appliedBefore, 1, 'one action applied after the heal');
  const writes = objectWrites(mark);
  assert.deepEqual(writes.map((w) => w.split(' ').slice(0, 2).join(' ')).sort(), ['PATCH gameservers', 'PATCH gameservers/status', 'PATCH pods/status'], `writes after the heal: ${JSON.stringify(writes)}`);
});
