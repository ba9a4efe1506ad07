// The decider gone for a while (a restart, a failover): when it is back, the agent reconnects at its next
// attempt, paced by its own reconnect backoff (REPORTER_DEFAULTS / the reporter's options), not after
// grpc-js's channel backoff, which otherwise grows on its own (1 s × 1.6 per failed connect, up to 120 s)
// underneath the reporter's: each attempt would then fail fast on a channel still in its backoff, and the
// agent would wait seconds to minutes longer than its backoff says. Counted in attempts, not in
// milliseconds, so a loaded machine cannot fail it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import pino from 'pino';
import { AgentReporter } from '../../agent/report/reporter.js';
import { startAgentServer, type AgentServer } from '../../decider/ingest/agent-server.js';
import { freePort } from '../testbed/free-port.js';
import { waitFor } from '../testbed/wait-for.js';
import { FakeAuthenticator, FakeMetrics, FakePlanSource, FakeSink, silentLogger } from '../unit/decider/ingest/ingest-kit.js';

const OUTAGE_MS = 10_000;
const BACKOFF_MAX_MS = 500;

test('after a 10 s decider outage the agent reconnects at its next attempt', async (t) => {
  const port = await freePort();
  const sink = new FakeSink();
  const start = (): Promise<AgentServer> =>
    startAgentServer({ port, host: '127.0.0.1', tls: 'insecure', plans: new FakePlanSource(), sink, authenticator: new FakeAuthenticator(), metrics: new FakeMetrics(), logger: silentLogger });
  let server = await start();
  const logLines: string[] = [];
  const attemptsEnded = (): number => logLines.filter((l) => (JSON.parse(l) as { msg?: string }).msg === 'reconnecting to the decider').length;
  const engine = { upsert() {}, remove() {}, published: () => [], keys: () => [], takeCounters: () => [], size: 0 };
  const reporter = new AgentReporter({
    nodeName: 'node-a',
    address: `127.0.0.1:${port}`,
    credentials: credentials.createInsecure(),
    readToken: async () => 'token-node-a',
    runtimeInfo: async () => ({ name: 'containerd', version: '1.6.20' }),
    agentVersion: 'test',
    engine,
    // The reporter logs 'reconnecting to the decider' once after each attempt that ended.
    logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
    backoffInitialMs: 100,
    backoffMaxMs: BACKOFF_MAX_MS,
    planSettleMs: 50,
  });
  reporter.start();
  try {
    await waitFor(() => reporter.connected, { timeoutMs: 10_000, what: 'first connect' });
    await server.stop();
    const downAt = Date.now();
    await waitFor(() => !reporter.connected, { timeoutMs: 10_000, what: 'the agent noticing the decider gone' });
    // The outage: the agent keeps trying against a closed port meanwhile.
    await waitFor(() => Date.now() - downAt >= OUTAGE_MS, { timeoutMs: OUTAGE_MS + 1_000, intervalMs: 100, what: 'the outage' });
    const failedDuringOutage = attemptsEnded();
    assert.ok(failedDuringOutage >= 3, `the agent kept trying during the outage (${failedDuringOutage} attempts)`);
    server = await start();
    const upAt = Date.now();
    const endedBeforeUp = attemptsEnded();
    await waitFor(() => reporter.connected, { timeoutMs: 30_000, intervalMs: 20, what: 'reconnect' });
    // At most the attempt already under way when the decider came back may fail; the next one connects.
    const failedAfterUp = attemptsEnded() - endedBeforeUp;
    t.diagnostic(`reconnected ${Date.now() - upAt} ms after the decider was back, ${failedAfterUp} attempt(s) failed meanwhile (reporter backoff max ${BACKOFF_MAX_MS} ms)`);
    assert.ok(failedAfterUp <= 1, `${failedAfterUp} attempts failed after the decider was back: something other than the reporter's backoff held the agent`);
  } finally {
    await reporter.stop();
    await server.stop();
  }
});
