// A container that is stopped, restarted or crash-looping, on real containerd (or CRI-O) through the agent's CRI adapter
// (docs/design.md §18 "A container that is not running"): it is not probed, nothing is published for it (its
// last outcome stands), the skipped runs are counted as could-not-run, and a restarted container waits for
// initialDelaySeconds from its own start.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { CriClient } from '../../../agent/cri/cri-client.js';
import { criAddress } from '../../../agent/cri/cri-endpoint.js';
import { CriExecRuntime } from '../../../agent/cri/cri-exec-runtime.js';
import type { Outcome } from '../../../common/outcome.js';
import { ProbeEngine } from '../../../common/probe/probe-engine.js';
import type { CompletedRun } from '../../../common/probe/probe-worker.js';
import type { ProbeTarget } from '../../../common/probe/types.js';
import type { ProbeHandler } from '../../../common/service-quality.js';
import { testbedEnv } from '../../testbed/env.js';
import { FakeKubelet, type RunningPod } from '../../testbed/fake-kubelet.js';
import { waitFor } from '../../testbed/wait-for.js';

const NAMESPACE = `down-it-${randomUUID().slice(0, 8)}`;
const WEB_COMMAND = ['sh', '-c', 'mkdir -p /www && echo up > /www/index.html && printf "#!/bin/sh\\necho up\\n" > /probe.sh && chmod +x /probe.sh && exec httpd -f -p 8080 -h /www'];
// Lives about a second, as a game server that crashes at start.
const CRASH_COMMAND = ['sh', '-c', 'sleep 1; exit 1'];
const DELAY_SECONDS = 2;

interface Recorded {
  outcomes: Outcome[];
  runs: { quality: string; run: CompletedRun }[];
}

function targets(pod: RunningPod, container: string): ProbeTarget[] {
  const handlers: [string, ProbeHandler][] = [
    ['exec', { kind: 'exec', command: ['/probe.sh'] }],
    ['http', { kind: 'httpGet', path: '/index.html', port: 8080, scheme: 'HTTP', headers: [] }],
    ['tcp', { kind: 'tcpSocket', port: 8080 }],
  ];
  return handlers.map(([quality, handler]) => ({
    key: { podUid: pod.uid, quality },
    namespace: pod.namespace,
    podName: pod.name,
    gameServerSet: 'gss',
    containerName: container,
    podIp: pod.podIp,
    handler,
    timing: { initialDelaySeconds: DELAY_SECONDS, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
    containerStartedAtMs: 0,
  }));
}

describe(`a container that is not running, on real ${process.env.OKGSQ_TB_CRI_RUNTIME ?? 'containerd'}`, () => {
  let kubelet: FakeKubelet;
  let cri: CriClient;
  let runtime: CriExecRuntime;

  before(() => {
    const env = testbedEnv();
    kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: 'down-it-node' });
    cri = new CriClient(criAddress(env.containerdSocket));
    runtime = new CriExecRuntime(cri);
  });

  after(async () => {
    await runtime?.stop();
    cri?.close();
    await kubelet?.close();
  });

  function engineFor(pod: RunningPod, container: string): { engine: ProbeEngine; seen: Recorded } {
    const seen: Recorded = { outcomes: [], runs: [] };
    const engine = new ProbeEngine({
      exec: runtime,
      onOutcome: (o) => seen.outcomes.push(o),
      onRun: (run, t) => seen.runs.push({ quality: t.key.quality, run }),
      slotMs: 20,
    });
    engine.upsert(targets(pod, container));
    engine.start();
    return { engine, seen };
  }

  it('stopped: exec, http and tcp are not probed and publish nothing (no false); restarted: probed again after the initial delay from its new start', async () => {
    const pod = await kubelet.runPod({ namespace: NAMESPACE, name: 'web-0', inApiserver: false, containers: [{ name: 'web', command: WEB_COMMAND }] });
    const { engine, seen } = engineFor(pod, 'web');
    try {
      await waitFor(() => ['exec', 'http', 'tcp'].every((q) => seen.outcomes.some((o) => o.quality === q && o.state)), {
        timeoutMs: 20_000,
        what: 'all three qualities true',
      });
      await kubelet.stopContainer(pod, 'web');
      const stoppedAt = seen.runs.length;
      // Every quality has seen the container down a few times.
      await waitFor(
        () => ['exec', 'http', 'tcp'].every((q) => seen.runs.slice(stoppedAt).filter((r) => r.quality === q && r.run.errorKind === 'container_not_running').length >= 3),
        { timeoutMs: 30_000, what: 'three could-not-run runs per quality' },
      );
      assert.deepEqual(seen.outcomes.filter((o) => !o.state), [], 'a stopped container publishes no false');
      const down = seen.runs.slice(stoppedAt);
      // Only a run already under way when the container went may have ended as a failure before the fresh look.
      assert.ok(down.every((r) => r.run.outcome === 'unknown' || r.run.outcome === 'true'), JSON.stringify(down.map((r) => [r.quality, r.run.outcome, r.run.errorKind])));
      assert.deepEqual(engine.published().map((o) => [o.quality, o.state]).sort(), [['exec', true], ['http', true], ['tcp', true]]);

      await kubelet.restartContainer(pod, 'web');
      const restartedAt = seen.runs.length;
      const startedAtMs = await waitFor(() => runtime.containerStartedAtMs({ namespace: pod.namespace, podName: pod.name, podUid: pod.uid, containerName: 'web' }), {
        timeoutMs: 10_000,
        what: 'the new container start',
      });
      await waitFor(() => ['exec', 'http', 'tcp'].every((q) => seen.runs.slice(restartedAt).some((r) => r.quality === q && r.run.outcome === 'true')), {
        timeoutMs: 30_000,
        what: 'each quality true again in the new container',
      });
      for (const { quality, run } of seen.runs.slice(restartedAt)) {
        if (run.outcome === 'unknown') continue;
        assert.ok(run.observedAtMs - run.durationMs >= startedAtMs + DELAY_SECONDS * 1000, `${quality} ran ${run.observedAtMs - run.durationMs - startedAtMs} ms after the new start`);
      }
      assert.deepEqual(seen.outcomes.filter((o) => !o.state), [], 'no false at any point');
    } finally {
      await engine.stop();
      await kubelet.removePod(pod).catch(() => {});
    }
  });

  it('crash-looping (each container lives ~1 s, less than the initial delay): never probed, nothing published', async () => {
    const pod = await kubelet.runPod({ namespace: NAMESPACE, name: 'crash-0', inApiserver: false, containers: [{ name: 'game', command: CRASH_COMMAND }] });
    const { engine, seen } = engineFor(pod, 'game');
    const target = { namespace: pod.namespace, podName: pod.name, podUid: pod.uid, containerName: 'game' };
    try {
      for (let restart = 0; restart < 4; restart++) {
        await waitFor(
          async () => {
            await runtime.refresh();
            return (await runtime.containerState(target)) === 'not_running';
          },
          { timeoutMs: 20_000, what: `crash ${restart}` },
        );
        // Long enough down for several probe periods, as the kubelet's back-off would keep it.
        const downAt = seen.runs.length;
        await waitFor(() => seen.runs.slice(downAt).filter((r) => r.quality === 'exec').length >= 2, { timeoutMs: 20_000, what: `runs while down ${restart}` });
        await kubelet.restartContainer(pod, 'game');
      }
      assert.deepEqual(seen.outcomes, [], 'nothing published for a container that never lived past its initial delay');
      assert.ok(seen.runs.length > 0);
      const kinds = new Set(seen.runs.map((r) => `${r.run.outcome}/${r.run.errorKind}`));
      assert.deepEqual([...kinds].filter((k) => !k.startsWith('unknown/container_not_')), [], [...kinds].join(' '));
    } finally {
      await engine.stop();
      await kubelet.removePod(pod).catch(() => {});
    }
  });
});
