// KubeExecRuntime against the real apiserver's pods/exec endpoint: the failure paths the bed can
// produce (there is no kubelet to run the command itself).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ProbeRunError } from '../../../common/probe/probe-run-error.js';
import { KubeExecRuntime } from '../../../decider/ingest/kube-exec-runtime.js';
import { KubeClient } from '../../../decider/kube/kube-client.js';
import { adminKubeConfig, createNamespace } from '../../testbed/kube.js';

async function failure(p: Promise<unknown>): Promise<ProbeRunError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ProbeRunError, `not a ProbeRunError: ${String(err)}`);
    return err;
  }
  assert.fail('the exec did not fail');
}

describe('KubeExecRuntime on a real apiserver', () => {
  let kc: KubeConfig;
  let ns: string;
  let runtime: KubeExecRuntime;
  before(async () => {
    kc = adminKubeConfig();
    ns = await createNamespace('ingest-exec', kc);
    const api = new KubeClient(kc);
    after(() => api.close());
    runtime = new KubeExecRuntime(kc, api);
  });
  const opts = () => ({ timeoutMs: 5_000, signal: new AbortController().signal });

  it('reports a pod that does not exist as container_not_found', async () => {
    const err = await failure(runtime.execSync({ namespace: ns, podName: 'gone', podUid: 'u', containerName: 'game' }, ['true'], opts()));
    assert.equal(err.kind, 'container_not_found');
  });

  it("reports a pod whose node has no reachable kubelet as could-not-run, not as the pod's failure", async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const pod = await core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'vk-0' }, spec: { nodeName: 'virtual-node-1', containers: [{ name: 'game', image: 'game:test' }] } } });
    const err = await failure(runtime.execSync({ namespace: ns, podName: 'vk-0', podUid: pod.metadata!.uid!, containerName: 'game' }, ['true'], opts()));
    assert.equal(err.kind, 'runtime_unavailable');
  });
});
