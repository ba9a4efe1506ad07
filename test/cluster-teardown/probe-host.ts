// Run by host-unchanged.test.ts inside `cli.js run --cluster --netpol`: runs one pod on the bed's kubelet
// (so shims, a pod network, mounts and pod cgroups exist) under a NetworkPolicy (so kube-router makes its
// pod chains and ipsets), then prints the bed's identity and the host's state as JSON.
import { CoreV1Api, NetworkingV1Api } from '@kubernetes/client-node';
import { NETPOL_ENV_VAR } from '../testbed/cluster-bed.js';
import { kubeRouterIpsets } from '../testbed/cluster-host.js';
import { testbedEnv } from '../testbed/env.js';
import { listSlots } from '../testbed/slots.js';
import { TEST_IMAGES } from '../testbed/images.js';
import { adminKubeConfig } from '../testbed/kube.js';
import { waitFor } from '../testbed/wait-for.js';
import { hostState, mountPoints } from './host-state.js';

const POD_TIMEOUT_MS = 180_000;

const env = testbedEnv();
const kc = adminKubeConfig();
const core = kc.makeApiClient(CoreV1Api);
// The controller-manager creates ServiceAccount `default`, which admission needs, shortly after start.
await waitFor(async () => core.createNamespacedPod({
  namespace: 'default',
  body: { metadata: { name: 'probe', labels: { app: 'probe' } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: TEST_IMAGES.busybox, imagePullPolicy: 'Never', command: ['sleep', '2147483647'] }] } },
}), { timeoutMs: POD_TIMEOUT_MS, intervalMs: 500, what: 'pod created' });
await waitFor(async () => (await core.readNamespacedPod({ namespace: 'default', name: 'probe' })).status?.containerStatuses?.[0]?.state?.running, { timeoutMs: POD_TIMEOUT_MS, intervalMs: 500, what: 'pod running' });
if (process.env[NETPOL_ENV_VAR]) {
  await kc.makeApiClient(NetworkingV1Api).createNamespacedNetworkPolicy({
    namespace: 'default',
    body: { metadata: { name: 'probe' }, spec: { podSelector: { matchLabels: { app: 'probe' } }, policyTypes: ['Ingress'], ingress: [{ _from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] } },
  });
  await waitFor(() => kubeRouterIpsets().length > 0, { timeoutMs: POD_TIMEOUT_MS, intervalMs: 500, what: 'kube-router\'s ipsets for the NetworkPolicy' });
}
process.stdout.write(`${JSON.stringify({
  workDir: env.workDir,
  runnerPid: process.ppid,
  slot: listSlots().find((s) => s.workDir === env.workDir)?.slot,
  state: hostState(),
  mountsInWorkDir: mountPoints().filter((m) => m.startsWith(`${env.workDir}/`)),
})}\n`);
