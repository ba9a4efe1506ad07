// The built agent as a process: the bed's real CRI runtime (containerd or CRI-O), a real grpc-js decider stub, its own
// /metrics, /healthz and /readyz, and a clean exit on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { testbedEnv } from '../../testbed/env.js';
import { FakeKubelet, type RunningPod } from '../../testbed/fake-kubelet.js';
import { waitFor } from '../../testbed/wait-for.js';
import { AgentServiceStub } from './agent-service-stub.js';

// The compiled agent sits beside this compiled test in the same output tree.
const AGENT_MAIN = fileURLToPath(new URL('../../../agent/main.js', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

describe('agent process', () => {
  let kubelet: FakeKubelet;
  let pod: RunningPod;
  let dir: string;
  const stub = new AgentServiceStub();

  before(async () => {
    const env = testbedEnv();
    dir = mkdtempSync(join(tmpdir(), 'okgsq-agent-proc-'));
    kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: 'agent-proc-node' });
    pod = await kubelet.runPod({
      namespace: `agent-proc-${randomUUID().slice(0, 8)}`,
      name: 'game-0',
      inApiserver: false,
      containers: [{ name: 'game', command: ['sh', '-c', 'echo gate > /state && exec sleep 100000'] }],
    });
    stub.plan = [
      {
        full: true,
        upsert: [
          {
            podUid: pod.uid,
            quality: 'gate',
            namespace: pod.namespace,
            podName: pod.name,
            gameServerSet: 'gss',
            containerName: 'game',
            podIp: pod.podIp,
            handler: { kind: { $case: 'exec', value: { command: ['cat', '/state'] } } },
            timing: { initialDelaySeconds: 0, timeoutSeconds: 2, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
            containerStartedUnixMs: 0,
          },
        ],
        remove: [],
        resyncIntervalSeconds: 0,
      },
    ];
    await stub.start();
  });

  after(async () => {
    stub.kill();
    if (pod) await kubelet.removePod(pod).catch(() => {});
    await kubelet?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The built agent with the bed's containerd and the stub; `env` overrides. */
  async function spawnAgent(env: Record<string, string> = {}): Promise<{ child: ChildProcess; httpPort: number; output: () => string; exited: Promise<number | null> }> {
    const tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, 'agent-token');
    const httpPort = await freePort();
    const child: ChildProcess = spawn(process.execPath, [AGENT_MAIN], {
      env: {
        PATH: process.env.PATH,
        OKGSQ_NODE_NAME: 'agent-proc-node',
        OKGSQ_DECIDER_ADDRESS: `127.0.0.1:${stub.port}`,
        OKGSQ_INSECURE_GRPC: 'true',
        OKGSQ_TOKEN_FILE: tokenFile,
        OKGSQ_CRI_ENDPOINT: testbedEnv().containerdSocket,
        OKGSQ_HTTP_PORT: String(httpPort),
        OKGSQ_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    return { child, httpPort, output: () => output, exited };
  }

  async function readyz(httpPort: number): Promise<{ status: number; body: string } | undefined> {
    try {
      const res = await fetch(`http://127.0.0.1:${httpPort}/readyz`);
      return { status: res.status, body: await res.text() };
    } catch {
      return undefined; // not listening yet
    }
  }

  it('/readyz: 503 naming the CRI when the runtime does not answer, and the decider while no session is up', async () => {
    stub.refuseWith = status.UNAVAILABLE;
    const { child, httpPort, output, exited } = await spawnAgent({ OKGSQ_CRI_ENDPOINT: join(dir, 'no-such-containerd.sock') });
    try {
      const r = await waitFor(() => readyz(httpPort), { timeoutMs: 15_000, what: `/readyz (output: ${output()})` });
      assert.equal(r.status, 503);
      assert.match(r.body, /^the CRI runtime does not answer: .*\nno session with the decider\n$/);
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, 200, 'liveness is not readiness');
      // The decider accepts now; the CRI still does not answer: still not ready, for that reason only.
      stub.refuseWith = undefined;
      const cri = await waitFor(async () => {
        const x = await readyz(httpPort);
        return x && !x.body.includes('decider') ? x : undefined;
      }, { timeoutMs: 20_000, what: `a session with the stub (output: ${output()})` });
      assert.equal(cri.status, 503);
      assert.match(cri.body, /^the CRI runtime does not answer: /);
      child.kill('SIGTERM');
      assert.equal(await exited, 0, output());
    } finally {
      stub.refuseWith = undefined;
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('probes through the CRI, reports to the decider, serves /metrics, is ready, and exits 0 on SIGTERM', async () => {
    const earlier = stub.connections.length;
    const { child, httpPort, output: out, exited } = await spawnAgent();
    try {
      const output = out();
      const conn = await waitFor(() => stub.connections[earlier], { timeoutMs: 15_000, what: `agent connection (output: ${output})` });
      assert.equal(conn.authorization, 'Bearer agent-token');
      const hello = stub.helloOf(conn);
      assert.equal(hello?.$case === 'hello' && hello.value.runtimeName, testbedEnv().criRuntime);
      const outcome = await waitFor(() => stub.batches(conn).flatMap((b) => b.outcomes).find((o) => o.podUid === pod.uid), {
        timeoutMs: 15_000,
        what: 'the outcome of the real exec probe',
      });
      assert.deepEqual([outcome.state, outcome.result, outcome.quality], [true, 'gate', 'gate']);

      const metrics = await waitFor(
        async () => {
          const body = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
          return body.includes('okgsq_agent_cri_calls_total{method="ExecSync",code="OK"}') ? body : undefined;
        },
        { timeoutMs: 10_000, what: '/metrics with CRI calls' },
      );
      assert.match(metrics, /okgsq_agent_probe_runs_total\{outcome="true",error_kind=""\} [1-9]/);
      assert.match(metrics, /okgsq_agent_stream_connected 1/);
      assert.match(metrics, /okgsq_agent_probes 1/);
      assert.match(metrics, /okgsq_agent_probe_duration_seconds_bucket/);
      assert.equal((await fetch(`http://127.0.0.1:${httpPort}/healthz`)).status, 200);
      assert.deepEqual(await readyz(httpPort), { status: 200, body: 'ok\n' });

      child.kill('SIGTERM');
      assert.equal(await exited, 0, out());
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
