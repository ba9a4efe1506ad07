// The agent benchmark's CRI rows (bench/agent-probes.ts): real exec probes through CRI ExecSync into the
// test bed's containerd, the agent's whole CRI path against a fake CRI server, and the agent's exec
// overhead against calling ExecSync directly.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../agent/cri/cri-client.js';
import { criAddress } from '../agent/cri/cri-endpoint.js';
import { CriExecRuntime } from '../agent/cri/cri-exec-runtime.js';
import { CallCounter, measure, targets, type Args, type Figures } from './agent-probes-kit.js';
import { FAKE_CRI_CONTAINER, FAKE_CRI_FLAG, FAKE_CRI_PODS, SERVERS_SCRIPT } from './agent-probes-servers.js';

export async function withContainerd(socket: string, seconds: number): Promise<Figures | undefined> {
  // Imported lazily: only this mode needs the bed's FakeKubelet.
  const { FakeKubelet } = await import('../test/testbed/fake-kubelet.js');
  const kubelet = new FakeKubelet({ socket, nodeName: 'bench-node' });
  const namespace = `bench-${randomUUID().slice(0, 8)}`;
  const pods: Awaited<ReturnType<typeof kubelet.runPod>>[] = [];
  const containerCount = 10;
  const probesPerContainer = 2;
  const period = 1;
  try {
    for (let i = 0; i < containerCount; i++) {
      pods.push(
        await kubelet.runPod({
          namespace,
          name: `game-${i}`,
          inApiserver: false,
          containers: [{ name: 'game', command: ['sh', '-c', 'printf "#!/bin/sh\\necho gate\\n" > /probe.sh && chmod +x /probe.sh && exec sleep 100000'] }],
        }),
      );
    }
    const calls = new CallCounter();
    const cri = new CriClient(criAddress(socket), { onCall: calls.onCall });
    const runtime = new CriExecRuntime(cri);
    const list = targets(containerCount * probesPerContainer, period, (i) => {
      const pod = pods[i % containerCount]!;
      return { uid: pod.uid, name: pod.name, namespace, container: 'game' };
    });
    const figures = await measure('containerd (real CRI ExecSync)', runtime, list, seconds, period, calls);
    await runtime.stop();
    cri.close();
    return figures;
  } finally {
    for (const pod of pods) await kubelet.removePod(pod).catch(() => {});
    await kubelet.close();
  }
}


export async function withFakeCri(args: Args): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-bench-cri-'));
  const socket = join(dir, 'cri.sock');
  const child = spawn(process.execPath, [SERVERS_SCRIPT, FAKE_CRI_FLAG, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout?.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`fake CRI exited with ${code}`)));
    });
    const calls = new CallCounter();
    const cri = new CriClient(criAddress(socket), { onCall: calls.onCall });
    const runtime = new CriExecRuntime(cri);
    const list = targets(args.probes, args.period, (i) => {
      const pod = i % FAKE_CRI_PODS;
      return { uid: `pod-${pod}`, name: `game-${pod}`, namespace: 'bench', container: FAKE_CRI_CONTAINER };
    });
    const figures = await measure('fake CRI server (grpc-js server; the agent CRI client over a unix socket)', runtime, list, args.seconds, args.period, calls);
    await runtime.stop();
    cri.close();
    return figures;
  } finally {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}


/**
 * The agent's exec path against calling ExecSync directly, on the same real containerd container:
 * sequential runs alternating the two, median wall time and this process's CPU per exec each.
 */
export async function execOverhead(socket: string, runs: number): Promise<Record<string, number | string> | undefined> {
  const { FakeKubelet } = await import('../test/testbed/fake-kubelet.js');
  const kubelet = new FakeKubelet({ socket, nodeName: 'bench-node' });
  const namespace = `bench-${randomUUID().slice(0, 8)}`;
  const pod = await kubelet.runPod({
    namespace,
    name: 'game-overhead',
    inApiserver: false,
    containers: [{ name: 'game', command: ['sh', '-c', 'printf "#!/bin/sh\\necho gate\\n" > /probe.sh && chmod +x /probe.sh && exec sleep 100000'] }],
  });
  const calls = new CallCounter();
  const cri = new CriClient(criAddress(socket), { onCall: calls.onCall });
  const runtime = new CriExecRuntime(cri);
  try {
    const id = pod.containers[0]!.id;
    const target = { podUid: pod.uid, namespace, podName: pod.name, containerName: 'game' };
    const signal = new AbortController().signal;
    const direct = async (): Promise<void> => void (await cri.execSync(id, ['/probe.sh'], 5, 6_000, signal));
    const agent = async (): Promise<void> => void (await runtime.execSync(target, ['/probe.sh'], { timeoutMs: 5_000, signal }));
    // Warm both paths (channel connect, container index) before measuring.
    await direct();
    await agent();
    const wall = { direct: [] as number[], agent: [] as number[] };
    const cpu = { direct: 0, agent: 0 };
    calls.byMethod.clear();
    for (let i = 0; i < runs; i++) {
      for (const [name, fn] of [['direct', direct], ['agent', agent]] as const) {
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        await fn();
        wall[name].push(performance.now() - t0);
        const c = process.cpuUsage(c0);
        cpu[name] += (c.user + c.system) / 1000;
      }
    }
    const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    const r2 = (n: number): number => Math.round(n * 100) / 100;
    return {
      runs,
      directMedianMs: r2(median(wall.direct)),
      agentMedianMs: r2(median(wall.agent)),
      wallRatio: r2(median(wall.agent) / median(wall.direct)),
      directCpuMsPerExec: r2(cpu.direct / runs),
      agentCpuMsPerExec: r2(cpu.agent / runs),
      // All calls made: `runs` direct ExecSyncs plus the agent path's; the rest per agent exec is its cost.
      criCallsPerAgentExec: r2(([...calls.byMethod.values()].reduce((a, b) => a + b, 0) - runs) / runs),
    };
  } finally {
    await runtime.stop();
    cri.close();
    await kubelet.removePod(pod).catch(() => {});
    await kubelet.close();
  }
}

