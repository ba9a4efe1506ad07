// The decider gone for a while (a restart, a failover): when it is back, the agent reconnects within its
// own reconnect backoff (REPORTER_DEFAULTS / the reporter's options), not after grpc-js's channel backoff,
// which otherwise grows on its own (1 s × 1.6 per failed connect, up to 120 s) underneath the reporter's
// and makes the agent wait seconds to minutes longer than its backoff says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { AgentReporter } from '../../agent/report/reporter.js';
import { startAgentServer, type AgentServer } from '../../decider/ingest/agent-server.js';
import { freePort } from '../testbed/free-port.js';
import { waitFor } from '../testbed/wait-for.js';
import { FakeAuthenticator, FakeMetrics, FakePlanSource, FakeSink, silentLogger } from '../unit/decider/ingest/ingest-kit.js';

const OUTAGE_MS = 10_000;
const BACKOFF_MAX_MS = 500;

test('after a 10 s decider outage the agent reconnects within its own backoff', async (t) => {
  const port = await freePort();
  const sink = new FakeSink();
  const start = (): Promise<AgentServer> =>
    startAgentServer({ port, host: '127.0.0.1', tls: 'insecure', plans: new FakePlanSource(), sink, authenticator: new FakeAuthenticator(), metrics: new FakeMetrics(), logger: silentLogger });
  let server = await start();
  const engine = { upsert() {}, remove() {}, published: () => [], keys: () => [], takeCounters: () => [], size: 0 };
  const reporter = new AgentReporter({
    nodeName: 'node-a',
    address: `127.0.0.1:${port}`,
    credentials: credentials.createInsecure(),
    readToken: async () => 'token-node-a',
    runtimeInfo: async () => ({ name: 'containerd', version: '1.6.20' }),
    agentVersion: 'test',
    engine,
    logger: silentLogger,
    backoffInitialMs: 100,
    backoffMaxMs: BACKOFF_MAX_MS,
    planSettleMs: 50,
  });
  reporter.start();
  try {
    await waitFor(() => reporter.connected, { timeoutMs: 10_000, what: 'first connect' });
    await server.close();
    const downAt = Date.now();
    await waitFor(() => !reporter.connected, { timeoutMs: 10_000, what: 'the agent noticing the decider gone' });
    // The outage: the agent keeps trying against a closed port meanwhile.
    await waitFor(() => Date.now() - downAt >= OUTAGE_MS, { timeoutMs: OUTAGE_MS + 1_000, intervalMs: 100, what: 'the outage' });
    server = await start();
    const upAt = Date.now();
    await waitFor(() => reporter.connected, { timeoutMs: 30_000, intervalMs: 20, what: 'reconnect' });
    const ms = Date.now() - upAt;
    t.diagnostic(`reconnected ${ms} ms after the decider was back (reporter backoff max ${BACKOFF_MAX_MS} ms)`);
    assert.ok(ms <= BACKOFF_MAX_MS + 1_000, `reconnected ${ms} ms after the decider came back; its backoff allows ${BACKOFF_MAX_MS} ms`);
  } finally {
    await reporter.stop();
    await server.close();
  }
});
