// Every probe run releases every socket it opened, whatever way it ends (docs/design.md §17 "A probe run owns
// its connection"). Counted on the real process: its open sockets in /proc/self/fd over many runs against
// loopback servers that hang, answer gRPC, or speak something else.
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Server } from '@grpc/grpc-js';
import { grpcRunner } from '../../../common/runners/grpc-runner.js';
import { httpRunner } from '../../../common/runners/http-runner.js';
import type { RunnerResult } from '../../../common/runners/runner-result.js';
import { tcpRunner } from '../../../common/runners/tcp-runner.js';
import { waitFor } from '../../testbed/wait-for.js';
import { startHealthServer } from '../../unit/probe/grpc-health-server.js';

const RUNS = 50;
const TIMEOUT_MS = 200;
const opts = (timeoutMs = TIMEOUT_MS) => ({ timeoutMs, signal: new AbortController().signal });

/** This process's open sockets (client and server ends alike). */
function openSockets(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:')) n++;
    } catch {
      // closed between readdir and readlink
    }
  }
  return n;
}

/** Waits until the socket count is back to (at most) the baseline; fails with the count it saw. */
async function assertNoGrowth(baseline: number, what: string): Promise<void> {
  let last = 0;
  await waitFor(
    () => {
      last = openSockets();
      return last <= baseline;
    },
    { timeoutMs: 10_000, what: `${what}: open sockets back to ${baseline}` },
  ).catch((err: unknown) => {
    throw new Error(`${what}: ${last - baseline} sockets left open after ${RUNS} runs (${last} now, ${baseline} before)`, { cause: err });
  });
}

function listen<T extends TcpServer | HttpServer>(server: T): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/**
 * Accepts TCP and never says a word: what a hung game server looks like. It reads (and drops) what it is
 * sent, so it sees a client's close; only the client's own sockets are the runner's to release.
 */
function hungServer(): { server: TcpServer; accepted: Set<Socket> } {
  const accepted = new Set<Socket>();
  const server = createTcpServer((socket) => {
    accepted.add(socket);
    socket.on('error', () => {});
    socket.resume();
    socket.once('close', () => accepted.delete(socket));
  });
  return { server, accepted };
}

describe('probe runners release their sockets', () => {
  const hung = hungServer();
  let hungPort = 0;
  const echo = createTcpServer((socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  let echoPort = 0;
  const plainHttp = createHttpServer((req, res) => {
    if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
    else res.end('not grpc');
  });
  let httpPort = 0;
  let health: Server;
  let healthPort = 0;

  before(async () => {
    hungPort = await listen(hung.server);
    echoPort = await listen(echo);
    httpPort = await listen(plainHttp);
    ({ server: health, port: healthPort } = await startHealthServer({ '': 1, game: 2 }));
  });

  after(async () => {
    health.forceShutdown();
    for (const s of hung.accepted) s.destroy();
    plainHttp.closeAllConnections();
    await Promise.all([hung.server, echo, plainHttp].map((s) => new Promise((resolve) => s.close(resolve))));
  });

  async function runMany(what: string, run: () => Promise<RunnerResult>, check: (r: RunnerResult) => void): Promise<void> {
    // One run first, so lazily created process-wide handles (DNS, timers) are in the baseline.
    check(await run());
    await assertNoGrowth(openSockets(), `${what} (warm-up)`).catch(() => {});
    const baseline = openSockets();
    for (let i = 0; i < RUNS; i++) check(await run());
    await assertNoGrowth(baseline, what);
  }

  it('grpc against a port that accepts TCP but never answers: every run times out, no socket stays open', async () => {
    await runMany(
      'grpc → hung TCP',
      () => grpcRunner('127.0.0.1', hungPort, '', opts()),
      (r) => assert.deepEqual([r.state, r.errorKind], [false, 'timeout'], r.detail),
    );
    // The game server's side too: no connection slot stays taken.
    await waitFor(() => hung.accepted.size === 0, { timeoutMs: 10_000, what: 'the hung server to see every connection closed' });
  });

  it('grpc aborted by its signal (the worker cancelled it) against a hung port: no socket stays open', async () => {
    await runMany(
      'grpc aborted',
      () => {
        const controller = new AbortController();
        const run = grpcRunner('127.0.0.1', hungPort, '', { timeoutMs: 60_000, signal: controller.signal });
        setImmediate(() => controller.abort());
        return run;
      },
      (r) => assert.deepEqual([r.state, r.errorKind], [false, 'timeout'], r.detail),
    );
  });

  it('grpc against a real gRPC health server: SERVING, NOT_SERVING and unknown services, no socket stays open', async () => {
    await runMany(
      'grpc → health server',
      () => grpcRunner('127.0.0.1', healthPort, '', opts(5_000)),
      (r) => assert.deepEqual([r.state, r.result], [true, 'SERVING'], r.detail),
    );
    await runMany(
      'grpc → NOT_SERVING',
      () => grpcRunner('127.0.0.1', healthPort, 'game', opts(5_000)),
      (r) => assert.deepEqual([r.state, r.result, r.errorKind], [false, 'NOT_SERVING', ''], r.detail),
    );
    await runMany(
      'grpc → unknown service',
      () => grpcRunner('127.0.0.1', healthPort, 'nope', opts(5_000)),
      (r) => assert.deepEqual([r.state, r.errorKind], [false, 'grpc_error'], r.detail),
    );
  });

  for (const [what, port] of [
    ['a plain HTTP/1 server', () => httpPort],
    ['a TCP echo server', () => echoPort],
  ] as const) {
    it(`grpc to ${what} is a clear failure, not a hang, and leaves nothing open`, async () => {
      await runMany(
        `grpc → ${what}`,
        () => grpcRunner('127.0.0.1', port(), '', opts(5_000)),
        (r) => {
          assert.deepEqual([r.state, r.errorKind], [false, 'grpc_error'], r.detail);
          assert.match(r.detail ?? '', /does not speak HTTP\/2/);
        },
      );
    });
  }

  it('http and tcp against a hung port, and an http redirect loop: no socket stays open', async () => {
    await runMany(
      'http → hung TCP',
      () => httpRunner('127.0.0.1', { path: '/', port: hungPort, scheme: 'HTTP', headers: [] }, opts()),
      (r) => assert.deepEqual([r.state, r.errorKind], [false, 'timeout'], r.detail),
    );
    await runMany(
      'http redirect loop',
      () => httpRunner('127.0.0.1', { path: '/loop', port: httpPort, scheme: 'HTTP', headers: [] }, opts(5_000)),
      (r) => assert.deepEqual([r.state, r.errorKind], [false, 'http_error'], r.detail),
    );
    await runMany(
      'tcp → hung TCP',
      () => tcpRunner('127.0.0.1', hungPort, opts()),
      (r) => assert.deepEqual([r.state, r.errorKind], [true, ''], r.detail),
    );
  });
});
