// Run inside a bed by the teardown smoke test: starts a pod the way a test would, then exits WITHOUT
// cleaning up, and prints every PID the bed and the pod own, so the test can check the bed's teardown.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findProcessesWithArg } from './containerd.js';
import { testbedEnv } from './env.js';
import { FakeKubelet } from './fake-kubelet.js';
import { createNamespace } from './kube.js';
import { listSlots } from './slots.js';

const env = testbedEnv();
const crio = env.criRuntime === 'cri-o';
// containerd: <hierarchy>/k8s.io/<id>; CRI-O (cgroupfs, no pod parent): <hierarchy>/crio/crio-<id>.
const CGROUP_PROCS_CANDIDATES = ['/sys/fs/cgroup/pids', '/sys/fs/cgroup', '/sys/fs/cgroup/unified'].map((h) => join(h, crio ? 'crio' : 'k8s.io'));

function cgroupPids(id: string): number[] {
  for (const base of CGROUP_PROCS_CANDIDATES) {
    try {
      return readFileSync(`${base}/${crio ? `crio-${id}` : id}/cgroup.procs`, 'utf8').split('\n').filter(Boolean).map(Number);
    } catch {
      // not this hierarchy
    }
  }
  return [];
}

/** containerd's shims name its socket; CRI-O's conmons name paths under its dir (crio.ts). */
function monitorPids(): number[] {
  if (!crio) return findProcessesWithArg(env.containerdSocket);
  const dir = join(env.workDir, 'crio');
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).map(Number).filter((pid) => {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return argv[0]?.endsWith('conmon') === true && argv.some((a) => a.startsWith(`${dir}/`));
    } catch {
      return false;
    }
  });
}

const namespace = await createNamespace('tb-teardown');
const kubelet = new FakeKubelet({ socket: env.containerdSocket, nodeName: 'tb-teardown-node' });
const pod = await kubelet.runPod({ namespace, name: 'left-behind', containers: [{ name: 'c', command: ['sleep', '3600'] }] });
const slot = listSlots().find((s) => s.workDir === env.workDir);
const report = {
  slot,
  podIp: pod.podIp,
  containerPids: [pod.sandboxId, ...pod.containers.map((c) => c.id)].flatMap(cgroupPids),
  shimPids: monitorPids(),
  containerIds: pod.containers.map((c) => c.id),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
// No kubelet.close(): the bed's teardown must remove what tests leave behind.
process.exit(0);
