// The agent's CRI adapter against real containers of the bed's runtime (containerd, or CRI-O with
// `run --runtime cri-o`) started by the bed's FakeKubelet.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { getEventListeners } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { CriClient, type CriMethod } from '../../../agent/cri/cri-client.js';
import { criAddress } from '../../../agent/cri/cri-endpoint.js';
import { CriExecRuntime } from '../../../agent/cri/cri-exec-runtime.js';
import type { Outcome } from '../../../common/outcome.js';
import { MAX_RESULT_BYTES } from '../../../common/probe-result.js';
import { ProbeEngine } from '../../../common/probe/probe-engine.js';
import type { ExecTarget, ProbeTarget } from '../../../common/probe/types.js';
import { execRunner } from '../../../common/runners/exec-runner.js';
import { httpRunner } from '../../../common/runners/http-runner.js';
import { testbedEnv } from '../../testbed/env.js';
import { FakeKubelet, type RunningPod } from '../../testbed/fake-kubelet.js';
import { waitFor } from '../../testbed/wait-for.js';

const NAMESPACE = `agent-it-${randomUUID().slice(0, 8)}`;
// The seed's probe.sh, written into the container at start (the test image is plain busybox).
const GAME_COMMAND = ['sh', '-c', 'printf "#!/bin/sh\\necho gate\\n" > /probe.sh && chmod +x /probe.sh && exec sleep 100000'];

describe(`CriExecRuntime on real ${process.env.OKGSQ_TB_CRI_RUNTIME ?? 'containerd'}`, () => {
  let kubelet: FakeKubelet;
  let cri: CriClient;
  let runtime: CriExecRuntime;
  let game: RunningPod;
  let web: RunningPod;
  const calls: { method: CriMethod; code: string }[] = [];
  const opts = (timeoutMs = 5_000) => ({ timeoutMs, signal: new AbortController().signal });
  const targetOf = (pod: RunningPod, containerName: string): ExecTarget => ({ namespace: pod.namespace, podName: pod.name, podUid: pod.uid, containerName });

  before(async () => {
    const env = testbedEnv();
    kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: 'agent-it-node' });
    game = await kubelet.runPod({ namespace: NAMESPACE, name: 'game-0', inApiserver: false, containers: [{ name: 'game', command: GAME_COMMAND }] });
    web = await kubelet.runPod({
      namespace: NAMESPACE,
      name: 'web-0',
      inApiserver: false,
      containers: [{ name: 'web', command: ['sh', '-c', 'mkdir -p /www && echo Allocated > /www/index.html && exec httpd -f -p 8080 -h /www'] }],
    });
    cri = new CriClient(criAddress(env.containerdSocket), { onCall: (method, code) => calls.push({ method, code }) });
    runtime = new CriExecRuntime(cri);
    // probe.sh is written by the container's own command: wait until it is there.
    await waitFor(async () => (await runtime.execSync(targetOf(game, 'game'), ['/probe.sh'], opts())).exitCode === 0, {
      timeoutMs: 10_000,
      what: 'probe.sh in the game container',
    });
  });

  after(async () => {
    await runtime?.stop();
    cri?.close();
    for (const pod of [game, web]) if (pod) await kubelet.removePod(pod).catch(() => {});
    await kubelet?.close();
  });

  it('exec true/false keeps stdout as the result on every exit code', async () => {
    const ok = await execRunner(runtime, targetOf(game, 'game'), ['sh', '-c', 'echo ready; exit 0'], opts());
    assert.deepEqual([ok.state, ok.result, ok.exitCode], [true, 'ready', 0]);
    const fail = await execRunner(runtime, targetOf(game, 'game'), ['sh', '-c', 'echo "no|room"; echo oops >&2; exit 3'], opts());
    assert.deepEqual([fail.state, fail.result, fail.exitCode, fail.errorKind], [false, 'noroom', 3, '']);
  });

  it("runs the seed's probe.sh and gets gate", async () => {
    const r = await execRunner(runtime, targetOf(game, 'game'), ['/probe.sh'], opts());
    assert.deepEqual([r.state, r.result], [true, 'gate']);
  });

  it('makes exactly one CRI call per exec probe in steady state', async () => {
    await execRunner(runtime, targetOf(game, 'game'), ['true'], opts());
    calls.length = 0;
    for (let i = 0; i < 10; i++) await execRunner(runtime, targetOf(game, 'game'), ['true'], opts());
    assert.deepEqual(calls, Array.from({ length: 10 }, () => ({ method: 'ExecSync', code: 'OK' })));
  });

  it('execs sharing one long-lived signal leave no abort listener behind', async () => {
    const shared = new AbortController();
    for (let i = 0; i < 12; i++) await cri.execSync(game.containers[0]!.id, ['true'], 5, 7_000, shared.signal);
    assert.equal(getEventListeners(shared.signal, 'abort').length, 0);
  });

  it('a timeout is reported as such and kills the sleep', async () => {
    const t0 = Date.now();
    const r = await execRunner(runtime, targetOf(game, 'game'), ['sleep', '37'], opts(1_000));
    assert.deepEqual([r.state, r.errorKind], [false, 'timeout']);
    // Reported at the probe's deadline, not when the sleep would end (37 s): a wide margin for a loaded machine.
    assert.ok(Date.now() - t0 < 20_000, `took ${Date.now() - t0} ms`);
    await waitFor(
      async () => {
        const ps = await execRunner(runtime, targetOf(game, 'game'), ['sh', '-c', 'ps -o args | grep -c "^sleep 37" || true'], opts());
        return ps.result === '0';
      },
      { timeoutMs: 5_000, what: 'the timed-out sleep to be killed' },
    );
  });

  it('1 MiB and binary output are bounded and do not crash', async () => {
    const big = await execRunner(runtime, targetOf(game, 'game'), ['sh', '-c', "head -c 1048576 /dev/zero | tr '\\0' a"], opts());
    assert.equal(big.state, true);
    assert.equal(Buffer.byteLength(big.result), MAX_RESULT_BYTES);
    const binary = await execRunner(runtime, targetOf(game, 'game'), ['head', '-c', '65536', '/dev/urandom'], opts());
    assert.equal(binary.state, true);
    assert.ok(Buffer.byteLength(binary.result) <= MAX_RESULT_BYTES);
    assert.ok(!binary.result.includes('\n') && !binary.result.includes('|'));
  });

  it('a missing binary and a missing container are their own error kinds', async () => {
    const missing = await execRunner(runtime, targetOf(game, 'game'), ['/no/such/binary'], opts());
    assert.deepEqual([missing.state, missing.errorKind], [false, 'exec_failed']);
    const noContainer = await execRunner(runtime, targetOf(game, 'sidecar'), ['true'], opts());
    assert.deepEqual([noContainer.state, noContainer.errorKind], [false, 'container_not_found']);
  });

  it('reads the container start time for the initial delay', async () => {
    const startedAt = await runtime.containerStartedAtMs(targetOf(game, 'game'));
    assert.ok(startedAt && Math.abs(Date.now() - startedAt) < 120_000, `startedAt ${startedAt}`);
  });

  it('http probe against busybox httpd at the pod CNI IP: the body is the result', async () => {
    assert.match(web.podIp, /^\d+\.\d+\.\d+\.\d+$/);
    const r = await waitFor(
      async () => {
        const res = await httpRunner(web.podIp, { path: '/index.html', port: 8080, scheme: 'HTTP', headers: [] }, opts(2_000));
        return res.state ? res : undefined;
      },
      { timeoutMs: 10_000, what: 'httpd in the web pod' },
    );
    assert.equal(r.result, 'Allocated');
  });

  it('a stopped container is not running; a restarted one (new ID) is picked up', async () => {
    await kubelet.stopContainer(game, 'game');
    const stopped = await execRunner(runtime, targetOf(game, 'game'), ['/probe.sh'], opts());
    assert.deepEqual([stopped.state, stopped.errorKind], [false, 'container_not_running']);
    const oldId = game.containers.find((c) => c.name === 'game')!.id;
    const newId = await kubelet.restartContainer(game, 'game');
    assert.notEqual(newId, oldId);
    const back = await waitFor(
      async () => {
        const r = await execRunner(runtime, targetOf(game, 'game'), ['/probe.sh'], opts());
        return r.state ? r : undefined;
      },
      { timeoutMs: 10_000, what: 'exec in the restarted container' },
    );
    assert.equal(back.result, 'gate');
  });

  it('the probe engine publishes the real probe outcome through the CRI, one CRI call per run', async () => {
    const outcomes: Outcome[] = [];
    // Counted inside onRun: one key, so no other exec is in flight at that moment.
    let runs = 0;
    let steady: { method: CriMethod; code: string }[] | undefined;
    const onRun = (): void => {
      runs++;
      if (runs === 2) calls.length = 0;
      if (runs === 5) steady = [...calls];
    };
    const engine = new ProbeEngine({ exec: runtime, onOutcome: (o) => outcomes.push(o), onRun, slotMs: 20 });
    const target: ProbeTarget = {
      key: { podUid: game.uid, quality: 'gate' },
      namespace: game.namespace,
      podName: game.name,
      gameServerSet: 'gss',
      containerName: 'game',
      podIp: game.podIp,
      handler: { kind: 'exec', command: ['/probe.sh'] },
      timing: { initialDelaySeconds: 0, timeoutSeconds: 2, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
      containerStartedAtMs: 0,
    };
    engine.upsert([target]);
    engine.start();
    try {
      const o = await waitFor(() => outcomes[0], { timeoutMs: 10_000, what: 'an outcome' });
      assert.deepEqual([o.state, o.result, o.exitCode], [true, 'gate', 0]);
      // Steady state: the start time and the container ID are cached, so each run is one ExecSync.
      const window = await waitFor(() => steady, { timeoutMs: 10_000, what: 'runs 3 to 5' });
      assert.deepEqual(window, Array.from({ length: 3 }, () => ({ method: 'ExecSync', code: 'OK' })));
    } finally {
      await engine.stop();
    }
  });
});
