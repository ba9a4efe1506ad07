// The agent's CRI client on its own node:http2 transport (docs/design.md §29 "The agent's CRI calls"),
// against a grpc-js RuntimeService on a unix socket: answers, statuses, deadlines, cancellation, size
// limit, a runtime that is not there yet and one that restarts, each as the grpc-js client reported them
// (the codes cri-exec-runtime.ts maps to error kinds). Real containerd: test/integration/agent/cri-exec.test.ts.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall, type ServiceError, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { CriClient, type CriMethod } from '../../../agent/cri/cri-client.js';
import { grpcTimeout } from '../../../common/grpc-frame.js';
import { criAddress } from '../../../agent/cri/cri-endpoint.js';
import { RuntimeServiceService, type ExecSyncRequest, type ExecSyncResponse } from '../../../proto/gen/cri/runtime/v1/api.js';
import { waitFor } from '../../testbed/wait-for.js';

type ExecHandler = (call: ServerUnaryCall<ExecSyncRequest, ExecSyncResponse>, cb: sendUnaryData<ExecSyncResponse>) => void;

/** A RuntimeService whose ExecSync does what the test says. */
async function startRuntime(socket: string, exec: ExecHandler): Promise<Server> {
  const impl: UntypedServiceImplementation = {
    version: (_call: ServerUnaryCall<unknown, unknown>, cb: sendUnaryData<unknown>) =>
      cb(null, { version: '0.1.0', runtimeName: 'fake', runtimeVersion: '1.2.3', runtimeApiVersion: 'v1' }),
    execSync: exec,
  };
  const server = new Server();
  server.addService(RuntimeServiceService, impl);
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return server;
}

function statusError(code: status, details: string): Partial<ServiceError> {
  return { code, details, metadata: new Metadata() };
}

async function rejection(p: Promise<unknown>): Promise<ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as ServiceError;
  }
  assert.fail('expected the call to fail');
}

describe('CriClient (node:http2 transport)', () => {
  let dir: string;
  let n = 0;
  const signal = new AbortController().signal;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'okgsq-cri-client-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));
  const socket = (): string => join(dir, `cri-${++n}.sock`);
  /** A runtime with this ExecSync and a client of it, both ended after the test. */
  async function runtimeAndClient(t: TestContext, exec: ExecHandler): Promise<CriClient> {
    const path = socket();
    const server = await startRuntime(path, exec);
    const cri = new CriClient(criAddress(path));
    t.after(() => {
      cri.close();
      server.forceShutdown();
    });
    return cri;
  }

  it('decodes an answer and counts the call; a status is a ServiceError with its code and message', async () => {
    const path = socket();
    const server = await startRuntime(path, (call, cb) => {
      if (call.request.containerId === 'gone') return cb(statusError(status.NOT_FOUND, 'container "gone" not found: 100% gone'));
      cb(null, { stdout: Buffer.from(`ran ${call.request.cmd.join(' ')} in ${call.request.containerId} (timeout ${call.request.timeout})`), stderr: Buffer.from('e'), exitCode: 3 });
    });
    const calls: string[] = [];
    const cri = new CriClient(criAddress(path), { onCall: (method: CriMethod, code) => calls.push(`${method} ${code}`) });
    try {
      assert.equal((await cri.version()).runtimeVersion, '1.2.3');
      const res = await cri.execSync('c1', ['/probe.sh', 'a b'], 5, 6_000, signal);
      assert.equal(Buffer.from(res.stdout).toString(), 'ran /probe.sh a b in c1 (timeout 5)');
      assert.equal(res.exitCode, 3);
      const err = await rejection(cri.execSync('gone', ['x'], 5, 6_000, signal));
      assert.equal(err.code, status.NOT_FOUND);
      assert.equal(err.details, 'container "gone" not found: 100% gone');
      assert.deepEqual(calls, ['Version OK', 'ExecSync OK', 'ExecSync NOT_FOUND']);
    } finally {
      cri.close();
      server.forceShutdown();
    }
  });

  it('a runtime that does not answer: DEADLINE_EXCEEDED at the deadline, and the runtime sees the call cancelled', async (t) => {
    let cancelled = false;
    const cri = await runtimeAndClient(t, (call) => call.on('cancelled', () => (cancelled = true)));
    const err = await rejection(cri.execSync('c1', ['sleep', '60'], 1, 300, signal));
    assert.equal(err.code, status.DEADLINE_EXCEEDED);
    await waitFor(() => cancelled, { timeoutMs: 10_000, what: 'the runtime seeing the call end' });
  });

  it('an aborted signal cancels the call (CANCELLED), and the runtime sees it', async (t) => {
    let started = false;
    let cancelled = false;
    const cri = await runtimeAndClient(t, (call) => {
      started = true;
      call.on('cancelled', () => (cancelled = true));
    });
    const abort = new AbortController();
    const pending = rejection(cri.execSync('c1', ['sleep', '60'], 60, 62_000, abort.signal));
    await waitFor(() => started, { timeoutMs: 10_000, what: 'the call reaching the runtime' });
    abort.abort();
    assert.equal((await pending).code, status.CANCELLED);
    await waitFor(() => cancelled, { timeoutMs: 10_000, what: 'the runtime seeing the cancel' });
  });

  it('an answer over the size limit is RESOURCE_EXHAUSTED', async (t) => {
    const cri = await runtimeAndClient(t, (_call, cb) => cb(null, { stdout: Buffer.alloc(17 * 1024 * 1024, 0x61), stderr: Buffer.alloc(0), exitCode: 0 }));
    assert.equal((await rejection(cri.execSync('c1', ['yes'], 5, 30_000, signal))).code, status.RESOURCE_EXHAUSTED);
  });

  it('no runtime on the socket yet: UNAVAILABLE; once it listens, and again after it restarts, calls succeed', async () => {
    const path = socket();
    const cri = new CriClient(criAddress(path));
    const ok: ExecHandler = (_call, cb) => cb(null, { stdout: Buffer.from('gate\n'), stderr: Buffer.alloc(0), exitCode: 0 });
    let server: Server | undefined;
    try {
      assert.equal((await rejection(cri.execSync('c1', ['x'], 5, 6_000, signal))).code, status.UNAVAILABLE);
      server = await startRuntime(path, ok);
      assert.equal(Buffer.from((await cri.execSync('c1', ['x'], 5, 6_000, signal)).stdout).toString(), 'gate\n');
      server.forceShutdown();
      server = await startRuntime(path, ok);
      // The first call after the restart may still meet the old connection going away; a later one uses a new one.
      await waitFor(async () => (await cri.execSync('c1', ['x'], 5, 6_000, signal)).exitCode === 0, { timeoutMs: 10_000, what: 'a call on a new connection' });
    } finally {
      cri.close();
      server?.forceShutdown();
    }
  });

  it('after close() every call is UNAVAILABLE', async () => {
    const cri = new CriClient(criAddress(socket()));
    cri.close();
    assert.equal((await rejection(cri.version())).code, status.UNAVAILABLE);
  });

  it('grpc-timeout fits the protocol\'s 8 digits', () => {
    assert.equal(grpcTimeout(7_000), '7000m');
    assert.equal(grpcTimeout(0.2), '1m');
    assert.equal(grpcTimeout(100_000_000), '100000S');
    assert.equal(grpcTimeout(1e12), '277778H');
  });
});
