import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { MAX_RESULT_BYTES } from '../../../common/probe-result.js';
import { decodeHealthCheckResponse, encodeHealthCheckRequest, grpcRunner } from '../../../common/runners/grpc-runner.js';
import { grpcFrame, readGrpcMessage } from '../../../common/grpc-frame.js';
import { httpRunner, type HttpProbeSpec } from '../../../common/runners/http-runner.js';
import { runProbe } from '../../../common/runners/run-probe.js';
import { tcpRunner } from '../../../common/runners/tcp-runner.js';
import { startHealthServer } from './grpc-health-server.js';
import { selfSignedCert } from './self-signed-cert.js';

const opts = (timeoutMs = 2_000) => ({ timeoutMs, signal: new AbortController().signal });
const get = (path: string, headers: HttpProbeSpec['headers'] = []): HttpProbeSpec => ({ path, port: httpPort, scheme: 'HTTP', headers });

let http: HttpServer;
let httpPort = 0;
let hits: string[] = [];

before(async () => {
  http = createServer((req, res) => {
    hits.push(req.url ?? '');
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/ok':
        res.end('WaitToBeDeleted\n');
        return;
      case '/status':
        res.writeHead(Number(url.searchParams.get('code'))).end('body-of-error');
        return;
      case '/header':
        res.end(String(req.headers['x-game']));
        return;
      case '/same-host':
        res.writeHead(302, { location: '/final' }).end('moved');
        return;
      case '/final':
        res.end('final-body');
        return;
      case '/other-host':
        res.writeHead(302, { location: `http://localhost:${httpPort}/final` }).end('going-away');
        return;
      case '/loop':
        res.writeHead(302, { location: '/loop' }).end();
        return;
      case '/large':
        res.writeHead(200);
        // 8 MiB, far over the read bound: the runner must stop reading.
        for (let i = 0; i < 128; i++) res.write(Buffer.alloc(64 * 1024, 0x61));
        res.end();
        return;
      case '/binary':
        res.end(Buffer.from([0xff, 0xfe, 0x00, 0x7c, 0x0a, 0x41]));
        return;
      case '/hang':
        return; // never answers
      default:
        res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  httpPort = (http.address() as AddressInfo).port;
});

after(async () => {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
});

describe('httpRunner', () => {
  it('200 → true with the body as the result, normalised', async () => {
    const r = await httpRunner('127.0.0.1', get('/ok'), opts());
    assert.deepEqual([r.state, r.result, r.errorKind], [true, 'WaitToBeDeleted', '']);
  });

  it('2xx–3xx are true, 4xx/5xx false, and the body is the result either way', async () => {
    for (const [code, state] of [[204, true], [399, true], [400, false], [500, false]] as const) {
      const r = await httpRunner('127.0.0.1', get(`/status?code=${code}`), opts());
      assert.equal(r.state, state, `HTTP ${code}`);
      if (code !== 204) assert.equal(r.result, 'body-of-error');
    }
  });

  it('sends the configured headers', async () => {
    const r = await httpRunner('127.0.0.1', get('/header', [{ name: 'X-Game', value: 'minecraft' }]), opts());
    assert.equal(r.result, 'minecraft');
  });

  it('follows a redirect on the same host', async () => {
    const r = await httpRunner('127.0.0.1', get('/same-host'), opts());
    assert.deepEqual([r.state, r.result], [true, 'final-body']);
  });

  it('does not follow a redirect off the pod host, and counts it as success', async () => {
    hits = [];
    const r = await httpRunner('127.0.0.1', get('/other-host'), opts());
    assert.deepEqual([r.state, r.result], [true, 'going-away']);
    assert.deepEqual(hits, ['/other-host']);
  });

  it("a redirect loop stops where Go's client (the kubelet's) stops: 10 requests in all, then a failure", async () => {
    hits = [];
    const r = await httpRunner('127.0.0.1', get('/loop'), opts());
    assert.deepEqual([r.state, r.errorKind], [false, 'http_error']);
    assert.equal(hits.length, 10);
  });

  it('times out a server that never answers', async () => {
    const t0 = Date.now();
    const r = await httpRunner('127.0.0.1', get('/hang'), opts(300));
    assert.deepEqual([r.state, r.errorKind], [false, 'timeout']);
    assert.ok(Date.now() - t0 < 2_000);
  });

  it('reads a huge body with a bound and caps the result', async () => {
    const r = await httpRunner('127.0.0.1', get('/large'), opts());
    assert.equal(r.state, true);
    assert.equal(Buffer.byteLength(r.result), MAX_RESULT_BYTES);
  });

  it('takes binary bodies without crashing', async () => {
    const r = await httpRunner('127.0.0.1', get('/binary'), opts());
    assert.equal(r.state, true);
    assert.ok(!r.result.includes('|') && !r.result.includes('\n'));
    assert.ok(r.result.endsWith('A'));
  });

  it('HTTPS does not verify the certificate, like kubelet', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'okgsq-https-'));
    const { certFile, keyFile } = selfSignedCert(dir, 'game.example');
    const server = createHttpsServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, (_req, res) => res.end('secure'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const r = await httpRunner('127.0.0.1', { path: '/', port, scheme: 'HTTPS', headers: [] }, opts());
      assert.deepEqual([r.state, r.result], [true, 'secure']);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('connection refused is its own error kind', async () => {
    const port = await closedPort();
    const r = await httpRunner('127.0.0.1', { path: '/', port, scheme: 'HTTP', headers: [] }, opts());
    assert.deepEqual([r.state, r.errorKind], [false, 'connection_refused']);
  });
});

async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('runProbe', () => {
  it('never sends a network probe to this host when the pod has no IP yet', async () => {
    const t = {
      key: { podUid: 'u', quality: 'q' },
      namespace: 'ns',
      podName: 'p',
      gameServerSet: 'g',
      containerName: 'c',
      podIp: '',
      timing: { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
      containerStartedAtMs: 0,
    };
    for (const handler of [
      { kind: 'tcpSocket', port: httpPort },
      { kind: 'httpGet', path: '/ok', port: httpPort, scheme: 'HTTP', headers: [] },
      { kind: 'grpc', port: httpPort, service: '' },
    ] as const) {
      const r = await runProbe({ ...t, handler }, undefined, opts());
      assert.deepEqual([r.state, r.errorKind], [false, 'connection_failed'], handler.kind);
    }
  });
});

describe('tcpRunner', () => {
  it('open port → true, closed port → connection_refused', async () => {
    const ok = await tcpRunner('127.0.0.1', httpPort, opts());
    assert.equal(ok.state, true);
    const refused = await tcpRunner('127.0.0.1', await closedPort(), opts());
    assert.deepEqual([refused.state, refused.errorKind], [false, 'connection_refused']);
  });
});

describe('grpcRunner', () => {
  it('encodes and decodes the health messages', () => {
    assert.deepEqual([...encodeHealthCheckRequest('ab')], [0x0a, 2, 0x61, 0x62]);
    assert.equal(decodeHealthCheckResponse(Buffer.from([0x08, 0x02])), 2);
    assert.equal(decodeHealthCheckResponse(Buffer.alloc(0)), 0);
    assert.deepEqual([...grpcFrame(Buffer.from([0x08, 0x01]))], [0, 0, 0, 0, 2, 0x08, 0x01]);
    assert.deepEqual([...readGrpcMessage(Buffer.from([0, 0, 0, 0, 2, 0x08, 0x01]))], [0x08, 0x01]);
    assert.throws(() => readGrpcMessage(Buffer.from([1, 0, 0, 0, 0])), /compressed/);
    assert.throws(() => readGrpcMessage(Buffer.from([0, 0, 0, 0, 9, 0x08])), /9 bytes/);
    assert.throws(() => readGrpcMessage(Buffer.from('HTTP/1.1 400')), /not a gRPC message|bytes/);
  });

  it('asks a real grpc-js health service: SERVING → true, NOT_SERVING → false, unknown service → grpc_error', async () => {
    const { server, port } = await startHealthServer({ '': 1, game: 2 });
    try {
      const serving = await grpcRunner('127.0.0.1', port, '', opts());
      assert.deepEqual([serving.state, serving.result], [true, 'SERVING'], serving.detail);
      const notServing = await grpcRunner('127.0.0.1', port, 'game', opts());
      assert.deepEqual([notServing.state, notServing.result], [false, 'NOT_SERVING']);
      const unknown = await grpcRunner('127.0.0.1', port, 'nope', opts());
      assert.deepEqual([unknown.state, unknown.errorKind], [false, 'grpc_error']);
    } finally {
      server.forceShutdown();
    }
    const refused = await grpcRunner('127.0.0.1', await closedPort(), '', opts(1_000));
    assert.equal(refused.state, false);
    assert.equal(refused.errorKind, 'connection_refused', refused.detail);
  });
});
