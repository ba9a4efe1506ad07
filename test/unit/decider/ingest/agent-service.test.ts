// The agents' gRPC service over a real grpc-js connection on loopback, with fake ports behind it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { startAgentServer, type AgentServer } from '../../../../decider/ingest/agent-server.js';
import { LEADER_IDENTITY_TRAILER, LEADER_TRAILER } from '../../../../common/agent-protocol.js';
import { PROBE_DURATION_BUCKETS_SECONDS } from '../../../../common/probe-duration-buckets.js';
import type { AgentAuthenticator, AgentIdentity } from '../../../../decider/ingest/ports.js';
import type { Clock } from '../../../../common/clock.js';
import { FakeClock } from '../../probe/fake-clock.js';
import {
  FakeAuthenticator,
  FakeMetrics,
  FakePlanSource,
  FakeSink,
  silentLogger,
  target,
  TestAgent,
  wireOutcome,
} from './ingest-kit.js';
import { waitFor } from '../../../testbed/wait-for.js';

interface Bed {
  server: AgentServer;
  plans: FakePlanSource;
  sink: FakeSink;
  metrics: FakeMetrics;
  address: string;
  agents: TestAgent[];
  agent(token: string | undefined): TestAgent;
}

async function bed(limits: Record<string, number> = {}, authenticator: AgentAuthenticator = new FakeAuthenticator(), clock?: Clock): Promise<Bed> {
  const plans = new FakePlanSource();
  const sink = new FakeSink();
  const metrics = new FakeMetrics();
  const server = await startAgentServer({
    port: 0,
    host: '127.0.0.1',
    tls: 'insecure',
    plans,
    sink,
    authenticator,
    metrics,
    logger: silentLogger,
    limits,
    ...(clock ? { clock } : {}),
  });
  const address = `127.0.0.1:${server.port}`;
  const agents: TestAgent[] = [];
  return {
    server, plans, sink, metrics, address, agents,
    agent(token) {
      const a = new TestAgent(address, token);
      agents.push(a);
      return a;
    },
  };
}

/** An authenticator that never answers; it records the signal of each authentication. */
function hangingAuthenticator(): { hanging: AgentAuthenticator; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  const hanging: AgentAuthenticator = {
    authenticate: (_t, _n, signal) => {
      signals.push(signal);
      return new Promise<AgentIdentity>(() => undefined);
    },
    revoked: () => undefined,
    onChange: () => undefined,
  };
  return { hanging, signals };
}

async function teardown(b: Bed): Promise<void> {
  for (const a of b.agents) a.close();
  await b.server.stop();
}

describe('AgentService', () => {
  let b: Bed;
  before(async () => {
    b = await bed({ helloTimeoutMs: 300 });
  });
  after(async () => teardown(b));

  it('sends the full plan after Hello, then deltas with increasing generations', async () => {
    b.plans.set('node-a', [target('node-a', 'p1'), target('node-a', 'p2', 'healthy', { handler: { kind: 'httpGet', path: '/idle', port: 8080, scheme: 'HTTP', headers: [{ name: 'X-A', value: '1' }] } })]);
    b.plans.set('node-b', [target('node-b', 'other')]);
    const agent = b.agent('token-node-a').hello('node-a');
    await waitFor(() => agent.plans().length === 1, { what: 'the full plan', timeoutMs: 10_000 });
    const full = agent.plans()[0]!;
    assert.equal(full.full, true);
    assert.equal(full.generation, 1);
    assert.deepEqual(full.upsert.map((a) => a.podUid).sort(), ['p1', 'p2']);
    const http = full.upsert.find((a) => a.podUid === 'p2')!;
    assert.deepEqual(http.handler?.kind, { $case: 'httpGet', value: { path: '/idle', port: 8080, scheme: 'HTTP', headers: [{ name: 'X-A', value: '1' }] } });
    assert.equal(http.timing?.failureThreshold, 3);
    assert.deepEqual(b.sink.events, ['connected node-a']);

    b.plans.set('node-a', [target('node-a', 'p3')]);
    b.plans.remove('node-a', [{ podUid: 'p1', quality: 'healthy' }]);
    await waitFor(() => agent.plans().length >= 2, { what: 'a delta', timeoutMs: 10_000 });
    const delta = agent.plans()[1]!;
    assert.equal(delta.full, false);
    assert.equal(delta.generation, 2);
    // Both planner events of one tick arrive coalesced in one message.
    assert.deepEqual(delta.upsert.map((a) => a.podUid), ['p3']);
    assert.deepEqual(delta.remove, [{ podUid: 'p1', quality: 'healthy' }]);
    agent.close();
    await waitFor(() => b.sink.events.includes('disconnected node-a'), { what: 'the disconnect', timeoutMs: 10_000 });
    assert.equal(b.plans.subscriberCount('node-a'), 0, 'plan subscription released');
  });

  it('accepts planned outcomes and rejects (and counts) unplanned and malformed ones without ending the stream', async () => {
    b.plans.set('node-c', [target('node-c', 'c1'), target('node-c', 'c2', 'idle')]);
    b.plans.set('node-d', [target('node-d', 'd1')]);
    const before = new Map(b.metrics.rejected);
    const agent = b.agent('token-node-c').hello('node-c');
    await waitFor(() => agent.plans().length === 1, { what: 'the full plan', timeoutMs: 10_000 });
    agent.sendOutcomes([
      wireOutcome('c1', 'healthy', false, 'gate|down\n'),
      wireOutcome('d1'), // planned, but on another node
      wireOutcome('c2', 'unknown-quality'),
      { ...wireOutcome('c2', 'idle'), errorKind: 'made_up' },
    ]);
    agent.sendOutcomes([wireOutcome('c2', 'idle', true, 'WaitToBeDeleted')]);
    await waitFor(() => b.sink.accepted.filter((a) => a.node === 'node-c').length === 2, { what: 'the accepted outcomes', timeoutMs: 10_000 });
    const got = b.sink.accepted.filter((a) => a.node === 'node-c').map((a) => a.outcome);
    assert.deepEqual(got.map((o) => [o.podUid, o.quality, o.state, o.result]), [
      ['c1', 'healthy', false, 'gatedown'],
      ['c2', 'idle', true, 'WaitToBeDeleted'],
    ]);
    assert.equal((b.metrics.rejected.get('unplanned') ?? 0) - (before.get('unplanned') ?? 0), 2);
    assert.equal((b.metrics.rejected.get('invalid') ?? 0) - (before.get('invalid') ?? 0), 1);
    assert.ok(!b.sink.accepted.some((a) => a.outcome.podUid === 'd1'), "another node's pod is never accepted");
    assert.equal(agent.error, undefined, 'the stream stays open');
    agent.close();
  });

  it('keeps a resync sent right behind Hello, before authentication has finished', async () => {
    b.plans.set('node-q', [target('node-q', 'q1'), target('node-q', 'q2')]);
    const agent = b.agent('token-node-q').hello('node-q');
    agent.sendOutcomes([wireOutcome('q1'), wireOutcome('q2', 'healthy', false, 'down')]);
    await waitFor(() => b.sink.accepted.filter((a) => a.node === 'node-q').length === 2, { what: 'both outcomes', timeoutMs: 10_000 });
    assert.deepEqual(b.sink.accepted.filter((a) => a.node === 'node-q').map((a) => a.outcome.podUid), ['q1', 'q2']);
    agent.close();
  });

  it('takes counters only for labels of its own plan', async () => {
    b.plans.set('node-k', [target('node-k', 'k1')]);
    const agent = b.agent('token-node-k').hello('node-k');
    await waitFor(() => agent.plans().length === 1, { what: 'the full plan', timeoutMs: 10_000 });
    const buckets = new Array(PROBE_DURATION_BUCKETS_SECONDS.length + 1).fill(0);
    buckets[0] = 5;
    agent.sendOutcomes([], [
      { namespace: 'games', gameServerSet: 'minecraft', quality: 'healthy', runs: [{ outcome: 'true', errorKind: '', count: 5 }], durationBucketCounts: buckets, durationSumSeconds: 0.01 },
      { namespace: 'games', gameServerSet: 'invented-set', quality: 'healthy', runs: [{ outcome: 'true', errorKind: '', count: 1 }], durationBucketCounts: buckets, durationSumSeconds: 0.01 },
    ]);
    await waitFor(() => b.sink.counters.some((c) => c.node === 'node-k'), { what: 'counters', timeoutMs: 10_000 });
    agent.sendOutcomes([wireOutcome('k1')]);
    await waitFor(() => b.sink.accepted.some((a) => a.node === 'node-k'), { what: 'an outcome after the counters', timeoutMs: 10_000 });
    assert.deepEqual(b.sink.counters.filter((c) => c.node === 'node-k').map((c) => c.counters.gameServerSet), ['minecraft']);
    agent.close();
  });

  it('a second stream for a node replaces the first', async () => {
    b.plans.set('node-r', [target('node-r', 'r1')]);
    const first = b.agent('token-node-r').hello('node-r');
    await waitFor(() => first.plans().length === 1, { what: 'the first plan', timeoutMs: 10_000 });
    const second = b.agent('token-node-r').hello('node-r');
    await waitFor(() => second.plans().length === 1, { what: 'the second plan', timeoutMs: 10_000 });
    const err = await first.waitForError();
    assert.equal(err.code, status.ABORTED);
    assert.deepEqual(b.sink.events.filter((e) => e.endsWith('node-r')), ['connected node-r', 'disconnected node-r', 'connected node-r']);
    assert.deepEqual(b.server.service.connectedNodes().filter((n) => n === 'node-r'), ['node-r']);
    second.sendOutcomes([wireOutcome('r1')]);
    await waitFor(() => b.sink.accepted.some((a) => a.node === 'node-r'), { what: 'an outcome on the new stream', timeoutMs: 10_000 });
    second.close();
  });

  it('refuses a stream without a token with UNAUTHENTICATED', async () => {
    const agent = b.agent(undefined).hello('node-a');
    assert.equal((await agent.waitForError()).code, status.UNAUTHENTICATED);
  });

  it('refuses a forged token with UNAUTHENTICATED', async () => {
    const agent = b.agent('forged').hello('node-a');
    assert.equal((await agent.waitForError()).code, status.UNAUTHENTICATED);
  });

  it("refuses a node's token claiming another node with PERMISSION_DENIED, and sends it no plan", async () => {
    b.plans.set('node-victim', [target('node-victim', 'v1')]);
    const agent = b.agent('token-node-a').hello('node-victim');
    const err = await agent.waitForError();
    assert.equal(err.code, status.PERMISSION_DENIED);
    assert.equal(agent.plans().length, 0);
  });

  it('refuses a non-agent identity with PERMISSION_DENIED', async () => {
    const agent = b.agent('user-node-a').hello('node-a');
    assert.equal((await agent.waitForError()).code, status.PERMISSION_DENIED);
  });

  it('refuses a stream whose first message is not Hello with INVALID_ARGUMENT', async () => {
    const agent = b.agent('token-node-a');
    agent.sendOutcomes([wireOutcome('p1')]);
    assert.equal((await agent.waitForError()).code, status.INVALID_ARGUMENT);
  });

  it('ends a stream that never says Hello', async () => {
    const agent = b.agent('token-node-a');
    assert.equal((await agent.waitForError()).code, status.DEADLINE_EXCEEDED);
  });

  it('counts each refusal under its reason in okgsq_agent_streams_refused_total', async () => {
    const before = new Map(b.metrics.refused);
    const added = (reason: string): number => (b.metrics.refused.get(reason as never) ?? 0) - (before.get(reason as never) ?? 0);
    await b.agent(undefined).hello('node-a').waitForError();
    await b.agent('forged').hello('node-a').waitForError();
    await b.agent('user-node-a').hello('node-a').waitForError();
    const notHello = b.agent('token-node-a');
    notHello.sendOutcomes([wireOutcome('p1')]);
    await notHello.waitForError();
    await b.agent('token-node-a').waitForError();
    assert.deepEqual(
      ['unauthenticated', 'permission_denied', 'invalid_argument', 'deadline_exceeded', 'not_leader', 'auth_unavailable'].map((r) => [r, added(r)]),
      [['unauthenticated', 2], ['permission_denied', 1], ['invalid_argument', 1], ['deadline_exceeded', 1], ['not_leader', 0], ['auth_unavailable', 0]],
    );
    // An accepted stream is not a refusal.
    b.plans.set('node-ok', [target('node-ok', 'ok1')]);
    const ok = b.agent('token-node-ok').hello('node-ok');
    await waitFor(() => ok.plans().length === 1, { what: 'the plan', timeoutMs: 10_000 });
    assert.equal([...b.metrics.refused.values()].reduce((x, y) => x + y, 0) - [...before.values()].reduce((x, y) => x + y, 0), 5);
    ok.close();
  });
});

describe('AgentService leadership', () => {
  it('drain() ends open streams with UNAVAILABLE and refuses new ones until start()', async () => {
    const b = await bed();
    try {
      b.plans.set('node-a', [target('node-a', 'p1')]);
      const agent = b.agent('token-node-a').hello('node-a');
      await waitFor(() => agent.plans().length === 1, { what: 'the plan', timeoutMs: 10_000 });
      await b.server.deactivate();
      assert.equal((await agent.waitForError()).code, status.UNAVAILABLE);
      assert.equal(b.metrics.connected, 0);
      assert.deepEqual(b.sink.events, ['connected node-a', 'disconnected node-a']);
      const refused = b.agent('token-node-a').hello('node-a');
      assert.equal((await refused.waitForError()).code, status.UNAVAILABLE);
      assert.equal(b.metrics.refused.get('not_leader'), 1, 'a leader stepping down refuses as not_leader');
      b.server.activate();
      const again = b.agent('token-node-a').hello('node-a');
      await waitFor(() => again.plans().length === 1, { what: 'the plan after start()', timeoutMs: 10_000 });
    } finally {
      await teardown(b);
    }
  });

  it('a standby refuses a stream with UNAVAILABLE "not the leader" and okgsq-leader: false, before any TokenReview', async () => {
    const plans = new FakePlanSource();
    const sink = new FakeSink();
    const metrics = new FakeMetrics();
    const authenticator = new FakeAuthenticator();
    const server = await startAgentServer({
      port: 0,
      host: '127.0.0.1',
      tls: 'insecure',
      plans,
      sink,
      authenticator,
      metrics,
      logger: silentLogger,
      serving: false,
      leaderIdentity: () => 'okg-sq-decider-leader',
    });
    const agents: TestAgent[] = [];
    try {
      plans.set('node-a', [target('node-a', 'p1')]);
      // A valid token and one the authenticator would refuse: both get the same not-leader answer.
      for (const token of ['token-node-a', 'forged']) {
        const agent = new TestAgent(`127.0.0.1:${server.port}`, token).hello('node-a');
        agents.push(agent);
        const err = await agent.waitForError();
        assert.equal(err.code, status.UNAVAILABLE);
        assert.match(err.details, /not the leader/);
        assert.deepEqual(err.metadata.get(LEADER_TRAILER), ['false']);
        assert.deepEqual(err.metadata.get(LEADER_IDENTITY_TRAILER), ['okg-sq-decider-leader']);
        assert.equal(agent.plans().length, 0, 'a standby sends no plan');
      }
      assert.equal(authenticator.calls, 0, 'no TokenReview on a standby');
      assert.equal(server.service.notLeaderRefusals, 2);
      // On /metrics: okgsq_agent_streams_refused_total{reason="not_leader"}, and not as unauthenticated.
      assert.deepEqual([...metrics.refused], [['not_leader', 2]]);
      assert.deepEqual(sink.events, []);
    } finally {
      for (const a of agents) a.close();
      await server.stop();
    }
  });
});

describe('AgentService flow control', () => {
  it('slows a flooding agent to its rate without dropping its outcomes or starving another agent', async () => {
    // The bucket runs on a hand-driven clock: the flood gets its burst, then only what time pays for.
    const clock = new FakeClock();
    const b = await bed({ outcomesPerSecondPerStream: 2_000, outcomeBurstPerStream: 2_000 }, new FakeAuthenticator(), clock);
    try {
      const floodTargets = Array.from({ length: 1_000 }, (_, i) => target('flood', `f${i}`));
      b.plans.set('flood', floodTargets);
      b.plans.set('calm', [target('calm', 'c1')]);
      const flood = b.agent('token-flood').hello('flood');
      const calm = b.agent('token-calm').hello('calm');
      await waitFor(() => flood.plans().length >= 1 && calm.plans().length === 1, { what: 'both plans', timeoutMs: 10_000 });
      const floodAccepted = (): number => b.sink.accepted.filter((a) => a.node === 'flood').length;
      // 8,000 outcomes in batches of 1,000 against a burst of 2,000 and 2,000/s.
      for (let round = 0; round < 8; round++) flood.sendOutcomes(floodTargets.map((t) => wireOutcome(t.key.podUid)));
      await waitFor(() => b.metrics.throttled > 0, { what: 'throttling to start', timeoutMs: 10_000 });
      calm.sendOutcomes([wireOutcome('c1')]);
      await waitFor(() => b.sink.accepted.some((a) => a.node === 'calm'), { what: 'the calm agent outcome', timeoutMs: 10_000 });
      // Until the clock moves, the flood stays paused: the burst plus the one batch that overdrew it.
      assert.equal(floodAccepted(), 3_000, 'the flood is held back while the calm agent is served');
      // Each ms of clock time pays for 2 outcomes and a paused stream overdraws by at most one batch,
      // so all 8,000 cannot be in before 2,500 ms of clock time, however fast or slow this machine is.
      const startMs = clock.now();
      await waitFor(async () => {
        if (floodAccepted() === 8_000) return true;
        await clock.advance(50);
        return false;
      }, { what: 'every flood outcome', timeoutMs: 30_000, intervalMs: 5 });
      assert.ok(clock.now() - startMs >= 2_500, `slowed to its rate (${clock.now() - startMs} ms of clock time)`);
      assert.equal([...b.metrics.rejected.values()].reduce((a, n) => a + n, 0), 0, 'nothing rejected');
    } finally {
      await teardown(b);
    }
  });
});

describe('AgentService authentication limits', () => {
  it('queues authentications beyond the concurrency limit instead of refusing them', async () => {
    const real = new FakeAuthenticator();
    let inFlight = 0;
    let maxInFlight = 0;
    const gates: (() => void)[] = [];
    const slow: AgentAuthenticator = {
      async authenticate(token: string, node: string): Promise<AgentIdentity> {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise<void>((r) => gates.push(r));
        inFlight--;
        return real.authenticate(token, node);
      },
      revoked: () => undefined,
      onChange: () => undefined,
    };
    const b = await bed({ maxConcurrentAuthentications: 2 }, slow);
    try {
      const nodes = ['n1', 'n2', 'n3', 'n4', 'n5'];
      for (const n of nodes) b.plans.set(n, [target(n, `${n}-pod`)]);
      const agents = nodes.map((n) => b.agent(`token-${n}`).hello(n));
      await waitFor(() => gates.length === 2, { what: 'two authentications in flight', timeoutMs: 10_000 });
      while (agents.some((a) => a.plans().length === 0)) {
        gates.shift()?.();
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(maxInFlight, 2);
      assert.ok(agents.every((a) => a.error === undefined));
    } finally {
      await teardown(b);
    }
  });

  it('ends a stream whose authentication hangs with UNAVAILABLE, cancelling the authentication', async () => {
    const { hanging, signals } = hangingAuthenticator();
    const b = await bed({ authenticationTimeoutMs: 100 }, hanging);
    try {
      assert.equal((await b.agent('token-node-a').hello('node-a').waitForError()).code, status.UNAVAILABLE);
      assert.deepEqual([...b.metrics.refused], [['auth_unavailable', 1]]);
      assert.equal(signals[0]?.aborted, true, 'the TokenReview is cancelled, not left running');
    } finally {
      await teardown(b);
    }
  });

  it('cancels the authentication (its TokenReview) when the agent goes while it runs', async () => {
    const { hanging, signals } = hangingAuthenticator();
    const b = await bed({}, hanging);
    try {
      const agent = b.agent('token-node-a').hello('node-a');
      await waitFor(() => signals.length === 1, { what: 'the authentication under way', timeoutMs: 10_000 });
      assert.equal(signals[0]!.aborted, false);
      agent.close();
      await waitFor(() => signals[0]!.aborted, { what: 'the authentication cancelled', timeoutMs: 10_000 });
      await waitFor(() => b.metrics.refused.get('cancelled') === 1, { what: 'the stream counted as cancelled', timeoutMs: 10_000 });
      assert.equal(b.server.service.pendingStreams, 0);
      assert.deepEqual(b.sink.events, [], 'no session');
    } finally {
      await teardown(b);
    }
  });

  it('refuses an oversized message with RESOURCE_EXHAUSTED', async () => {
    const b = await bed();
    try {
      b.plans.set('node-a', [target('node-a', 'p1')]);
      const agent = b.agent('token-node-a').hello('node-a');
      await waitFor(() => agent.plans().length === 1, { what: 'the plan', timeoutMs: 10_000 });
      // ~5 MiB in one batch, over MAX_AGENT_MESSAGE_BYTES.
      agent.sendOutcomes(Array.from({ length: 5_000 }, () => wireOutcome('p1', 'healthy', true, 'x'.repeat(1_024))));
      assert.equal((await agent.waitForError()).code, status.RESOURCE_EXHAUSTED);
      assert.equal(b.sink.accepted.length, 0);
    } finally {
      await teardown(b);
    }
  });
});

describe('AgentService slow readers', () => {
  it('ends the stream of an agent that stops reading its plan instead of buffering without bound', async () => {
    const b = await bed({ maxPendingPlanUpdates: 4 });
    try {
      b.plans.set('node-s', [target('node-s', 's0')]);
      const agent = b.agent('token-node-s').hello('node-s');
      await waitFor(() => agent.plans().length === 1, { what: 'the plan', timeoutMs: 10_000 });
      agent.stream.pause(); // the agent stops reading: HTTP/2 flow control backs up into the decider
      const bulky = 'x'.repeat(16 * 1024);
      for (let i = 0; i < 2_000 && b.server.service.connectedNodes().includes('node-s'); i++) {
        b.plans.set('node-s', [target('node-s', `s${i}`, 'healthy', { handler: { kind: 'exec', command: ['/bin/sh', '-c', bulky] } })]);
        await new Promise((r) => setImmediate(r)); // one delta message per turn
      }
      await waitFor(() => !b.server.service.connectedNodes().includes('node-s'), { what: 'the stream to be cut', timeoutMs: 10_000 });
      assert.ok(b.sink.events.includes('disconnected node-s'));
      assert.equal(b.plans.subscriberCount('node-s'), 0);
    } finally {
      await teardown(b);
    }
  });
});
