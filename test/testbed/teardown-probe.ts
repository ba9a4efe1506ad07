// Run inside a bed by the teardown smoke test: starts a pod the way a test would, then exits WITHOUT
// cleaning up, and prints every PID the bed and the pod own, so the test can check the bed's teardown.
import { readFileSync } from 'node:fs';
import { findProcessesWithArg } from './containerd.js';
import { testbedEnv } from './env.js';
import { FakeKubelet } from './fake-kubelet.js';
import { createNamespace } from './kube.js';
import { listSlots } from './slots.js';

const CGROUP_PROCS_CANDIDATES = ['/sys/fs/cgroup/pids/k8s.io', '/sys/fs/cgroup/k8s.io', '/sys/fs/cgroup/unified/k8s.io'] as const;

function cgroupPids(id: string): number[] {
  for (const base of CGROUP_PROCS_CANDIDATES) {
    try {
      return readFileSync(`${base}/${id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      // not this hierarchy
    }
  }
  return [];
}

const env = testbedEnv();
const namespace = await createNamespace('tb-teardown');
const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: 'tb-teardown-node' });
const pod = await kubelet.runPod({ namespace, name: 'left-behind', containers: [{ name: 'c', command: ['sleep', '3600'] }] });
const slot = listSlots().find((s) => s.workDir === env.workDir);
const report = {
  slot,
  podIp: pod.podIp,
  containerPids: [pod.sandboxId, ...pod.containers.map((c) => c.id)].flatMap(cgroupPids),
  shimPids: findProcessesWithArg(env.containerdSocket),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
// No kubelet.close(): the bed's teardown must remove what tests leave behind.
process.exit(0);
