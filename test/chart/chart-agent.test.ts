// The chart's settings work between the real programs: an agent configured exactly as the DaemonSet
// configures it (env, the CA from the chart's TLS Secret, a pod-bound token with the projected
// volume's audience) connects over TLS to a decider configured as the Deployment configures it, which
// authenticates it with the chart's RBAC (TokenReview + the agent pod). A token for another audience is
// refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../testbed/free-port.js';
import { httpGet } from '../testbed/https-get.js';
import { createNamespace } from '../testbed/kube.js';
import type { ManagedProcess } from '../testbed/managed-process.js';
import { waitFor } from '../testbed/wait-for.js';
import { agentTokenProjection, deciderMetric, helmInstall, helmUninstall, releaseManifest, startChartAgent, startChartDecider, type RunningDecider } from './bed-release.js';
import type { KubeObject } from './helm.js';

const AGENT_CONNECT_TIMEOUT_MS = 30_000;

describe('agent and decider wired by the chart', () => {
  /** The path of the DaemonSet's readinessProbe. */
  const readinessPath = (): string => {
    const ds = objects.find((o) => o.kind === 'DaemonSet') as any;
    return ds.spec.template.spec.containers[0].readinessProbe.httpGet.path as string;
  };
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

  it('an agent with the projected token audience connects over the chart TLS', async () => {
    assert.equal(agentTokenProjection(objects).audience, decider.env.OKGSQ_TOKEN_AUDIENCE);
    const httpPort = await freePort();
    const agent = await startChartAgent(releaseNs, objects, decider, 'chart-node-1', { httpPort });
    agents.push(agent);
    await waitFor(async () => {
      agent.assertRunning();
      return (await deciderMetric(decider, 'okgsq_agents_connected')) === 1;
    }, { timeoutMs: AGENT_CONNECT_TIMEOUT_MS, intervalMs: 200, what: 'okgsq_agents_connected 1 on the decider' });
    // The DaemonSet's readinessProbe passes once the session is up and the CRI answers.
    const ready = await waitFor(async () => {
      const res = await httpGet(`http://127.0.0.1:${httpPort}${readinessPath()}`);
      return res.status === 200 ? res : undefined;
    }, { timeoutMs: AGENT_CONNECT_TIMEOUT_MS, intervalMs: 200, what: 'the agent Ready' });
    assert.equal(ready.body, 'ok\n');
  });

  it('an agent whose token has another audience is refused', async () => {
    const httpPort = await freePort();
    const agent = await startChartAgent(releaseNs, objects, decider, 'chart-node-2', { audience: 'not-okg-sq', httpPort });
    agents.push(agent);
    // The refused agent keeps retrying; the decider never counts it.
    await waitFor(() => {
      agent.assertRunning();
      return /UNAUTHENTICATED|unauthenticated/.test(agent.logTail());
    }, { timeoutMs: AGENT_CONNECT_TIMEOUT_MS, intervalMs: 200, what: 'the wrong-audience agent refused' });
    assert.equal(await deciderMetric(decider, 'okgsq_agents_connected'), 1);
    // Never Ready: a rollout with a bad token stops here (minReadySeconds, maxUnavailable).
    assert.deepEqual(await httpGet(`http://127.0.0.1:${httpPort}${readinessPath()}`), { status: 503, body: 'no session with the decider\n' });
  });
});
