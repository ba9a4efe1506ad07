// Plays the kubelet for the bed: runs pods through CRI runtime.v1 with the kubelet's labels, creates the Pod
// object and writes its status (nodeName, podIP, phase Running, containerStatuses with real container IDs).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { status as GrpcStatus } from '@grpc/grpc-js';
import { CoreV1Api, type KubeConfig, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import { NamespaceMode, type ContainerConfig, type NamespaceOption, type PodSandboxConfig } from '../../proto/gen/cri/runtime/v1/api.js';
import { criNanosToMs } from '../../agent/cri/cri-time.js';
import { CriClient } from './cri-client.js';
import { TEST_IMAGES } from './images.js';
import { adminKubeConfig } from './kube.js';

export const KUBELET_LABELS = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
} as const;

export interface PodRunSpec {
  namespace: string;
  name: string;
  labels?: Record<string, string>;
  serviceAccountName?: string;
  containers: {
    name: string;
    /** Default: the local busybox test image. */
    image?: string;
    command: string[];
    env?: Record<string, string>;
    ports?: { name?: string; containerPort: number }[];
  }[];
  /** Default true: creates the Pod object and writes its status. */
  inApiserver?: boolean;
}

export interface RunningPod {
  namespace: string;
  name: string;
  uid: string;
  podIp: string;
  sandboxId: string;
  containers: { name: string; id: string }[];
}

interface PodRecord {
  pod: RunningPod;
  spec: PodRunSpec;
  sandboxConfig: PodSandboxConfig;
  inApiserver: boolean;
  attempts: Map<string, number>;
}

const STOP_CONTAINER_TIMEOUT_SECONDS = 0; // tests want a prompt SIGKILL, not a grace period
const KUBELET_CONDITION_TYPES: readonly string[] = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'];
const HTTP_CONFLICT = 409;
const MAX_STATUS_WRITE_ATTEMPTS = 5;
/**
 * The kubelet's namespaces for a pod without shareProcessNamespace or host namespaces: network and IPC per
 * pod, PID per container. CRI-O then runs no infra container (drop_infra_ctr), whose oom_score_adj of -998
 * this machine may not set (no CAP_SYS_RESOURCE).
 */
const POD_NAMESPACES: NamespaceOption = Object.freeze({ network: NamespaceMode.POD, pid: NamespaceMode.CONTAINER, ipc: NamespaceMode.POD });

export class FakeKubelet {
  private runtimeName: string | undefined;
  private readonly cri: CriClient;
  private readonly nodeName: string;
  private readonly nodeLabels: Record<string, string>;
  private readonly kubeConfig: KubeConfig | undefined;
  private readonly logRoot: string;
  private readonly pods = new Map<string, PodRecord>();
  private nodeEnsured = false;

  constructor(opts: { socket: string; nodeName: string; kubeConfig?: KubeConfig; nodeLabels?: Record<string, string>; logDir?: string }) {
    this.cri = new CriClient(opts.socket);
    this.nodeName = opts.nodeName;
    this.nodeLabels = opts.nodeLabels ?? {};
    this.kubeConfig = opts.kubeConfig;
    this.logRoot = opts.logDir ?? join(opts.socket, '..', 'pod-logs');
  }

  private core(): CoreV1Api {
    return (this.kubeConfig ?? adminKubeConfig()).makeApiClient(CoreV1Api);
  }

  /** The Node object, so pod-bound tokens carry node-name/node-uid and node selectors have labels to match. */
  private async ensureNode(core: CoreV1Api): Promise<void> {
    if (this.nodeEnsured) return;
    try {
      await core.readNode({ name: this.nodeName });
    } catch {
      try {
        await core.createNode({ body: { metadata: { name: this.nodeName, labels: { 'kubernetes.io/hostname': this.nodeName, ...this.nodeLabels } } } });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
    this.nodeEnsured = true;
  }

  async runPod(spec: PodRunSpec): Promise<RunningPod> {
    const inApiserver = spec.inApiserver ?? true;
    let uid = `okgsq-${spec.namespace}-${spec.name}`;
    const core = inApiserver ? this.core() : undefined;
    if (core) {
      await this.ensureNode(core);
      const created = await core.createNamespacedPod({ namespace: spec.namespace, body: podObject(spec, this.nodeName) });
      uid = created.metadata!.uid!;
    }
    const logDirectory = join(this.logRoot, `${spec.namespace}_${spec.name}_${uid}`);
    mkdirSync(logDirectory, { recursive: true });
    const sandboxConfig: PodSandboxConfig = {
      metadata: { name: spec.name, uid, namespace: spec.namespace, attempt: 0 },
      hostname: spec.name,
      logDirectory,
      dnsConfig: undefined,
      labels: { ...spec.labels, [KUBELET_LABELS.podName]: spec.name, [KUBELET_LABELS.podNamespace]: spec.namespace, [KUBELET_LABELS.podUid]: uid },
      annotations: {},
      linux: { cgroupParent: '', securityContext: { namespaceOptions: POD_NAMESPACES }, sysctls: {} },
    };
    const { podSandboxId } = await this.cri.runPodSandbox({ config: sandboxConfig, runtimeHandler: '' });
    const status = await this.cri.podSandboxStatus({ podSandboxId, verbose: false });
    const podIp = status.status?.network?.ip ?? '';
    const pod: RunningPod = { namespace: spec.namespace, name: spec.name, uid, podIp, sandboxId: podSandboxId, containers: [] };
    const record: PodRecord = { pod, spec, sandboxConfig, inApiserver, attempts: new Map() };
    this.pods.set(podKey(pod), record);
    for (const container of spec.containers) {
      pod.containers.push({ name: container.name, id: await this.startContainer(record, container.name) });
    }
    if (inApiserver) await this.writeStatus(record);
    return { ...pod, containers: pod.containers.map((c) => ({ ...c })) };
  }

  private async startContainer(record: PodRecord, name: string): Promise<string> {
    const container = record.spec.containers.find((c) => c.name === name);
    if (!container) throw new Error(`pod ${podKey(record.pod)} has no container ${name}`);
    const attempt = record.attempts.get(name) ?? 0;
    record.attempts.set(name, attempt + 1);
    const config: ContainerConfig = {
      metadata: { name, attempt },
      image: { image: container.image ?? TEST_IMAGES.busybox, userSpecifiedImage: container.image ?? TEST_IMAGES.busybox },
      command: container.command,
      args: [],
      workingDir: '',
      envs: Object.entries(container.env ?? {}).map(([key, value]) => ({ key, value })),
      labels: {
        [KUBELET_LABELS.containerName]: name,
        [KUBELET_LABELS.podName]: record.pod.name,
        [KUBELET_LABELS.podNamespace]: record.pod.namespace,
        [KUBELET_LABELS.podUid]: record.pod.uid,
      },
      annotations: {},
      logPath: `${name}_${attempt}.log`,
      linux: { securityContext: { namespaceOptions: POD_NAMESPACES } },
    };
    const { containerId } = await this.cri.createContainer({ podSandboxId: record.pod.sandboxId, config, sandboxConfig: record.sandboxConfig });
    await this.cri.startContainer({ containerId });
    return containerId;
  }

  private record(pod: RunningPod): PodRecord {
    const record = this.pods.get(podKey(pod));
    if (!record) throw new Error(`pod ${podKey(pod)} was not run by this FakeKubelet`);
    return record;
  }

  /** Stops (SIGKILL) one container; the Pod's status shows it terminated and not ready. */
  async stopContainer(pod: RunningPod, container: string): Promise<void> {
    const record = this.record(pod);
    const current = record.pod.containers.find((c) => c.name === container);
    if (!current) throw new Error(`pod ${podKey(pod)} has no container ${container}`);
    await this.cri.stopContainer({ containerId: current.id, timeout: STOP_CONTAINER_TIMEOUT_SECONDS });
    if (record.inApiserver) await this.writeStatus(record);
  }

  /** Like a kubelet restart: the old container is stopped and removed, a new one (attempt + 1) started. */
  async restartContainer(pod: RunningPod, container: string): Promise<string> {
    const record = this.record(pod);
    const current = record.pod.containers.find((c) => c.name === container);
    if (!current) throw new Error(`pod ${podKey(pod)} has no container ${container}`);
    await this.cri.stopContainer({ containerId: current.id, timeout: STOP_CONTAINER_TIMEOUT_SECONDS });
    await this.cri.removeContainer({ containerId: current.id });
    current.id = await this.startContainer(record, container);
    if (record.inApiserver) await this.writeStatus(record);
    return current.id;
  }

  async removePod(pod: RunningPod): Promise<void> {
    const record = this.record(pod);
    this.pods.delete(podKey(pod));
    // As the kubelet: containers first (SIGKILL), then the sandbox. CRI-O's StopPodSandbox would give a
    // running container the whole call deadline to exit after SIGTERM, which a shell or sleep as PID 1 ignores.
    // A container a test removed already (NOT_FOUND) is stopped.
    for (const c of record.pod.containers) {
      await this.cri.stopContainer({ containerId: c.id, timeout: STOP_CONTAINER_TIMEOUT_SECONDS }).catch((err: { code?: number }) => {
        if (err.code !== GrpcStatus.NOT_FOUND) throw err;
      });
    }
    await this.cri.stopPodSandbox({ podSandboxId: record.pod.sandboxId });
    await this.cri.removePodSandbox({ podSandboxId: record.pod.sandboxId });
    if (record.inApiserver) {
      try {
        // No kubelet confirms termination: a scheduled pod only goes away with grace period 0.
        await this.core().deleteNamespacedPod({ name: pod.name, namespace: pod.namespace, gracePeriodSeconds: 0 });
      } catch (err) {
        if ((err as { code?: number }).code !== 404) throw err;
      }
    }
  }

  /** Removes the pods this kubelet still runs, then closes the CRI connection. */
  async close(): Promise<void> {
    try {
      for (const record of [...this.pods.values()]) await this.removePod(record.pod);
    } finally {
      this.cri.close();
    }
  }

  private async writeStatus(record: PodRecord): Promise<void> {
    const core = this.core();
    // The kubelet's container IDs are <runtime name>://<id>: containerd://… or cri-o://….
    this.runtimeName ??= (await this.cri.version()).runtimeName;
    const runtime = this.runtimeName;
    const containerStatuses: V1ContainerStatus[] = [];
    for (const c of record.pod.containers) {
      const { status } = await this.cri.containerStatus({ containerId: c.id, verbose: false });
      if (!status) throw new Error(`CRI ContainerStatus of ${c.id} returned no status`);
      const spec = record.spec.containers.find((s) => s.name === c.name)!;
      const running = status.state === 1; // CONTAINER_RUNNING
      const startedAt = new Date(criNanosToMs(status.startedAt));
      containerStatuses.push({
        name: c.name,
        image: spec.image ?? TEST_IMAGES.busybox,
        imageID: status.imageRef,
        containerID: `${runtime}://${c.id}`,
        ready: running,
        started: running,
        restartCount: Math.max(0, (record.attempts.get(c.name) ?? 1) - 1),
        state: running
          ? { running: { startedAt } }
          : { terminated: { exitCode: status.exitCode, reason: status.reason || 'Error', startedAt, finishedAt: new Date(criNanosToMs(status.finishedAt)), containerID: `${runtime}://${c.id}` } },
      });
    }
    const allReady = containerStatuses.every((s) => s.ready);
    const now = new Date();
    const condition = (type: string, ok: boolean) => ({ type, status: ok ? 'True' : 'False', lastTransitionTime: now });
    // Read-modify-replace keeps conditions others wrote (okg-sq's decider writes game.kruise.io/* ones);
    // a concurrent writer makes the replace conflict, so read again and retry.
    for (let attempt = 1; ; attempt++) {
      const pod = await core.readNamespacedPod({ name: record.pod.name, namespace: record.pod.namespace });
      pod.status = {
        ...pod.status,
        phase: 'Running',
        hostIP: '127.0.0.1',
        hostIPs: [{ ip: '127.0.0.1' }],
        podIP: record.pod.podIp,
        podIPs: record.pod.podIp ? [{ ip: record.pod.podIp }] : [],
        startTime: pod.status?.startTime ?? now,
        qosClass: 'BestEffort',
        conditions: [
          ...(pod.status?.conditions ?? []).filter((c) => !KUBELET_CONDITION_TYPES.includes(c.type)),
          condition('PodScheduled', true),
          condition('Initialized', true),
          condition('ContainersReady', allReady),
          condition('Ready', allReady),
        ],
        containerStatuses,
      };
      try {
        await core.replaceNamespacedPodStatus({ name: record.pod.name, namespace: record.pod.namespace, body: pod });
        return;
      } catch (err) {
        if ((err as { code?: number }).code !== HTTP_CONFLICT || attempt >= MAX_STATUS_WRITE_ATTEMPTS) throw err;
      }
    }
  }
}

function podKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}/${pod.name}`;
}

function podObject(spec: PodRunSpec, nodeName: string): V1Pod {
  return {
    metadata: { name: spec.name, namespace: spec.namespace, labels: spec.labels ?? {} },
    spec: {
      nodeName,
      serviceAccountName: spec.serviceAccountName ?? 'default',
      automountServiceAccountToken: false,
      containers: spec.containers.map((c) => ({
        name: c.name,
        image: c.image ?? TEST_IMAGES.busybox,
        command: c.command,
        env: Object.entries(c.env ?? {}).map(([name, value]) => ({ name, value })),
        ports: (c.ports ?? []).map((p) => ({ containerPort: p.containerPort, ...(p.name ? { name: p.name } : {}) })),
      })),
    },
  };
}
