// The agent's reporter against the decider's real ingest server (decider/ingest), not a stub: the two
// sides of okgsq.v1 must agree on Hello, tokens, chunked full plans, deltas, outcomes and counters.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { AgentReporter } from '../../../agent/report/reporter.js';
import { startAgentServer } from '../../../decider/ingest/agent-server.js';
import { ProbeEngine } from '../../../common/probe/probe-engine.js';
import { waitFor } from '../../testbed/wait-for.js';
import { FakeAuthenticator, FakeMetrics, FakePlanSource, FakeSink, silentLogger, target } from '../../unit/decider/ingest/ingest-kit.js';
import { FakeExecRuntime } from '../../unit/probe/fake-exec-runtime.js';

const FAST = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 };

async function setup(token: string) {
  const plans = new FakePlanSource();
  const sink = new FakeSink();
  const authenticator = new FakeAuthenticator();
  const server = await startAgentServer({
    port: 0,
    host: '127.0.0.1',
    tls: 'insecure',
    plans,
    sink,
    authenticator,
    metrics: new FakeMetrics(),
    logger: silentLogger,
  });
  const exec = new FakeExecRuntime();
  let reporter: AgentReporter | undefined;
  const engine = new ProbeEngine({ exec, onOutcome: (o) => reporter?.offer(o), random: () => 0, slotMs: 20 });
  reporter = new AgentReporter({
    nodeName: 'node-a',
    address: `127.0.0.1:${server.port}`,
    credentials: credentials.createInsecure(),
    readToken: async () => token,
    runtimeInfo: async () => ({ name: 'containerd', version: '1.6.20' }),
    agentVersion: 'test',
    engine,
    logger: silentLogger,
    backoffInitialMs: 50,
    backoffMaxMs: 200,
    planSettleMs: 100,
    countersIntervalMs: 200,
  });
  const close = async (): Promise<void> => {
    await reporter.stop();
    await engine.stop();
    await server.stop();
  };
  return { plans, sink, server, exec, engine, reporter, authenticator, close };
}

describe('AgentReporter ↔ decider ingest (real AgentService)', () => {
  it('takes a full plan larger than one message, reports every key, follows deltas, records counters', async () => {
    const t = await setup('token-node-a');
    const many = Array.from({ length: 650 }, (_, i) => target('node-a', `pod-${i}`, 'healthy', { timing: FAST }));
    t.plans.set('node-a', many);
    t.exec.answer('pod-7/game', { exitCode: 1, stdout: 'Maintaining' });
    t.engine.start();
    t.reporter.start();
    try {
      await waitFor(() => t.engine.size === 650 && new Set(t.sink.accepted.map((a) => a.outcome.podUid)).size === 650, {
        timeoutMs: 15_000,
        what: 'outcomes of all 650 planned keys',
      });
      const seven = t.sink.accepted.find((a) => a.outcome.podUid === 'pod-7')!.outcome;
      assert.deepEqual([seven.state, seven.result], [false, 'Maintaining']);
      assert.deepEqual(t.sink.events, ['connected node-a']);

      t.plans.remove('node-a', [{ podUid: 'pod-0', quality: 'healthy' }]);
      await waitFor(() => t.engine.size === 649, { timeoutMs: 5_000, what: 'a removal delta applied' });
      t.plans.set('node-a', [target('node-a', 'pod-new', 'healthy', { timing: FAST })]);
      await waitFor(() => t.sink.accepted.some((a) => a.outcome.podUid === 'pod-new'), { timeoutMs: 5_000, what: 'the added key reported' });
      await waitFor(() => t.sink.counters.length > 0, { timeoutMs: 5_000, what: 'counters recorded' });
      assert.equal(t.sink.counters[0]!.counters.gameServerSet, 'minecraft');
    } finally {
      await t.close();
    }
  });

  it('is refused with PERMISSION_DENIED for a token bound to another node, and keeps retrying', async () => {
    const t = await setup('token-node-b');
    t.plans.set('node-a', [target('node-a', 'pod-1', 'healthy', { timing: FAST })]);
    t.reporter.start();
    try {
      await waitFor(() => t.authenticator.calls >= 3, { timeoutMs: 5_000, what: 'three refused attempts' });
      assert.equal(t.reporter.connected, false);
      assert.deepEqual(t.sink.events, [], 'never accepted');
      assert.equal(t.engine.size, 0, 'no plan was applied');
    } finally {
      await t.close();
    }
  });
});
