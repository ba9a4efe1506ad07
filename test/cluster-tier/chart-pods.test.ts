// `helm install` of charts/okg-sq on a real kubelet: the agent DaemonSet and the decider Deployment run as
// pods from the images built from Dockerfile.agent / Dockerfile.decider, are Ready, one decider leads, and
// the agent pod streams to it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { okgsqImageRefs } from '../testbed/built-images.js';
import { RELEASE_NAME } from '../testbed/cluster-bed.js';
import { httpGet } from '../testbed/https-get.js';
import { waitFor } from '../testbed/wait-for.js';
import { ClusterBed, POD_READY_TIMEOUT_MS } from './cluster-kit.js';

test('helm install: agent DaemonSet and 2-replica decider Deployment Ready as pods from the built images; the agent reaches the leader', async () => {
  const bed = new ClusterBed();
  try {
    const refs = okgsqImageRefs();
    await waitFor(async () => {
      const ds = await bed.apps.readNamespacedDaemonSet({ namespace: bed.releaseNamespace, name: `${RELEASE_NAME}-agent` });
      const deploy = await bed.apps.readNamespacedDeployment({ namespace: bed.releaseNamespace, name: `${RELEASE_NAME}-decider` });
      return ds.status?.desiredNumberScheduled === 1 && ds.status.numberReady === 1 && deploy.spec?.replicas === 2 && deploy.status?.readyReplicas === 2;
    }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: 'agent DaemonSet 1/1 and decider Deployment 2/2 ready' });

    const agents = await bed.readyPods('agent');
    assert.equal(agents.length, 1);
    assert.equal(agents[0]!.spec!.nodeName, bed.cluster.nodeName, 'the agent runs on the bed\'s node');
    assert.equal(agents[0]!.spec!.containers[0]!.image, refs.agent);
    assert.match(agents[0]!.status!.containerStatuses![0]!.imageID, /^sha256:[0-9a-f]{64}$/, 'the kubelet ran the imported agent image');

    const deciders = await bed.readyPods('decider');
    assert.equal(deciders.length, 2);
    for (const pod of deciders) assert.equal(pod.spec!.containers[0]!.image, refs.decider);
    const names = deciders.map((p) => p.metadata!.name!);
    const leader = await waitFor(async () => {
      const holder = await bed.leader();
      return holder && names.includes(holder) ? holder : undefined;
    }, { timeoutMs: POD_READY_TIMEOUT_MS, what: 'a decider pod holding the Lease' });

    // The agent pod found the leader through the decider's Service (cluster DNS, kube-proxy) with TLS and
    // its projected token.
    const leaderPod = deciders.find((p) => p.metadata!.name === leader)!;
    await waitFor(async () => {
      const res = await httpGet(`http://${leaderPod.status!.podIP}:8080/metrics`);
      return /^okgsq_agents_connected(\{[^}]*\})? 1$/m.test(res.body);
    }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: `the agent connected to the leader ${leader}` });
  } finally {
    bed.close();
  }
});
