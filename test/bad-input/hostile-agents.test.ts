// Hostile agents against the real decider process over real gRPC with TLS, authenticated by the real
// apiserver's TokenReview: a flood, a claim on another node, forged / expired / pod-deleted tokens, a
// client without TLS. Meanwhile a real agent on its own node keeps its GameServer flipping.
// Lower-level proofs this tier does not repeat: test/unit/decider/ingest/agent-service.test.ts (each
// refusal on a fake authenticator, the token bucket), agent-server-tls.test.ts (TLS on the server alone),
// test/integration/ingest/agent-auth.test.ts (forged and other-node tokens on an in-process server).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { credentials, status } from '@grpc/grpc-js';
import { testbedEnv } from '../testbed/env.js';
import { createNamespace } from '../testbed/kube.js';
import { FakeKubelet } from '../testbed/fake-kubelet.js';
import { CriClient } from '../testbed/cri-client.js';
import { waitFor } from '../testbed/wait-for.js';
import { TestAgent, wireOutcome } from '../unit/decider/ingest/ingest-kit.js';
import { adminClient, agentToken, DeciderProcess, GAME, metricSum, must, resigned, startAgent, type Program } from './bad-kit.js';

const SERVER_NAME = 'okg-sq-decider.okg-sq.svc';
const FLOOD_OUTCOMES = 120_000; // past the per-stream burst (50,000) and rate (20,000/s)
const FLOOD_BATCH = 1_000;

describe('hostile agents against the running decider', () => {
  const admin = adminClient();
  const env = testbedEnv();
  const suffix = randomBytes(3).toString('hex');
  const [nodeA, nodeB] = [`good-${suffix}`, `flood-${suffix}`];
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: nodeA });
  const cri = new CriClient(env.containerdSocket);
  const clients: TestAgent[] = [];
  let ns = '';
  let decider: DeciderProcess | undefined;
  let agent: Program | undefined;
  let tokenB = '';
  let containerId = '';
  let tlsCreds: ReturnType<typeof credentials.createSsl>;

  before(async () => {
    ns = await createNamespace('bad-agents');
    const dir = mkdtempSync(join(env.workDir, 'bad-agents-tls-'));
    const [cert, key] = [join(dir, 'tls.crt'), join(dir, 'tls.key')];
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${SERVER_NAME}`, '-addext', `subjectAltName=DNS:${SERVER_NAME}`, '-keyout', key, '-out', cert], { stdio: 'ignore' });
    tlsCreds = credentials.createSsl(readFileSync(cert));
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameserversets`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServerSet', metadata: { name: 'room', namespace: ns },
      spec: {
        replicas: 1, gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } },
        serviceQualities: [{
          name: 'state', containerName: 'game', permanent: false, exec: { command: ['cat', '/state'] },
          initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 2, failureThreshold: 1, successThreshold: 1,
          serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }],
        }],
      },
    });
    await must(admin, 'POST', `${GAME}/namespaces/${ns}/gameservers`, {
      apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name: 'room-0', namespace: ns, labels: { 'game.kruise.io/owner-gss': 'room' } }, spec: { opsState: 'None' },
    });
    const pod = await kubelet.runPod({ namespace: ns, name: 'room-0', labels: { 'game.kruise.io/owner-gss': 'room' }, containers: [{ name: 'game', command: ['sh', '-c', 'printf Allocated > /state; exec sleep 1000000'] }] });
    containerId = pod.containers[0]!.id;
    const tokenA = await agentToken(admin, ns, nodeA);
    tokenB = await agentToken(admin, ns, nodeB);
    decider = await DeciderProcess.start(ns, { OKGSQ_INSECURE_GRPC: 'false', OKGSQ_TLS_CERT_FILE: cert, OKGSQ_TLS_KEY_FILE: key });
    agent = startAgent(nodeA, decider.grpcPort, tokenA, { OKGSQ_INSECURE_GRPC: 'false', OKGSQ_TLS_CA_FILE: cert, OKGSQ_TLS_SERVER_NAME: SERVER_NAME });
    await opsStateBecomes('Allocated');
  });

  after(async () => {
    for (const c of clients) c.close();
    await agent?.stop();
    await decider?.program.stop();
    await kubelet.close();
    cri.close();
    admin.close();
  });

  function client(token: string, creds = tlsCreds): TestAgent {
    const c = new TestAgent(`127.0.0.1:${decider!.grpcPort}`, token, creds, creds === tlsCreds ? { 'grpc.ssl_target_name_override': SERVER_NAME, 'grpc.default_authority': SERVER_NAME } : {});
    clients.push(c);
    return c;
  }

  async function opsStateBecomes(want: string, timeoutMs = 30_000): Promise<void> {
    await waitFor(async () => (await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-0`)).spec.opsState === want, { timeoutMs, intervalMs: 100, what: `opsState ${want}` }).catch((err) => {
      throw new Error(`opsState never became ${want}; agent log:\n${agent?.log.slice(-3000)}\ndecider log:\n${decider?.program.log.slice(-3000)}`, { cause: err });
    });
  }

  async function flip(to: string): Promise<number> {
    const t0 = Date.now();
    await cri.execSync({ containerId, cmd: ['sh', '-c', `printf ${to} > /state`], timeout: 10 });
    await opsStateBecomes(to);
    return Date.now() - t0;
  }

  it('slows and counts a flooding agent, while another agent on its own node keeps flipping its GameServer', async () => {
    const flooder = client(tokenB).hello(nodeB);
    await waitFor(() => flooder.plans().length === 1 || flooder.error !== undefined, { timeoutMs: 10_000, what: "the flooder's (empty) plan" });
    assert.equal(flooder.error, undefined);
    const before = await decider!.metrics();
    const t0 = Date.now();
    const flood = (async () => {
      const batch = Array.from({ length: FLOOD_BATCH }, (_, i) => wireOutcome(`not-a-pod-${i}`, 'state', false, 'Maintaining'));
      for (let sent = 0; sent < FLOOD_OUTCOMES; sent += FLOOD_BATCH) {
        const ok = flooder.stream.write({ body: { $case: 'outcomes', value: { outcomes: batch, resync: false, counters: [], planGeneration: 0 } } });
        if (!ok) await once(flooder.stream, 'drain'); // the decider's pause reaches us as backpressure
      }
    })();
    const flipMs = await flip('WaitToBeDeleted');
    await flood;
    await waitFor(async () => metricSum(await decider!.metrics(), 'okgsq_outcomes_received_total') - metricSum(before, 'okgsq_outcomes_received_total') >= FLOOD_OUTCOMES, {
      timeoutMs: 30_000, what: 'the whole flood received',
    });
    const floodMs = Date.now() - t0;
    const after = await decider!.metrics();
    const delta = (name: string, labels = '') => metricSum(after, name, labels) - metricSum(before, name, labels);
    console.log(`flood: ${FLOOD_OUTCOMES} outcomes in ${floodMs} ms, throttled ${delta('okgsq_outcomes_throttled_total')}; the good agent's flip took ${flipMs} ms; decider RSS ${decider!.program.rssMiB().toFixed(0)} MiB`);
    assert.ok(delta('okgsq_outcomes_rejected_total', 'reason="unplanned"') >= FLOOD_OUTCOMES, 'every flooded outcome is counted as unplanned');
    assert.ok(delta('okgsq_outcomes_throttled_total') > 0, 'the flood was throttled');
    // 120,000 outcomes over a 50,000 burst at 20,000/s: at least 3.5 s, so it really was slowed.
    assert.ok(floodMs >= 3_000, `the flood took only ${floodMs} ms`);
    assert.ok(flipMs < 5_000, `the other agent's flip took ${flipMs} ms during the flood`);
    assert.equal((await must(admin, 'GET', `${GAME}/namespaces/${ns}/gameservers/room-0`)).spec.opsState, 'WaitToBeDeleted', 'no flooded outcome reached the GameServer');
    assert.ok(decider!.program.rssMiB() < 300, 'decider memory bounded');
  });

  it("refuses an agent claiming another node with PERMISSION_DENIED, and sends it no plan", async () => {
    const liar = client(tokenB).hello(nodeA);
    const err = await liar.waitForError(10_000);
    assert.equal(err.code, status.PERMISSION_DENIED, err.message);
    assert.match(err.details, new RegExp(nodeA));
    assert.equal(liar.plans().length, 0);
  });

  it('refuses forged, expired and pod-deleted tokens with UNAUTHENTICATED', async () => {
    // The re-signing is right (a copy still valid is accepted), so the expired copy fails on its expiry alone.
    const valid = client(resigned(tokenB, 600)).hello(nodeB);
    await waitFor(() => valid.plans().length === 1 || valid.error !== undefined, { timeoutMs: 10_000, what: 'the re-signed token accepted' });
    assert.equal(valid.error, undefined, `re-signed valid token refused: ${valid.error?.details}`);
    valid.close();
    const [h, p, s] = tokenB.split('.');
    const claims = JSON.parse(Buffer.from(p!, 'base64url').toString());
    claims['kubernetes.io'].node.name = nodeA;
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${s}`;
    const deletedPodToken = await agentToken(admin, ns, `gone-${suffix}`);
    await must(admin, 'DELETE', `/api/v1/namespaces/${ns}/pods/okg-sq-agent-gone-${suffix}?gracePeriodSeconds=0`);
    for (const [what, token, node] of [['forged', forged, nodeA], ['expired', resigned(tokenB, -3600), nodeB], ['pod deleted', deletedPodToken, `gone-${suffix}`], ['garbage', randomBytes(3_000).toString('base64'), nodeB]] as const) {
      const c = client(token).hello(node);
      const err = await c.waitForError(10_000);
      assert.equal(err.code, status.UNAUTHENTICATED, `${what}: ${err.code} ${err.details}`);
      assert.equal(c.plans().length, 0, `${what}: got a plan`);
    }
  });

  it('refuses a client without TLS, and stays up for the real agent', async () => {
    const plain = client(tokenB, credentials.createInsecure()).hello(nodeB);
    const err = await plain.waitForError(10_000);
    assert.equal(err.code, status.UNAVAILABLE, err.message);
    assert.equal(plain.plans().length, 0);
    assert.ok(await decider!.healthy());
    assert.ok(agent!.alive);
    await flip('None');
    assert.doesNotMatch(decider!.program.log, /uncaught|unhandled|FATAL/i);
  });
});
