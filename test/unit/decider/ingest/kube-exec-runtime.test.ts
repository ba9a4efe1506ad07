// KubeExecRuntime over a scripted exec websocket: the exec API's channel protocol (1 stdout,
// 2 stderr, 3 status) to ExecOutput / ProbeRunError.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { KubeConfig, type V1Pod } from '@kubernetes/client-node';
import type { Clock } from '../../../../common/clock.js';
import { MAX_OUTPUT_BYTES } from '../../../../common/probe-result.js';
import { ProbeRunError } from '../../../../common/probe/probe-run-error.js';
import { KubeExecRuntime, type WebSocketInterface } from '../../../../decider/ingest/kube-exec-runtime.js';
import type { KubeApi } from '../../../../decider/kube/kube-client.js';
import { FakeClock } from '../../probe/fake-clock.js';

class FakeSocket extends EventEmitter {
  closed = false;
  close(): void {
    this.closed = true;
  }
  terminate(): void {
    this.closed = true;
  }
}

type Script = (send: (channel: number, data: string | Buffer) => void, socket: FakeSocket) => void;

function transport(script: Script | Error): WebSocketInterface & { paths: string[]; socket: FakeSocket } {
  const socket = new FakeSocket();
  const paths: string[] = [];
  return {
    paths,
    socket,
    async connect(path, _text, binary) {
      paths.push(path);
      if (script instanceof Error) throw script;
      setImmediate(() => script((channel, data) => binary!(channel, Buffer.from(data)), socket));
      return socket as never;
    },
  };
}

const target = { namespace: 'games', podName: 'mc-0', podUid: 'u1', containerName: 'game' };
const kc = new KubeConfig();
kc.loadFromOptions({ clusters: [{ name: 'c', server: 'https://127.0.0.1:1' }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });

type Pod = V1Pod;
const runningPod: Pod = {
  metadata: { name: 'mc-0', namespace: 'games', uid: 'u1' },
  spec: { containers: [{ name: 'game' }] },
  status: { containerStatuses: [{ name: 'game', image: '', imageID: '', ready: true, restartCount: 0, state: { running: {} } }] },
};

/** The API server as the refusal diagnosis reads it: GET of the target pod, 404 when `pod` is null. */
function podApi(pod: Pod | null): KubeApi {
  return {
    request: async (method, path) => {
      assert.deepEqual([method, path], ['GET', `/api/v1/namespaces/${target.namespace}/pods/${target.podName}`]);
      return pod ? { status: 200, body: pod } : { status: 404, body: { kind: 'Status', reason: 'NotFound' } };
    },
    watch: () => Promise.reject(new Error('not used')),
  };
}

function run(t: ReturnType<typeof transport>, timeoutMs = 1_000, signal = new AbortController().signal, pod: Pod | null = runningPod, clock: Clock = new FakeClock()) {
  return new KubeExecRuntime(kc, podApi(pod), { ws: t, clock }).execSync(target, ['/bin/check', '--gate'], { timeoutMs, signal });
}

async function kind(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ProbeRunError, String(err));
    return (err as ProbeRunError).kind;
  }
  return 'resolved';
}

const nonZero = (code: number) => JSON.stringify({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } });

describe('KubeExecRuntime', () => {
  it('runs the argv in the named container and returns exit 0 with stdout and stderr', async () => {
    const t = transport((send) => {
      send(1, 'None');
      send(2, 'warn');
      send(3, JSON.stringify({ status: 'Success' }));
    });
    const out = await run(t);
    assert.equal(out.exitCode, 0);
    assert.equal(Buffer.from(out.stdout).toString(), 'None');
    assert.equal(Buffer.from(out.stderr).toString(), 'warn');
    const query = new URLSearchParams(t.paths[0]!.split('?')[1]);
    assert.deepEqual(query.getAll('command'), ['/bin/check', '--gate']);
    assert.equal(query.get('container'), 'game');
    assert.ok(t.paths[0]!.startsWith('/api/v1/namespaces/games/pods/mc-0/exec?'));
    assert.ok(t.socket.closed, 'socket released');
  });

  it('returns a non-zero exit code as data', async () => {
    const out = await run(transport((send) => send(3, nonZero(3))));
    assert.equal(out.exitCode, 3);
  });

  it('keeps at most MAX_OUTPUT_BYTES of output', async () => {
    const out = await run(transport((send) => {
      for (let i = 0; i < 4; i++) send(1, Buffer.alloc(MAX_OUTPUT_BYTES / 2, 'x'));
      send(3, JSON.stringify({ status: 'Success' }));
    }));
    assert.equal(out.stdout.length, MAX_OUTPUT_BYTES);
  });

  it('abandons a hanging exec at its timeout', async () => {
    const clock = new FakeClock();
    const t = transport(() => {});
    const result = kind(run(t, 100, undefined, undefined, clock));
    await clock.advance(99);
    assert.equal(t.socket.closed, false, 'still waiting before its timeout');
    await clock.advance(1);
    assert.equal(await result, 'timeout');
    assert.ok(t.socket.closed, 'socket closed on timeout');
  });

  it('explains a refused exec from the pod: gone, wrong container, not running, or not the pod\'s fault', async () => {
    const refused = (code: number) => transport(Object.assign(new Error(`Unexpected server response: ${code}`)));
    assert.equal(await kind(run(refused(404), 1_000, undefined, null)), 'container_not_found');
    assert.equal(await kind(run(refused(404), 1_000, undefined, { ...runningPod, metadata: { uid: 'recreated' } })), 'container_not_found');
    assert.equal(await kind(run(refused(400), 1_000, undefined, { ...runningPod, spec: { containers: [{ name: 'other' }] } })), 'container_not_found');
    const waiting = { ...runningPod, status: { containerStatuses: [{ ...runningPod!.status!.containerStatuses![0]!, state: { waiting: { reason: 'CrashLoopBackOff' } } }] } };
    assert.equal(await kind(run(refused(400), 1_000, undefined, waiting)), 'container_not_running');
    // The pod is fine: the node or its kubelet could not be reached (e.g. 404 for the node) — our fault.
    assert.equal(await kind(run(refused(404))), 'runtime_unavailable');
    assert.equal(await kind(run(refused(403))), 'runtime_unavailable');
  });

  it('maps Failure statuses and a socket closed without status', async () => {
    assert.equal(await kind(run(transport((send) => send(3, JSON.stringify({ status: 'Failure', message: 'container "game" is not running' }))))), 'container_not_running');
    assert.equal(await kind(run(transport((_send, socket) => socket.emit('close')))), 'exec_failed');
  });

  it('stops when the engine aborts', async () => {
    const ac = new AbortController();
    const p = run(transport(() => {}), 10_000, ac.signal);
    ac.abort();
    assert.equal(await kind(p), 'runtime_unavailable');
  });
});
