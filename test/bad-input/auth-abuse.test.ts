// Unauthenticated peers against the running decider, with every request it makes to the real apiserver
// seen by a proxy: a storm of forged agent streams from one address must not turn into a TokenReview
// each, nor hold a real agent's plan back; garbage tokens cost no TokenReview at all; and every stream
// that gets no session is counted, undecodable and oversized first messages included.
// Before the fix: 1,500 forged streams gave ~1,500 TokenReviews and a real agent waited ~10 s for its plan.
// Lower-level proofs: test/unit/decider/ingest/agent-admission.test.ts, token-authenticator.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Client, credentials, Metadata, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { AgentServiceClient, type AgentMessage, type DeciderMessage } from '../../proto/gen/okgsq/v1/agent.js';
import { startTcpProxy, type TcpProxy } from '../fault/tcp-proxy.js';
import { waitFor } from '../testbed/wait-for.js';
import { TestAgent } from '../unit/decider/ingest/ingest-kit.js';
import { metricSum, WireBed } from './wire-kit.js';

const STORM = 1_500;
/** The real agent's TokenReview waits behind at most a peer's few pending ones, not behind the storm. */
const REVIEWS_AHEAD_BOUND = 16;
/**
 * The real agent's plan during the storm, in time: well under the ~10 s the unbounded queue cost. Generous,
 * because the bed shares two cores with other work (the decider still has to refuse 1,500 streams).
 */
const PLAN_WAIT_BOUND_MS = 6_000;
/** TokenReviews the storm may cost: a peer's pending limit and failure budget, not one per stream. */
const STORM_REVIEWS_BOUND = 40;

/** A well-formed agent token (our audience, not expired) with a signature no apiserver made. */
function forgedJwt(): string {
  const part = (o: object): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  return `${part({ alg: 'RS256', kid: 'x' })}.${part({ aud: ['okg-sq'], exp: now + 3600, iat: now, sub: `system:serviceaccount:x:${randomBytes(6).toString('hex')}` })}.${randomBytes(256).toString('base64url')}`;
}

/** `n` streams on ONE connection (one peer), each with its own token and a Hello. */
function storm(address: string, tokens: () => string, n: number, node: string): { client: AgentServiceClient; errors: ServiceError[] } {
  const client = new AgentServiceClient(address, credentials.createInsecure());
  const errors: ServiceError[] = [];
  for (let i = 0; i < n; i++) {
    const md = new Metadata();
    md.set('authorization', `Bearer ${tokens()}`);
    const stream: ClientDuplexStream<AgentMessage, DeciderMessage> = client.connect(md);
    stream.on('error', (e: ServiceError) => errors.push(e));
    stream.on('data', () => undefined);
    stream.write({ body: { $case: 'hello', value: { nodeName: node, agentVersion: 'storm', runtimeName: 'x', runtimeVersion: '0' } } });
  }
  return { client, errors };
}

describe('unauthenticated peers against the running decider', () => {
  const bed = new WireBed();
  let fromElsewhere: TcpProxy;
  let fromThird: TcpProxy;

  before(async () => {
    await bed.start('bad-auth', [{ name: 'state', containerName: 'game', permanent: false, exec: { command: ['true'] }, serviceQualityAction: [{ state: true, opsState: 'Up' }] }], {}, true);
    await bed.room('room-0');
    // The storm comes from 127.0.0.2: another peer than the real agent (127.0.0.1).
    fromElsewhere = await startTcpProxy({ host: '127.0.0.1', port: bed.decider!.grpcPort, localAddress: '127.0.0.2' });
    fromThird = await startTcpProxy({ host: '127.0.0.1', port: bed.decider!.grpcPort, localAddress: '127.0.0.3' });
  });
  after(async () => {
    await fromElsewhere?.close();
    await fromThird?.close();
    await bed.stop();
  });

  const reviews = (): number => bed.proxy!.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/tokenreviews')).length;
  const refused = async (): Promise<number> => metricSum(await bed.metrics(), 'okgsq_agent_streams_refused_total');

  it(`a storm of ${STORM} forged streams from one address costs a bounded number of TokenReviews, and a real agent gets its plan promptly`, async (t) => {
    const reviewsBefore = reviews();
    const refusedBefore = await refused();
    const forged = storm(fromElsewhere.address, forgedJwt, STORM, bed.node);
    // The storm has reached the decider once its first refusals come back: the real agent arrives now.
    await waitFor(() => forged.errors.length >= 8, { timeoutMs: 30_000, what: 'the storm under way' });
    const t0 = Date.now();
    const real = await bed.agent(1, bed.token, 120_000);
    const planMs = Date.now() - t0;
    await waitFor(() => forged.errors.length === STORM, { timeoutMs: 120_000, what: 'every forged stream refused' });
    const stormReviews = reviews() - reviewsBefore;
    // How many of the storm's TokenReviews went out after the real agent came and before its own did:
    // the queue it waited in (machine load cannot change this count, only the time it takes).
    const reviewLog = bed.proxy!.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/tokenreviews'));
    const own = reviewLog.findIndex((r) => r.body?.includes(bed.token));
    const ahead = reviewLog.slice(0, own).filter((r) => r.atMs >= t0).length;
    t.diagnostic(`real agent's plan after ${planMs} ms during the storm, behind ${ahead} of the storm's TokenReviews; ${stormReviews} TokenReviews for ${STORM} forged streams; refusals ${JSON.stringify(countCodes(forged.errors))}; load ${loadavg()[0]!.toFixed(1)}`);
    assert.ok(own >= 0, "the real agent's TokenReview");
    assert.ok(ahead <= REVIEWS_AHEAD_BOUND, `the real agent's TokenReview waited behind ${ahead} of the storm's`);
    assert.ok(planMs < PLAN_WAIT_BOUND_MS, `the real agent waited ${planMs} ms for its plan`);
    assert.ok(stormReviews <= STORM_REVIEWS_BOUND, `${stormReviews} TokenReviews`);
    assert.ok(forged.errors.every((e) => e.code === status.UNAUTHENTICATED || e.code === status.RESOURCE_EXHAUSTED), JSON.stringify(countCodes(forged.errors)));
    await waitFor(async () => (await refused()) - refusedBefore === STORM, { timeoutMs: 10_000, what: 'each forged stream counted once' });
    const text = await bed.metrics();
    assert.ok(metricSum(text, 'okgsq_agent_streams_refused_total', 'reason="peer_limit"') > 0);
    forged.client.close();
    assert.equal(real.error, undefined);
  });

  it('refuses garbage tokens without any TokenReview', async () => {
    const before = reviews();
    // Fewer than a peer's pending limit at a time, and within its failure budget: each one reaches the authenticator.
    for (let round = 0; round < 2; round++) {
      const garbage = storm(fromThird.address, () => randomBytes(300).toString('base64'), 5, bed.node);
      await waitFor(() => garbage.errors.length === 5, { timeoutMs: 20_000, what: 'every garbage stream refused' });
      assert.deepEqual(countCodes(garbage.errors), { UNAUTHENTICATED: 5 });
      garbage.client.close();
    }
    assert.equal(reviews() - before, 0);
  });

  it('counts a stream refused for an undecodable or an oversized first message', async () => {
    const text = await bed.metrics();
    const before = { invalid: metricSum(text, 'okgsq_agent_streams_refused_total', 'reason="invalid_argument"'), cancelled: metricSum(text, 'okgsq_agent_streams_refused_total', 'reason="cancelled"') };
    const raw = new Client(`127.0.0.1:${bed.decider!.grpcPort}`, credentials.createInsecure(), { 'grpc.max_send_message_length': -1 });
    const send = (bytes: Buffer): Promise<ServiceError> => {
      const md = new Metadata();
      md.set('authorization', `Bearer ${bed.token}`);
      const stream = raw.makeBidiStreamRequest<Buffer, Buffer>('/okgsq.v1.AgentService/Connect', (b) => b, (b) => b, md);
      stream.on('data', () => undefined);
      stream.write(bytes);
      return new Promise((resolve) => stream.on('error', resolve));
    };
    assert.equal((await send(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).code, status.INVALID_ARGUMENT);
    assert.equal((await send(Buffer.alloc(5 * 1024 * 1024, 0x41))).code, status.RESOURCE_EXHAUSTED);
    await waitFor(async () => {
      const now = await bed.metrics();
      return metricSum(now, 'okgsq_agent_streams_refused_total', 'reason="invalid_argument"') === before.invalid + 1 && metricSum(now, 'okgsq_agent_streams_refused_total', 'reason="cancelled"') === before.cancelled + 1;
    }, { timeoutMs: 5_000, what: 'both refusals counted' });
    raw.close();
  });

  it('stays up and serves the real agent', async () => {
    assert.ok(await bed.decider!.healthy());
    const agent = new TestAgent(`127.0.0.1:${bed.decider!.grpcPort}`, bed.token).hello(bed.node);
    bed.agents.push(agent);
    await waitFor(() => agent.plans().length > 0, { timeoutMs: 5_000, what: 'a plan' });
    assert.doesNotMatch(bed.decider!.program.log, /uncaught|unhandled|FATAL/i);
  });
});

function countCodes(errors: readonly ServiceError[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const e of errors) out[status[e.code]] = (out[status[e.code]] ?? 0) + 1;
  return out;
}
