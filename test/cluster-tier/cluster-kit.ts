// Shared helpers of the cluster tier: it runs under `cli.js run --cluster --install`, where a real kubelet
// runs the chart's agent DaemonSet and decider Deployment as pods from the images built from the
// Dockerfiles. Game pods and GameServers are shaped as OKG creates them (owner label, pod named as its
// GameServer); the game container runs the bed's busybox image.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { AppsV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, Watch, type V1Pod, type V1PodSpec } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { clusterEnv, RELEASE_NAME } from '../testbed/cluster-bed.js';
import { CriClient } from '../testbed/cri-client.js';
import { testbedEnv } from '../testbed/env.js';
import { deciderMetric, type MetricSample } from '../testbed/decider-metrics.js';
import { TEST_IMAGES } from '../testbed/images.js';
import { adminKubeConfig, createNamespace } from '../testbed/kube.js';
import { repoPath } from '../testbed/repo-root.js';
import { waitForGameServer, waitForOpsState } from '../testbed/game-server-wait.js';
import { waitFor } from '../testbed/wait-for.js';

export const GROUP = 'game.kruise.io';
export const VERSION = 'v1alpha1';
export const POD_READY_TIMEOUT_MS = 180_000;
export const GAME_SERVER_TIMEOUT_MS = 120_000;
/** Where examples/idle's idle.sh finds each replica's players file: $EXAMPLE_RUN_DIR/$POD_NAME/players. */
const IDLE_RUN_DIR = '/tmp/run';

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
  deciderMetric(pod: V1Pod, family: string): Promise<MetricSample[]> {
    return deciderMetric(pod, family);
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
    await this.createGameServers(namespace, {
      metadata: { name: set },
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
    }, { containers: [{ name: 'game', image: TEST_IMAGES.busybox, imagePullPolicy: 'Never', command: ['sh', '-c', 'printf None >/tmp/state; exec sleep 2147483647'] }] });
    return namespace;
  }

  /**
   * The GameServerSet `set` (metadata and spec; replicas is the count) in `namespace`, its GameServers
   * (opsState None) and their pods running `podSpec`, as OKG creates them: `<set>-<i>`, owner label.
   * Waits until every pod's containers run under the kubelet.
   */
  async createGameServers(namespace: string, set: { metadata: { name: string }; spec: { replicas: number } & Record<string, unknown> }, podSpec: V1PodSpec): Promise<string[]> {
    const setName = set.metadata.name;
    await this.custom.createNamespacedCustomObject({
      group: GROUP, version: VERSION, namespace, plural: 'gameserversets',
      body: { ...set, apiVersion: `${GROUP}/${VERSION}`, kind: 'GameServerSet', metadata: { ...set.metadata, namespace } },
    });
    const names = Array.from({ length: set.spec.replicas }, (_, i) => `${setName}-${i}`);
    const labels = { 'game.kruise.io/owner-gss': setName };
    for (const name of names) {
      await this.custom.createNamespacedCustomObject({
        group: GROUP, version: VERSION, namespace, plural: 'gameservers',
        body: { apiVersion: `${GROUP}/${VERSION}`, kind: 'GameServer', metadata: { name, labels }, spec: { opsState: 'None' } },
      });
      await this.core.createNamespacedPod({ namespace, body: { metadata: { name, labels }, spec: { terminationGracePeriodSeconds: 0, ...podSpec } } });
    }
    for (const name of names) {
      await waitFor(async () => {
        const pod = await this.core.readNamespacedPod({ namespace, name });
        const statuses = pod.status?.containerStatuses ?? [];
        return statuses.length === podSpec.containers.length && statuses.every((s) => s.state?.running !== undefined);
      }, { timeoutMs: POD_READY_TIMEOUT_MS, intervalMs: 500, what: `pod ${namespace}/${name} running` });
    }
    return names;
  }

  async gameServer(namespace: string, name: string): Promise<any> {
    return this.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameservers', name });
  }

  waitForOpsState(namespace: string, name: string, opsState: string): Promise<any> {
    return waitForOpsState(() => this.gameServer(namespace, name), `${namespace}/${name}`, opsState, GAME_SERVER_TIMEOUT_MS);
  }

  /**
   * examples/idle twice in a fresh namespace: `lobby` as the example has it (permanent: false) and
   * `lobby-once` with permanent: true, one replica each. The example's idle.sh comes from a ConfigMap and
   * runs in the container's working directory, as `okg-sq local` runs it in the example's folder;
   * `players(name, script)` runs `script <the replica's players file>` in it (e.g. `echo alice >>`).
   */
  async createIdleLobbies(prefix: string): Promise<{ namespace: string; quality: string; plain: string; permanent: string; players(name: string, script: string): Promise<void> }> {
    const lobby = exampleSet('idle');
    const quality = lobby.spec.serviceQualities[0].name as string;
    const container = lobby.spec.gameServerTemplate.spec.containers[0]!;
    const once = exampleSet('idle');
    once.metadata.name = `${lobby.metadata.name}-once`;
    once.spec.serviceQualities[0].permanent = true;
    lobby.spec.replicas = 1;
    once.spec.replicas = 1;
    const namespace = await createNamespace(prefix, this.kc);
    await this.core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'idle-probe' }, data: { 'idle.sh': readFileSync(repoPath('examples', 'idle', 'idle.sh'), 'utf8') } } });
    const pod: V1PodSpec = {
      volumes: [{ name: 'probe', configMap: { name: 'idle-probe' } }],
      containers: [{
        name: container.name, image: TEST_IMAGES.busybox, imagePullPolicy: 'Never', workingDir: '/example',
        volumeMounts: [{ name: 'probe', mountPath: '/example' }],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'EXAMPLE_RUN_DIR', value: IDLE_RUN_DIR }],
        command: ['sh', '-c', 'exec sleep 2147483647'],
      }],
    };
    const [plain] = await this.createGameServers(namespace, lobby, pod);
    const [permanent] = await this.createGameServers(namespace, once, pod);
    return {
      namespace, quality, plain: plain!, permanent: permanent!,
      players: (name, script) => this.shell(namespace, name, container.name, `mkdir -p ${IDLE_RUN_DIR}/${name} && ${script} ${IDLE_RUN_DIR}/${name}/players`),
    };
  }

  /** Writes the game container's /tmp/state through the CRI (the probe's next result). */
  async setState(namespace: string, pod: string, state: string): Promise<void> {
    await this.shell(namespace, pod, 'game', `printf '%s' '${state}' >/tmp/state`);
  }

  /** Runs `script` with sh in a running container of the pod through the CRI (as `kubectl exec` would); fails unless it exits 0. */
  async shell(namespace: string, pod: string, container: string, script: string): Promise<void> {
    const res = await this.exec(namespace, pod, container, script);
    assert.equal(res.exitCode, 0, `${script} in ${namespace}/${pod}: ${res.stderr}`);
  }

  /** Runs `script` with sh in a running container of the pod through the CRI; returns its exit code and output. */
  async exec(namespace: string, pod: string, container: string, script: string): Promise<{ exitCode: number; stdout: string; stderr: string }> {
    const { containers } = await this.cri.listContainers({ filter: { id: '', state: undefined, podSandboxId: '', labelSelector: { 'io.kubernetes.pod.namespace': namespace, 'io.kubernetes.pod.name': pod, 'io.kubernetes.container.name': container } } });
    const running = containers.filter((c) => c.state === 1); // CONTAINER_RUNNING
    assert.equal(running.length, 1, `one running ${container} container in ${namespace}/${pod}`);
    const res = await this.cri.execSync({ containerId: running[0]!.id, cmd: ['sh', '-c', script], timeout: 10 });
    return { exitCode: res.exitCode, stdout: res.stdout.toString(), stderr: res.stderr.toString() };
  }

  /** Waits until the GameServer satisfies `ok`; returns it. */
  waitForGameServer(namespace: string, name: string, what: string, ok: (gs: any) => boolean): Promise<any> {
    return waitForGameServer(() => this.gameServer(namespace, name), `${namespace}/${name}: ${what}`, ok, GAME_SERVER_TIMEOUT_MS);
  }
}

/**
 * examples/<example>/gameserverset.yaml as a user applies it, its serviceQualities unchanged: only the
 * pod template's images become the bed's busybox (the examples name images that are not on the bed) and
 * the namespace is left to the caller.
 */
export function exampleSet(example: string): { metadata: { name: string }; spec: { replicas: number; gameServerTemplate: { spec: V1PodSpec }; serviceQualities: any[] } } {
  const gss = parse(readFileSync(repoPath('examples', example, 'gameserverset.yaml'), 'utf8'));
  delete gss.metadata.namespace;
  for (const c of gss.spec.gameServerTemplate.spec.containers) c.image = TEST_IMAGES.busybox;
  return gss;
}

/** examples/idle's action applied on an idle lobby and its condition stored (the status is written last). */
export function idleApplied(quality: string): (gs: any) => boolean {
  return (gs) => gs.spec.opsState === 'WaitToBeDeleted' && qualityCondition(gs, quality)?.result === 'idle' && !!qualityCondition(gs, quality)?.lastActionTransitionTime;
}

/** The entry of a GameServer's status.serviceQualitiesConditions for `quality`. */
export function qualityCondition(gs: any, quality: string): { status?: string; result?: string; lastActionTransitionTime?: string } | undefined {
  return gs.status?.serviceQualitiesConditions?.find((c: { name: string }) => c.name === quality);
}
