// An agent's stream end to end on the auth side: a real pod-bound token, reviewed by the real
// apiserver, over a real grpc-js stream. Node A's token gets node A's plan and nothing else.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { CoreV1Api } from '@kubernetes/client-node';
import { startAgentServer, type AgentServer } from '../../../decider/ingest/agent-server.js';
import { realAuthenticator } from './real-authenticator.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';
import { FakeMetrics, FakePlanSource, FakeSink, silentLogger, target, TestAgent, wireOutcome } from '../../unit/decider/ingest/ingest-kit.js';
import { waitFor } from '../../testbed/wait-for.js';

describe('agent stream authentication with real ServiceAccount tokens', () => {
  const kc = adminKubeConfig();
  const core = kc.makeApiClient(CoreV1Api);
  const plans = new FakePlanSource();
  const sink = new FakeSink();
  const metrics = new FakeMetrics();
  const agents: TestAgent[] = [];
  let server: AgentServer;
  let stopAuth: () => Promise<void>;
  let tokenA: string;

  before(async () => {
    const ns = await createNamespace('ingest-auth', kc);
    await core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'okg-sq-agent' } } });
    const pod = await core.createNamespacedPod({
      namespace: ns,
      body: { metadata: { name: 'agent-a' }, spec: { nodeName: 'node-a', serviceAccountName: 'okg-sq-agent', automountServiceAccountToken: false, containers: [{ name: 'agent', image: 'okg-sq-agent:test' }] } },
    });
    const req = await core.createNamespacedServiceAccountToken({
      namespace: ns,
      name: 'okg-sq-agent',
      body: { spec: { audiences: ['okg-sq'], expirationSeconds: 600, boundObjectRef: { apiVersion: 'v1', kind: 'Pod', name: 'agent-a', uid: pod.metadata!.uid! } } },
    });
    tokenA = req.status!.token;
    plans.set('node-a', [target('node-a', 'pod-on-a')]);
    plans.set('node-b', [target('node-b', 'pod-on-b')]);
    const real = await realAuthenticator(kc, ns);
    stopAuth = real.stop;
    server = await startAgentServer({ port: 0, host: '127.0.0.1', tls: 'insecure', plans, sink, metrics, logger: silentLogger, authenticator: real.auth });
  });
  after(async () => {
    for (const a of agents) a.close();
    await server?.stop();
    await stopAuth?.();
  });

  function agent(token: string): TestAgent {
    const a = new TestAgent(`127.0.0.1:${server.port}`, token);
    agents.push(a);
    return a;
  }

  it("gets its own node's plan and reports its pods, but not another node's pods", async () => {
    const a = agent(tokenA).hello('node-a');
    await waitFor(() => a.plans().length === 1, { what: 'the plan', timeoutMs: 10_000 });
    assert.deepEqual(a.plans()[0]!.upsert.map((x) => x.podUid), ['pod-on-a']);
    a.sendOutcomes([wireOutcome('pod-on-b', 'healthy', false, 'Maintaining'), wireOutcome('pod-on-a')]);
    await waitFor(() => sink.accepted.length === 1, { what: 'the accepted outcome', timeoutMs: 10_000 });
    assert.deepEqual(sink.accepted.map((x) => [x.node, x.outcome.podUid]), [['node-a', 'pod-on-a']]);
    assert.equal(metrics.rejected.get('unplanned'), 1);
  });

  it("cannot claim another node with node A's token", async () => {
    const a = agent(tokenA).hello('node-b');
    assert.equal((await a.waitForError(10_000)).code, status.PERMISSION_DENIED);
    assert.equal(a.plans().length, 0);
  });

  it('is refused with a forged token', async () => {
    const [h, p, s] = tokenA.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims['kubernetes.io'].node.name = 'node-b';
    const a = agent(`${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`).hello('node-b');
    assert.equal((await a.waitForError(10_000)).code, status.UNAUTHENTICATED);
  });
});
