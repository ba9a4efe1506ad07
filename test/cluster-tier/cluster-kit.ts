// Shared helpers of the cluster tier: it runs under `cli.js run --cluster --install`, where a real kubelet
// runs the chart's agent DaemonSet and decider Deployment as pods from the images built from the
// Dockerfiles. Game pods and GameServers are shaped as OKG creates them (owner label, pod named as its
// GameServer); the game container runs the bed's busybox image.
import assert from 'node:assert/strict';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, Watch, type V1Pod } from '@kubernetes/client-node';
import { clusterEnv, RELEASE_NAME } from '../testbed/cluster-bed.js';
import { CriClient } from '../testbed/cri-client.js';
import { testbedEnv } from '../testbed/env.js';
import { httpGet } from '../testbed/https-get.js';
import { TEST_IMAGES } from '../testbed/images.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { waitForOpsState } from '../testbed/game-server-wait.js';
import { waitFor } from '../testbed/wait-for.js';

export const GROUP = 'game.kruise.io';
export const VERSION = 'v1alpha1';
const DECIDER_HTTP_PORT = 8080;
export const POD_READY_TIMEOUT_MS = 180_000;
export const GAME_SERVER_TIMEOUT_MS = 120_000;

export class ClusterBed {
  readonly env = testbedEnv();
  readonly cluster = clusterEnv();
  readonly releaseNamespace = this.cluster.release.split('/')[0]!;
  readonly kc = adminKubeConfig();
  readonly core = this.kc.makeApiClient(CoreV1Api);
  readonly apps = this.kc.makeApiClient(AppsV1Api);
  readonly custom = this.kc.makeApiClient(CustomObjectsApi);
  readonly coordination = this.kc.makeApiClient(CoordinationV1Api);
  readonly cri = new CriClient(this.env.containerdSocket);

  close(): void {
    this.cri.close();
  }

  async pods(component: 'agent' | 'decider'): Promise<V1Pod[]> {
    const list = await this.core.listNamespacedPod({ namespace: this.releaseNamespace, labelSelector: `app.kubernetes.io/component=${component}` });
    return list.items.filter((p) => !p.metadata?.deletionTimestamp);
  }

  async readyPods(component: 'agent' | 'decider'): Promise<V1Pod[]> {
    return (await this.pods(component)).filter((p) => p.status?.phase === 'Running' && p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
  }

  /** The decider pod holding the leader Lease (its holder identity is the pod name). */
  async leader(): Promise<string | undefined> {
    const lease = await this.coordination.readNamespacedLease({ namespace: this.releaseNamespace, name: `${RELEASE_NAME}-decider` });
    return lease.spec?.holderIdentity ?? undefined;
  }

  async readyPod(component: 'agent' | 'decider', name: string): Promise<V1Pod> {
    return waitFor(async () => (await this.readyPods(component)).find((p) => p.metadata!.name === name), { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: `${component} pod ${name} Ready` });
  }

  /** The samples of one metric family on a decider pod's /metrics, as label maps with values. */
  async deciderMetric(pod: V1Pod, family: string): Promise<{ labels: Record<string, string>; value: number }[]> {
    const res = await httpGet(`http://${pod.status!.podIP}:${DECIDER_HTTP_PORT}/metrics`);
    assert.equal(res.status, 200, `decider ${pod.metadata!.name} /metrics`);
    const out: { labels: Record<string, string>; value: number }[] = [];
    for (const line of res.body.split('\n')) {
      const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!m || m[1] !== family) continue;
      out.push({ labels: Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!])), value: Number(m[3]) });
    }
    return out;
  }

  /**
   * okgsq_kube_writes_total of one decider pod as "resource verb code" → count: the writes of state
   * (GameServers, their status, pod conditions). Its Lease's and Events are left out: Events report, e.g.
   * a Warning per set whose outcomes went stale while an agent reconnected.
   */
  async deciderWrites(pod: V1Pod): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const { labels, value } of await this.deciderMetric(pod, 'okgsq_kube_writes_total')) {
      if (labels.resource === 'leases' || labels.resource === 'events') continue;
      const key = `${labels.resource} ${labels.verb} ${labels.code}`;
      out[key] = (out[key] ?? 0) + value;
    }
    return out;
  }

  /** Waits until the decider pod has reported `count` more probe runs of the agents: time with real probing. */
  async moreProbeRuns(pod: V1Pod, count: number, timeoutMs = GAME_SERVER_TIMEOUT_MS): Promise<void> {
    const runs = async (): Promise<number> => (await this.deciderMetric(pod, 'okgsq_probe_runs_total')).reduce((sum, s) => sum + s.value, 0);
    const start = await runs();
    await waitFor(async () => (await runs()) >= start + count, { timeoutMs, intervalMs: 500, what: `${count} more probe runs reported to ${pod.metadata!.name}` });
  }

  /** Records every opsState the GameServer takes (watch events), until stop(). */
  async watchOpsStates(namespace: string, name: string): Promise<{ values: string[]; stop(): void }> {
    const values: string[] = [];
    const req = await new Watch(this.kc).watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/gameservers`,
      { fieldSelector: `metadata.name=${name}` },
      (type: string, obj: any) => {
        if (type === 'MODIFIED' && values.at(-1) !== obj.spec?.opsState) values.push(obj.spec?.opsState);
      },
      () => {},
    );
    return { values, stop: () => req.abort() };
  }

  /**
   * A GameServerSet whose exec quality reads /tmp/state in the game container and writes it as the
   * opsState, and `count` GameServers with their pods (`<set>-<i>`), scheduled by the real scheduler and
   * started by the kubelet. Returns the namespace.
   */
  async createGame(prefix: string, set: string, count: number): Promise<string> {
    const namespace = await createNamespace(prefix, this.kc);
    await this.custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace, plural: 'gameserversets',
      body: {
        apiVersion: `${GROUP}/${VERSION}`, kind: 'GameServerSet', metadata: { name: set },
        spec: {
          replicas: count,
          gameServerTemplate: { spec: { containers: [{ name: 'game', image: TEST_IMAGES.busybox }] } },
          serviceQualities: [{
            name: 'state', containerName: 'game', permanent: false,
            exec: { command: ['cat', '/tmp/state'] },
            initialDelaySeconds: 1, periodSeconds: 1, timeoutSeconds: 5, failureThreshold: 1,
            serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }],
          }],
        },
      },
    });
    for (let i = 0; i < count; i++) {
      const name = `${set}-${i}`;
      const labels = { 'game.kruise.io/owner-gss': set };
      await this.custom.createNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace, plural: 'gameservers',
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'GameServer', metadata: { name, labels }, spec: { opsState: 'None' } },
      });
      await this.core.createNamespacedPod({
        namespace,
        body: {
          metadata: { name, labels },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{ name: 'game', image: TEST_IMAGES.busybox, imagePullPolicy: 'Never', command: ['sh', '-c', 'printf None >/tmp/state; exec sleep 2147483647'] }],
          },
        },
      });
    }
    for (let i = 0; i < count; i++) {
      const name = `${set}-${i}`;
      await waitFor(async () => {
        const pod = await this.core.readNamespacedPod({ namespace, name });
        return pod.status?.containerStatuses?.[0]?.state?.running !== undefined;
      }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: `pod ${namespace}/${name} running` });
    }
    return namespace;
  }

  async gameServer(namespace: string, name: string): Promise<any> {
    return this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameservers', name });
  }

  waitForOpsState(namespace: string, name: string, opsState: string): Promise<any> {
    return waitForOpsState(() => this.gameServer(namespace, name), `${namespace}/${name}`, opsState, GAME_SERVER_TIMEOUT_MS);
  }

  /** Writes the game container's /tmp/state through the CRI (the probe's next result). */
  async setState(namespace: string, pod: string, state: string): Promise<void> {
    const { containers } = await this.cri.listContainers({ filter: { id: '', state: undefined, podSandboxId: '', labelSelector: { 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.name': pod, 'io.kubernetes.container.name': 'game' } } });
    const running = containers.filter((c) => c.state === 1); // CONTAINER_RUNNING
    assert.equal(running.length, 1, `one running game container in ${namespace}/${pod}`);
    const res = await this.cri.execSync({ containerId: running[0]!.id, cmd: ['sh', '-c', `printf '%s' '${state}' >/tmp/state`], timeout: 10 });
    assert.equal(res.exitCode, 0, `writing /tmp/state in ${namespace}/${pod}: ${res.stderr.toString()}`);
  }
}
