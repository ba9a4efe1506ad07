// Streams before and after their session, over real grpc-js on loopback with fake ports: every stream that
// gets no session is counted once under one reason (undecodable and oversized first messages included),
// one address cannot fill the authentication queue, the queue is bounded, and a session ends when its
// identity does.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Client, credentials, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { startAgentServer, type AgentServer } from '../../../../decider/ingest/agent-server.js';
import type { IngestLimits } from '../../../../decider/ingest/agent-service.js';
import type { AgentAuthenticator } from '../../../../decider/ingest/ports.js';
import { FakeAuthenticator, FakeMetrics, FakePlanSource, FakeSink, silentLogger, target, TestAgent, wireOutcome } from './ingest-kit.js';
import { waitFor } from '../../../testbed/wait-for.js';

interface Bed {
  server: AgentServer;
  plans: FakePlanSource;
  metrics: FakeMetrics;
  address: string;
  agent(token: string | undefined): TestAgent;
  close(): Promise<void>;
}

async function bed(limits: Partial<IngestLimits> = {}, authenticator: AgentAuthenticator = new FakeAuthenticator()): Promise<Bed> {
  const plans = new FakePlanSource();
  const metrics = new FakeMetrics();
  const server = await startAgentServer({ port: 0, host: '127.0.0.1', tls: 'insecure', plans, sink: new FakeSink(), authenticator, metrics, logger: silentLogger, limits });
  const address = `127.0.0.1:${server.port}`;
  const agents: TestAgent[] = [];
  const raws: Client[] = [];
  return {
    server, plans, metrics, address,
    agent(token) {
      const a = new TestAgent(address, token);
      agents.push(a);
      return a;
    },
    async close() {
      for (const a of agents) a.close();
      for (const r of raws) r.close();
      await server.stop();
    },
  };
}

/** A stream that sends `bytes` as its first message, as they are (no protobuf encoding). */
function rawStream(address: string, token: string, bytes: Buffer): { client: Client; stream: ClientDuplexStream<Buffer, Buffer>; error: () => ServiceError | undefined } {
  const client = new Client(address, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
  const md = new Metadata();
  md.set('authorization', `Bearer ${token}`);
  const stream = client.makeBidiStreamRequest<Buffer, Buffer>('/okgsq.v1.AgentService/Connect', (b) => b, (b) => b, md);
  let error: ServiceError | undefined;
  stream.on('error', (e: ServiceError) => (error = e));
  stream.on('data', () => undefined);
  stream.write(bytes);
  return { client, stream, error: () => error };
}

/** An authenticator that answers each call only when the test opens its gate. */
function gatedAuthenticator(): { gates: (() => void)[]; slow: AgentAuthenticator } {
  const gates: (() => void)[] = [];
  const real = new FakeAuthenticator();
  const slow: AgentAuthenticator = {
    authenticate: async (token, node, signal) => {
      await new Promise<void>((resolve) => gates.push(resolve));
      return real.authenticate(token, node, signal);
    },
    revoked: () => undefined,
    onChange: () => undefined,
  };
  return { gates, slow };
}

const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

describe('agent stream admission', () => {
  const beds: Bed[] = [];
  after(async () => {
    for (const b of beds) await b.close();
  });
  const open = async (limits: Partial<IngestLimits> = {}, authenticator?: AgentAuthenticator): Promise<Bed> => {
    const b = await bed(limits, authenticator);
    beds.push(b);
    return b;
  };

  it('counts an undecodable first message (INVALID_ARGUMENT) and an oversized one (ended by gRPC) as refusals', async () => {
    const b = await open();
    const garbage = rawStream(b.address, 'token-node-a', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    await waitFor(() => garbage.error() !== undefined, { what: 'the undecodable stream refused', timeoutMs: 10_000 });
    assert.equal(garbage.error()!.code, status.INVALID_ARGUMENT);
    const huge = rawStream(b.address, 'token-node-a', Buffer.alloc(5 * 1024 * 1024, 0x41));
    await waitFor(() => huge.error() !== undefined, { what: 'the oversized stream ended', timeoutMs: 10_000 });
    assert.equal(huge.error()!.code, status.RESOURCE_EXHAUSTED);
    await waitFor(() => total(b.metrics.refused) === 2, { what: 'both counted', timeoutMs: 10_000 });
    assert.deepEqual([...b.metrics.refused].sort(), [['cancelled', 1], ['invalid_argument', 1]]);
    garbage.client.close();
    huge.client.close();
  });

  it('counts every stream that gets no session exactly once: opened = sessions + refusals', async () => {
    const b = await open({ helloTimeoutMs: 200 });
    b.plans.set('node-ok', [target('node-ok', 'p1')]);
    const outcomes: TestAgent[] = [
      b.agent(undefined).hello('node-a'),
      b.agent('forged').hello('node-a'),
      b.agent('user-node-a').hello('node-a'),
      b.agent('token-node-a').hello('Not_A_Node!'),
      b.agent('token-node-a'), // never says Hello
    ];
    const notHello = b.agent('token-node-a');
    notHello.sendOutcomes([wireOutcome('p1')]);
    outcomes.push(notHello);
    const ok = b.agent('token-node-ok').hello('node-ok');
    const cancelled = b.agent('token-node-b'); // hangs up before its Hello
    await waitFor(() => ok.plans().length === 1, { what: 'the session', timeoutMs: 10_000 });
    cancelled.close();
    for (const a of outcomes) await a.waitForError();
    await waitFor(() => total(b.metrics.refused) === 7, { what: 'every refusal counted', timeoutMs: 10_000 });
    assert.deepEqual(
      [...b.metrics.refused].sort(),
      [['cancelled', 1], ['deadline_exceeded', 1], ['invalid_argument', 2], ['permission_denied', 1], ['unauthenticated', 2]],
    );
    assert.equal(b.server.service.pendingStreams, 0, 'nothing left awaiting admission');
  });

  it("limits one address's streams awaiting authentication, and its failed authentications", async () => {
    const { gates, slow } = gatedAuthenticator();
    const b = await open({ maxPendingStreamsPerPeer: 3 }, slow);
    const waiting = [1, 2, 3].map((i) => b.agent(`token-n${i}`).hello(`n${i}`));
    await waitFor(() => gates.length === 3, { what: 'three authenticating', timeoutMs: 10_000 });
    const fourth = b.agent('token-n4').hello('n4');
    const err = await fourth.waitForError();
    assert.equal(err.code, status.RESOURCE_EXHAUSTED);
    assert.deepEqual([...b.metrics.refused], [['peer_limit', 1]]);
    for (const g of gates) g();
    for (const a of waiting) a.close();

    // Failed authentications: a burst, then refused at once, before any authentication.
    const c = await open({ failedAuthenticationBurstPerPeer: 3, failedAuthenticationsPerSecondPerPeer: 0.001 });
    for (let i = 0; i < 3; i++) assert.equal((await c.agent(`forged-${i}`).hello('node-a').waitForError()).code, status.UNAUTHENTICATED);
    const refused = await c.agent('token-node-a').hello('node-a').waitForError();
    assert.equal(refused.code, status.RESOURCE_EXHAUSTED, 'even a good token, from an address that keeps failing');
    assert.deepEqual([...c.metrics.refused].sort(), [['peer_limit', 1], ['unauthenticated', 3]]);
  });

  it('refuses at once (overloaded) when the authentication queue is full, and serves the queue in order', async () => {
    const { gates, slow } = gatedAuthenticator();
    const b = await open({ maxConcurrentAuthentications: 1, maxQueuedAuthentications: 2, maxPendingStreamsPerPeer: 100 }, slow);
    for (const n of ['q1', 'q2', 'q3']) b.plans.set(n, [target(n, `${n}-pod`)]);
    const first = b.agent('token-q1').hello('q1');
    await waitFor(() => gates.length === 1, { what: 'one authenticating', timeoutMs: 10_000 });
    const queued = [b.agent('token-q2').hello('q2'), b.agent('token-q3').hello('q3')];
    await waitFor(() => b.server.service.pendingStreams === 3, { what: 'two queued', timeoutMs: 10_000 });
    const extra = await b.agent('token-q4').hello('q4').waitForError();
    assert.equal(extra.code, status.UNAVAILABLE);
    assert.deepEqual([...b.metrics.refused], [['overloaded', 1]]);
    queued[0]!.close(); // a queued stream that goes leaves the queue
    await waitFor(() => b.metrics.refused.get('cancelled') === 1, { what: 'the cancelled one counted', timeoutMs: 10_000 });
    gates.shift()!();
    await waitFor(() => first.plans().length === 1, { what: 'the first session', timeoutMs: 10_000 });
    await waitFor(() => gates.length === 1, { what: 'the last queued one authenticating', timeoutMs: 10_000 });
    gates.shift()!();
    await waitFor(() => queued[1]!.plans().length === 1, { what: 'its session', timeoutMs: 10_000 });
  });

  it('ends a session when its identity no longer holds (pod gone, token expired), counted by reason', async () => {
    const auth = new FakeAuthenticator();
    const b = await open({}, auth);
    b.plans.set('node-x', [target('node-x', 'x1')]);
    b.plans.set('node-y', [target('node-y', 'y1')]);
    const x = b.agent('token-node-x').hello('node-x');
    const y = b.agent('token-node-y').hello('node-y');
    await waitFor(() => x.plans().length === 1 && y.plans().length === 1, { what: 'both sessions', timeoutMs: 10_000 });
    auth.revoke('node-x');
    const err = await x.waitForError();
    assert.equal(err.code, status.UNAUTHENTICATED);
    assert.match(err.details, /agent pod of node-x is gone/);
    assert.deepEqual([...b.metrics.revoked], [['pod_gone', 1]]);
    assert.deepEqual(b.server.service.connectedNodes(), ['node-y']);
    assert.equal(y.error, undefined, 'the other agent keeps its session');
    // Expiry is noticed by the periodic check (no event announces it).
    auth.revokedNodes.set('node-y', { reason: 'token_expired', message: 'the agent token has expired' });
    assert.equal((await y.waitForError(3_000)).code, status.UNAUTHENTICATED);
    assert.deepEqual([...b.metrics.revoked].sort(), [['pod_gone', 1], ['token_expired', 1]]);
    // And the same identity is refused from then on.
    assert.equal((await b.agent('token-node-x').hello('node-x').waitForError()).code, status.UNAUTHENTICATED);
  });
});
