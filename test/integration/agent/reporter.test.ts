import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { readFile } from 'node:fs/promises';
import { channelCredentials } from '../../../agent/report/channel-credentials.js';
import { AgentReporter } from '../../../agent/report/reporter.js';
import { selfSignedCert } from '../../unit/probe/self-signed-cert.js';
import { ProbeEngine } from '../../../common/probe/probe-engine.js';
import type { ProbeAssignment } from '../../../proto/gen/okgsq/v1/agent.js';
import { waitFor } from '../../testbed/wait-for.js';
import { FakeExecRuntime } from '../../unit/probe/fake-exec-runtime.js';
import { AgentServiceStub } from './agent-service-stub.js';
import { startRoundRobinProxy } from '../../e2e/round-robin-proxy.js';

const TIMING = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 };

function assignment(podUid: string, quality: string): ProbeAssignment {
  return {
    podUid,
    quality,
    namespace: 'ns',
    podName: `pod-${podUid}`,
    gameServerSet: 'gss',
    containerName: 'game',
    podIp: '127.0.0.1',
    handler: { kind: { $case: 'exec', value: { command: ['/probe.sh'] } } },
    timing: TIMING,
    containerStartedUnixMs: 0,
  };
}

describe('AgentReporter against a real grpc-js AgentService', () => {
  let dir: string;
  let tokenFile: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'okgsq-reporter-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'token-1\n');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function build(port: number, exec: FakeExecRuntime, tls: Parameters<typeof channelCredentials>[0] = 'insecure', backoffInitialMs = 50) {
    const { creds, channelOptions } = channelCredentials(tls);
    const logger = pino({ level: 'silent' });
    let reporter: AgentReporter | undefined;
    const engine = new ProbeEngine({ exec, onOutcome: (o) => reporter?.offer(o), random: () => 0, slotMs: 20 });
    reporter = new AgentReporter({
      nodeName: 'node-a',
      address: `127.0.0.1:${port}`,
      credentials: creds,
      channelOptions,
      readToken: () => readFile(tokenFile, 'utf8'),
      runtimeInfo: async () => ({ name: 'fake', version: '1.0' }),
      agentVersion: 'test',
      engine,
      logger,
      backoffInitialMs,
      backoffMaxMs: Math.max(200, backoffInitialMs),
      planSettleMs: 50,
      countersIntervalMs: 300,
    });
    return { engine, reporter };
  }

  it('applies a plan split over messages, reports outcomes and counters, and resyncs the latest outcome after a decider restart', async () => {
    const stub = new AgentServiceStub();
    stub.plan = [
      { full: true, upsert: [assignment('p1', 'gate')], remove: [], resyncIntervalSeconds: 0 },
      { full: false, upsert: [assignment('p2', 'gate')], remove: [], resyncIntervalSeconds: 0 },
    ];
    const port = await stub.start();
    const exec = new FakeExecRuntime();
    exec.answer('p1/game', { exitCode: 0, stdout: 'gate\n' });
    exec.answer('p2/game', { exitCode: 1, stdout: 'down' });
    const { engine, reporter } = build(port, exec);
    engine.start();
    reporter.start();
    try {
      const first = await waitFor(() => stub.connections[0], { timeoutMs: 5_000, what: 'first connection' });
      assert.equal(first.authorization, 'Bearer token-1');
      assert.deepEqual(stub.helloOf(first), { $case: 'hello', value: { nodeName: 'node-a', agentVersion: 'test', runtimeName: 'fake', runtimeVersion: '1.0' } });
      // Both halves of the full plan are probed and reported.
      await waitFor(
        () => {
          const seen = new Map(stub.batches(first).flatMap((b) => b.outcomes).map((o) => [o.podUid, o]));
          return seen.get('p1')?.result === 'gate' && seen.get('p2')?.state === false;
        },
        { timeoutMs: 5_000, what: 'outcomes of p1 and p2' },
      );
      assert.equal(engine.size, 2, 'the second plan message was not dropped by the full plan');
      await waitFor(() => stub.batches(first).some((b) => b.counters.length > 0), { timeoutMs: 5_000, what: 'counters' });
      const counted = stub.batches(first).flatMap((b) => b.counters).flatMap((c) => c.runs).reduce((n, r) => n + r.count, 0);
      assert.ok(counted >= 2);

      // The decider dies; the agent keeps probing; p1's result changes while it is away.
      stub.kill();
      await waitFor(() => !reporter.connected, { timeoutMs: 5_000, what: 'disconnect' });
      writeFileSync(tokenFile, 'token-2\n'); // rotated meanwhile
      exec.answer('p1/game', { exitCode: 0, stdout: 'data' });
      await waitFor(() => engine.published().find((o) => o.podUid === 'p1')?.result === 'data', { timeoutMs: 5_000, what: 'new p1 outcome' });

      const restarted = new AgentServiceStub();
      restarted.plan = stub.plan;
      await restarted.start(port);
      try {
        const second = await waitFor(() => restarted.connections[0], { timeoutMs: 10_000, what: 'reconnection' });
        assert.equal(second.authorization, 'Bearer token-2', 'the token is re-read on every connect');
        const resync = await waitFor(() => restarted.batches(second).find((b) => b.resync), { timeoutMs: 5_000, what: 'resync' });
        const latest = new Map(resync.outcomes.map((o) => [o.podUid, o]));
        assert.equal(latest.get('p1')?.result, 'data', 'no lost latest outcome');
        assert.equal(latest.get('p2')?.state, false);
        assert.equal(resync.planGeneration, 2);
      } finally {
        await reporter.stop();
        restarted.kill();
      }
    } finally {
      await reporter.stop();
      await engine.stop();
      stub.kill();
    }
  });

  it('connects over TLS trusting only the configured CA, with a server name override', async () => {
    const name = 'okg-sq-decider.okg-sq.svc';
    const pki = selfSignedCert(dir, name);
    const other = selfSignedCert(dir, 'someone-else');
    const stub = new AgentServiceStub();
    stub.plan = [{ full: true, upsert: [assignment('p1', 'gate')], remove: [], resyncIntervalSeconds: 0 }];
    const port = await stub.start(0, pki);
    // Trusting another CA: the handshake fails and nothing reaches the service.
    const untrusted = build(port, new FakeExecRuntime(), { caFile: other.certFile, serverName: name });
    untrusted.reporter.start();
    const trusted = build(port, new FakeExecRuntime(), { caFile: pki.certFile, serverName: name });
    trusted.engine.start();
    trusted.reporter.start();
    try {
      const conn = await waitFor(() => stub.connections[0], { timeoutMs: 10_000, what: 'a TLS connection' });
      await waitFor(() => stub.batches(conn).some((b) => b.outcomes.length > 0), { timeoutMs: 5_000, what: 'an outcome over TLS' });
      assert.equal(stub.connections.length, 1, 'the agent trusting another CA never got through');
      assert.equal(untrusted.reporter.connected, false);
    } finally {
      await untrusted.reporter.stop();
      await trusted.reporter.stop();
      await trusted.engine.stop();
      stub.kill();
    }
  });

  it('keeps retrying with backoff when the decider refuses the token', async () => {
    const stub = new AgentServiceStub();
    stub.refuseWith = status.UNAUTHENTICATED;
    const port = await stub.start();
    const { engine, reporter } = build(port, new FakeExecRuntime());
    reporter.start();
    try {
      await waitFor(() => stub.connections.length >= 3, { timeoutMs: 5_000, what: 'three attempts' });
      assert.equal(reporter.connected, false);
    } finally {
      await reporter.stop();
      await engine.stop();
      stub.kill();
    }
  });

  it('refused by a standby (UNAVAILABLE, okgsq-leader: false): retries on a new connection after 100-500 ms until served', async () => {
    const stub = new AgentServiceStub();
    stub.plan = [{ full: true, upsert: [assignment('p1', 'q')], remove: [], resyncIntervalSeconds: 0 }];
    stub.refuseAsStandby = 3;
    const port = await stub.start();
    // The proxy counts TCP connections (one per grpc-js channel connect). A long normal backoff shows
    // that not-leader refusals take the short path.
    const proxy = await startRoundRobinProxy([port]);
    const { engine, reporter } = build(Number(proxy.address.split(':')[1]), new FakeExecRuntime(), 'insecure', 5_000);
    reporter.start();
    try {
      await waitFor(() => reporter.connected, { timeoutMs: 5_000, what: 'served after three standby refusals' });
      assert.equal(stub.connections.length, 4);
      assert.equal(proxy.picks.length, 4, 'each attempt after a refusal opens a new connection');
      const gaps = stub.arrivals.slice(1).map((t, i) => t - stub.arrivals[i]!);
      for (const gap of gaps) assert.ok(gap >= 90 && gap < 1_500, `retry after ${gap} ms (want 100-500 ms plus connect time)`);
    } finally {
      await reporter.stop();
      await engine.stop();
      await proxy.close();
      stub.kill();
    }
  });

  it('a refused token (not UNAVAILABLE) is retried on the same connection', async () => {
    const stub = new AgentServiceStub();
    stub.refuseWith = status.UNAUTHENTICATED;
    const port = await stub.start();
    const proxy = await startRoundRobinProxy([port]);
    const { engine, reporter } = build(Number(proxy.address.split(':')[1]), new FakeExecRuntime());
    reporter.start();
    try {
      await waitFor(() => stub.connections.length >= 3, { timeoutMs: 5_000, what: 'three attempts' });
      assert.equal(proxy.picks.length, 1);
    } finally {
      await reporter.stop();
      await engine.stop();
      await proxy.close();
      stub.kill();
    }
  });

  it('drops keys a new full plan lacks, after its messages settle', async () => {
    const stub = new AgentServiceStub();
    stub.plan = [{ full: true, upsert: [assignment('p1', 'gate'), assignment('p2', 'gate')], remove: [], resyncIntervalSeconds: 0 }];
    const port = await stub.start();
    const { engine, reporter } = build(port, new FakeExecRuntime());
    engine.start();
    reporter.start();
    try {
      const conn = await waitFor(() => stub.connections[0], { timeoutMs: 5_000, what: 'connection' });
      await waitFor(() => engine.size === 2 && reporter.connected, { timeoutMs: 5_000, what: 'plan' });
      conn.stream.write({ body: { $case: 'plan', value: { full: true, upsert: [assignment('p2', 'gate')], remove: [], generation: 9, resyncIntervalSeconds: 0 } } });
      await waitFor(() => engine.size === 1, { timeoutMs: 5_000, what: 'p1 dropped' });
      assert.deepEqual(engine.keys(), [{ podUid: 'p2', quality: 'gate' }]);
      conn.stream.write({ body: { $case: 'plan', value: { full: false, upsert: [], remove: [{ podUid: 'p2', quality: 'gate' }], generation: 10, resyncIntervalSeconds: 0 } } });
      await waitFor(() => engine.size === 0, { timeoutMs: 5_000, what: 'p2 removed' });
    } finally {
      await reporter.stop();
      await engine.stop();
      stub.kill();
    }
  });
});
