// A connection attempt that never completes (docs/design.md §28 "A bounded connection attempt"): after a
// `helm upgrade` an agent's connection through the decider Service went to a removed endpoint, its SYNs
// were dropped, and the agent waited out the kernel's SYN retries (~2 min) before trying again. grpc-js
// bounds no step of a connection (TCP connect, TLS, the server's HTTP/2 settings), so the reporter gives
// each attempt CONNECT_TIMEOUT_MS, abandons it and tries again with its backoff on a new connection.
// Both cases run the real decider's agent server over TLS, as the chart does. They assert the order of
// events, never a duration: the agent is connected to the decider while the dead attempt is still
// pending (its SYN still unanswered, its silent peer still holding it), which without the deadline can
// only happen once the kernel or the peer gives up.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { channelCredentials } from '../../agent/report/channel-credentials.js';
import { AgentReporter } from '../../agent/report/reporter.js';
import { startAgentServer, type AgentServer } from '../../decider/ingest/agent-server.js';
import { SILENT, startRoundRobinProxy } from '../e2e/round-robin-proxy.js';
import { pidAlive } from '../testbed/managed-process.js';
import { waitFor } from '../testbed/wait-for.js';
import { selfSignedCert } from '../unit/probe/self-signed-cert.js';
import { FakeAuthenticator, FakeMetrics, FakePlanSource, FakeSink, silentLogger } from '../unit/decider/ingest/ingest-kit.js';

const SERVER_NAME = 'okg-sq-decider.okg-sq.svc';
const CONNECT_TIMEOUT_MS = 1_000;
/** Longer than the kernel's SYN retries (tcp_syn_retries 6: ~127 s), so that without the deadline the
 * test reaches its order assertion instead of failing on this wait. */
const CONNECTED_WITHIN_MS = 180_000;
const ABANDONED = 'connection to the decider not established in time; abandoned';
const CONNECTED = 'connected to the decider';

interface LogLine {
  msg: string;
  address?: string;
}

describe('a connection attempt to the decider that never completes', () => {
  let dir: string;
  let cert: { certFile: string; keyFile: string };
  let server: AgentServer;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'okgsq-connect-timeout-'));
    cert = selfSignedCert(dir, SERVER_NAME);
    server = await startAgentServer({
      port: 0, host: '127.0.0.1', tls: cert, plans: new FakePlanSource(), sink: new FakeSink(),
      authenticator: new FakeAuthenticator(), metrics: new FakeMetrics(), logger: silentLogger,
    });
    // The server loads its certificate in the background: serve TLS before any agent dials, so that every
    // attempt that fails below fails for the reason the test made.
    await waitFor(() => tlsHandshake(server.port, cert.certFile), { timeoutMs: 10_000, what: 'the agent server serving TLS' });
  });
  after(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function reporterTo(address: string): { reporter: AgentReporter; log: LogLine[] } {
    const log: LogLine[] = [];
    const { creds, channelOptions } = channelCredentials({ caFile: cert.certFile, serverName: SERVER_NAME });
    const reporter = new AgentReporter({
      nodeName: 'node-a',
      address,
      credentials: creds,
      channelOptions,
      readToken: async () => 'token-node-a',
      runtimeInfo: async () => ({ name: 'containerd', version: '1.6.20' }),
      agentVersion: 'test',
      engine: { upsert() {}, remove() {}, published: () => [], keys: () => [], takeCounters: () => [], size: 0 },
      logger: pino({ level: 'info' }, { write: (line: string) => void log.push(JSON.parse(line) as LogLine) }),
      backoffInitialMs: 100,
      backoffMaxMs: 500,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
      planSettleMs: 50,
    });
    return { reporter, log };
  }

  it('a Service backend that accepts and never answers: the attempt is abandoned, the next connection reaches the decider', async () => {
    // kube-proxy's round robin over a hung endpoint and the decider: the first connection goes silent.
    const proxy = await startRoundRobinProxy([SILENT, server.port]);
    const { reporter, log } = reporterTo(proxy.address);
    reporter.start();
    try {
      await waitFor(() => reporter.connected, { timeoutMs: CONNECTED_WITHIN_MS, what: 'the agent connected' });
      assert.deepEqual(proxy.picks.slice(0, 2), [0, 1], 'first the silent backend, then the decider');
      assert.ok(!proxy.events.some((e) => e.includes('closed (silent backend)')), `the silent connection was never closed by its peer: ${proxy.events.join('; ')}`);
      assertAbandonedThenConnected(log, proxy.address);
    } finally {
      await reporter.stop();
      await proxy.close();
    }
  });

  it('SYNs dropped (an endpoint removed behind the Service IP): connected while the kernel still retries the first SYN', async () => {
    const address = `127.0.0.1:${server.port}`;
    // Every SYN to the decider dropped until the agent's first attempt is seen; then only that attempt's.
    const all = new DropRule(server.port);
    let first: DropRule | undefined;
    const { reporter, log } = reporterTo(address);
    try {
      reporter.start();
      const sourcePort = await waitFor(() => synSentFrom(server.port)[0], { timeoutMs: 10_000, what: "the agent's first SYN" });
      first = new DropRule(server.port, sourcePort);
      all.remove();
      await waitFor(() => reporter.connected, { timeoutMs: CONNECTED_WITHIN_MS, what: 'the agent connected' });
      assert.ok(synSentFrom(server.port).includes(sourcePort), 'connected while the first attempt still waits for its SYN to be answered');
      assertAbandonedThenConnected(log, address);
    } finally {
      await reporter.stop();
      all.remove();
      first?.remove();
    }
  });
});

/** The first attempt was abandoned, with a log line naming the address, before the agent connected. */
function assertAbandonedThenConnected(log: readonly LogLine[], address: string): void {
  const abandoned = log.findIndex((l) => l.msg === ABANDONED);
  const connected = log.findIndex((l) => l.msg === CONNECTED);
  assert.ok(abandoned >= 0, `an abandoned attempt was logged: ${log.map((l) => l.msg).join(' | ')}`);
  assert.equal(log[abandoned]!.address, address);
  assert.ok(connected > abandoned, 'abandoned first, connected after');
}

/** Completes a TLS handshake with the server (h2, trusting its certificate). */
function tlsHandshake(port: number, caFile: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, ca: readFileSync(caFile), servername: SERVER_NAME, ALPNProtocols: ['h2'] }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** Local ports of this host's IPv4 sockets in SYN_SENT towards 127.0.0.1:port. */
function synSentFrom(port: number): number[] {
  const remote = `0100007F:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const SYN_SENT = '02';
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[2] === remote && f[3] === SYN_SENT)
    .map((f) => parseInt(f[1]!.split(':')[1]!, 16));
}

/** The comment that marks this test's rules, with the pid that owns them. */
const RULE_COMMENT = 'okgsq-test agent-connect-timeout';

/**
 * An iptables rule dropping SYNs on the loopback to 127.0.0.1:port (from one source port if given). A run
 * killed before its cleanup leaves its rule behind, where it would hang a later listener on that port: each
 * new rule first removes the rules of owners that are gone.
 */
class DropRule {
  readonly #spec: string[];
  #present = true;

  constructor(port: number, sourcePort?: number) {
    removeOrphanRules();
    this.#spec = [
      'OUTPUT', '-o', 'lo', '-p', 'tcp', '-d', '127.0.0.1', '--dport', String(port),
      ...(sourcePort === undefined ? [] : ['--sport', String(sourcePort)]),
      '--syn', '-m', 'comment', '--comment', `${RULE_COMMENT} pid=${process.pid}`, '-j', 'DROP',
    ];
    execFileSync('iptables', ['-w', '-I', ...this.#spec]);
  }

  remove(): void {
    if (!this.#present) return;
    this.#present = false;
    execFileSync('iptables', ['-w', '-D', ...this.#spec]);
  }
}

/** Deletes the OUTPUT rules this test made in processes that no longer run. */
function removeOrphanRules(): void {
  for (const line of execFileSync('iptables', ['-w', '-S', 'OUTPUT'], { encoding: 'utf8' }).split('\n')) {
    const owner = new RegExp(`--comment "${RULE_COMMENT} pid=(\\d+)"`).exec(line)?.[1];
    if (owner === undefined || pidAlive(Number(owner))) continue;
    // `iptables -S` prints the rule as its -A arguments; the comment is the only quoted one.
    const args = line.match(/"[^"]*"|\S+/g)!.map((a) => a.replace(/^"(.*)"$/, '$1'));
    execFileSync('iptables', ['-w', '-D', ...args.slice(1)]);
  }
}
