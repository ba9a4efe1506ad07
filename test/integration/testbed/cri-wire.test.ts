// The generated CRI decoders (ts-proto, forceLong=bigint for the CRI file) read real containerd (or CRI-O) replies:
// every CRI time is Unix nanoseconds, above 2^53, which the former forceLong=number code refused to decode.
// Both clients are checked: the bed's (fake kubelet, smoke tests) and the agent's (initialDelaySeconds).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { CriClient as AgentCriClient } from '../../../agent/cri/cri-client.js';
import { criAddress } from '../../../agent/cri/cri-endpoint.js';
import { CriExecRuntime, KUBELET_LABELS } from '../../../agent/cri/cri-exec-runtime.js';
import { criNanosToMs } from '../../../agent/cri/cri-time.js';
import { ContainerState, PodSandboxState } from '../../../proto/gen/cri/runtime/v1/api.js';
import { CriClient } from '../../testbed/cri-client.js';
import { testbedEnv } from '../../testbed/env.js';
import { FakeKubelet } from '../../testbed/fake-kubelet.js';

const MAX_SAFE_NS = BigInt(Number.MAX_SAFE_INTEGER);
/** The runtime's clock and ours are the same host clock; allow for ms truncation and a busy machine. */
const SLACK_MS = 1_000;

function assertBetween(label: string, ms: number, lowMs: number, highMs: number): void {
  assert.ok(ms >= lowMs - SLACK_MS && ms <= highMs + SLACK_MS, `${label} ${new Date(ms).toISOString()} not within [${new Date(lowMs).toISOString()}, ${new Date(highMs).toISOString()}]`);
}

test(`ListContainers / ContainerStatus / sandbox replies from real ${process.env.OKGSQ_TB_CRI_RUNTIME ?? 'containerd'} decode with the right times`, async () => {
  const env = testbedEnv();
  const namespace = `cri-decode-${randomUUID().slice(0, 8)}`;
  const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: 'cri-decode-node' });
  const cri = new CriClient(env.containerdSocket);
  const agentCri = new AgentCriClient(criAddress(env.containerdSocket));
  const runtime = new CriExecRuntime(agentCri);
  const before = Date.now();
  const pod = await kubelet.runPod({ namespace, name: 'game-0', inApiserver: false, containers: [{ name: 'game', command: ['sleep', '3600'] }] });
  const after = Date.now();
  try {
    const id = pod.containers[0]!.id;

    // The bed's client, generated ListContainers decoder.
    const { containers } = await cri.listContainers({
      filter: { id: '', state: undefined, podSandboxId: '', labelSelector: { [KUBELET_LABELS.podUid]: pod.uid, [KUBELET_LABELS.containerName]: 'game' } },
    });
    assert.equal(containers.length, 1);
    const listed = containers[0]!;
    assert.equal(listed.id, id);
    assert.equal(listed.podSandboxId, pod.sandboxId);
    assert.equal(listed.metadata?.name, 'game');
    assert.equal(listed.state, ContainerState.CONTAINER_RUNNING);
    assert.ok(listed.createdAt > MAX_SAFE_NS, `created_at ${listed.createdAt} ns is above 2^53, as real CRI times are`);
    assertBetween('ListContainers created_at', criNanosToMs(listed.createdAt), before, after);

    // Generated ContainerStatus decoder: created ≤ started, both within this test's run, not finished.
    const { status } = await cri.containerStatus({ containerId: id, verbose: false });
    assert.ok(status);
    assert.equal(status.id, id);
    assert.equal(status.state, ContainerState.CONTAINER_RUNNING);
    if (env.criRuntime === 'cri-o') {
      // CRI-O lists the time it made its container object and reports the OCI state's creation time in
      // ContainerStatus: two instants, both within the run.
      assertBetween('ContainerStatus created_at', criNanosToMs(status.createdAt), before, after);
    } else {
      assert.equal(status.createdAt, listed.createdAt, 'the same instant, to the nanosecond, in both replies');
    }
    assert.ok(status.startedAt >= status.createdAt, 'started after created');
    assertBetween('ContainerStatus started_at', criNanosToMs(status.startedAt), before, after);
    assert.equal(status.finishedAt, 0n, 'a running container has no finish time');
    assert.equal(status.labels[KUBELET_LABELS.podUid], pod.uid);

    // Sandbox replies: times and the CNI IP.
    const sandbox = (await cri.podSandboxStatus({ podSandboxId: pod.sandboxId, verbose: false })).status;
    assert.ok(sandbox);
    assert.equal(sandbox.state, PodSandboxState.SANDBOX_READY);
    assert.equal(sandbox.network?.ip, pod.podIp);
    assertBetween('PodSandboxStatus created_at', criNanosToMs(sandbox.createdAt), before, after);
    const listedSandbox = (await cri.listPodSandbox()).items.find((s) => s.id === pod.sandboxId);
    assert.ok(listedSandbox);
    assert.equal(listedSandbox.createdAt, sandbox.createdAt);

    // The agent's client and runtime: the start time initialDelaySeconds counts from, in Unix ms.
    assert.equal((await agentCri.listContainers()).find((c) => c.id === id)?.createdAt, listed.createdAt);
    const target = { namespace, podName: pod.name, podUid: pod.uid, containerName: 'game' };
    assert.equal(await runtime.containerStartedAtMs(target), criNanosToMs(status.startedAt));
  } finally {
    await runtime.stop();
    agentCri.close();
    cri.close();
    await kubelet.removePod(pod).catch(() => {});
    await kubelet.close();
  }
});
