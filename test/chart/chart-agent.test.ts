// The chart's settings work between the real programs: an agent configured exactly as the DaemonSet
// configures it (env, the CA from the chart's TLS Secret, a pod-bound token with the projected
// volume's audience) connects over TLS to a decider configured as the Deployment configures it, which
// authenticates it with the chart's RBAC (TokenReview + the agent pod). A token for another audience is
// refused.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api } from '@kubernetes/client-node';
import { testbedEnv } from '../testbed/env.js';
import { freePort } from '../testbed/free-port.js';
import { httpGet } from '../testbed/https-get.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { ManagedProcess } from '../testbed/managed-process.js';
import { waitFor } from '../testbed/wait-for.js';
import {
  AGENT_SA,
  chartEnv,
  helmInstall,
  helmUninstall,
  metricValue,
  PROGRAMS,
  releaseManifest,
  serviceAccountToken,
  startChartDecider,
  tlsSecret,
  type RunningDecider,
} from './bed-release.js';
import type { KubeObject } from './helm.js';

const AGENT_CONNECT_TIMEOUT_MS = 30_000;

/** The agent pod the kubelet would run on `node`: its token is bound to it, as the projected volume's is. */
async function createAgentPod(namespace: string, node: string): Promise<{ name: string; uid: string }> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `okg-sq-agent-${node}`, labels: { 'app.kubernetes.io/component': 'agent' } },
      spec: { nodeName: node, serviceAccountName: AGENT_SA, automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'okg-sq-agent:test' }] },
    },
  });
  return { name: pod.metadata!.name!, uid: pod.metadata!.uid! };
}

async function deciderMetric(decider: RunningDecider, name: string): Promise<number | undefined> {
  const res = await httpGet(`http://127.0.0.1:${decider.httpPort}/metrics`);
  return metricValue(res.body, name);
}

describe('agent and decider wired by the chart', () => {
  const env = testbedEnv();
  let releaseNs: string;
  let objects: KubeObject[];
  let decider: RunningDecider;
  const agents: ManagedProcess[] = [];

  before(async () => {
    releaseNs = await createNamespace('okgsq-chart-agent');
    await helmInstall(releaseNs);
    objects = await releaseManifest(releaseNs);
    decider = await startChartDecider(releaseNs);
  });

  after(async () => {
    for (const a of agents) await a.stop();
    await decider?.stop();
    if (releaseNs) await helmUninstall(releaseNs).catch(() => undefined);
  });

  async function startAgent(node: string, audience: string): Promise<ManagedProcess> {
    const ds = objects.find((o) => o.kind === 'DaemonSet')!;
    const projected = (ds.spec.template.spec.volumes as any[]).find((v) => v.projected).projected.sources[0].serviceAccountToken;
    const pod = await createAgentPod(releaseNs, node);
    const dir = mkdtempSync(join(env.workDir, `chart-agent-${node}-`));
    writeFileSync(join(dir, 'token'), await serviceAccountToken(releaseNs, AGENT_SA, { audiences: [audience], expirationSeconds: projected.expirationSeconds, boundPod: pod }));
    writeFileSync(join(dir, 'ca.crt'), (await tlsSecret(releaseNs))['ca.crt']!);
    const agentEnv = {
      ...chartEnv(objects, 'DaemonSet'),
      OKGSQ_NODE_NAME: node,
      // The Service's DNS name does not resolve here; TLS still checks the chart's server name.
      OKGSQ_DECIDER_ADDRESS: `127.0.0.1:${decider.grpcPort}`,
      OKGSQ_TLS_CA_FILE: join(dir, 'ca.crt'),
      OKGSQ_TOKEN_FILE: join(dir, 'token'),
      OKGSQ_CRI_ENDPOINT: `unix://${env.containerdSocket}`,
      OKGSQ_HTTP_PORT: String(await freePort()),
    };
    const agent = new ManagedProcess(`agent-${node}`, process.execPath, [PROGRAMS.agent], { logFile: join(dir, 'agent.log'), env: { PATH: process.env.PATH, ...agentEnv } });
    agents.push(agent);
    return agent;
  }

  it('an agent with the projected token audience connects over the chart TLS', async () => {
    const audience = (objects.find((o) => o.kind === 'DaemonSet')!.spec.template.spec.volumes as any[]).find((v) => v.projected).projected.sources[0].serviceAccountToken.audience as string;
    assert.equal(audience, decider.env.OKGSQ_TOKEN_AUDIENCE);
    const agent = await startAgent('chart-node-1', audience);
    await waitFor(async () => {
      agent.assertRunning();
      return (await deciderMetric(decider, 'okgsq_agents_connected')) === 1;
    }, { timeoutMs: AGENT_CONNECT_TIMEOUT_MS, intervalMs: 200, what: 'okgsq_agents_connected 1 on the decider' });
  });

  it('an agent whose token has another audience is refused', async () => {
    const agent = await startAgent('chart-node-2', 'not-okg-sq');
    // The refused agent keeps retrying; the decider never counts it. Wait until it has been refused
    // (its log says so) and check the count did not move.
    await waitFor(() => {
      agent.assertRunning();
      return /UNAUTHENTICATED|unauthenticated/.test(agent.logTail());
    }, { timeoutMs: AGENT_CONNECT_TIMEOUT_MS, intervalMs: 200, what: 'the wrong-audience agent refused' });
    assert.equal(await deciderMetric(decider, 'okgsq_agents_connected'), 1);
  });
});
