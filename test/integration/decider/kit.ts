// Helpers for the decider's integration tests against the test bed's real kube-apiserver.
import { pino } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeClient, type KubeApi, type KubeResponse, type RequestOptions } from '../../../decider/kube/kube-client.js';
import { startDecider, type Decider } from '../../../decider/decider.js';
import { deciderOptions, type DeciderOptions } from '../../../decider/options.js';
import type { AgentAuthenticator } from '../../../decider/ingest/ports.js';
import { OkgSqError, ERROR_CODES } from '../../../common/errors.js';

export const GAME = '/apis/game.kruise.io/v1alpha1';
export const logger = pino({ level: process.env.OKGSQ_TEST_LOG_LEVEL ?? 'silent' });

/** Counts the writes a decider sends (method + path without the namespace), by wrapping its client. */
export class CountingApi implements KubeApi {
  readonly writes: string[] = [];
  constructor(readonly inner: KubeApi) {}
  async request(method: string, path: string, options?: RequestOptions): Promise<KubeResponse> {
    const res = await this.inner.request(method, path, options);
    if (method !== 'GET') this.writes.push(`${method} ${describe(path)} ${res.status}`);
    return res;
  }
  watch(path: string, onEvent: (event: { type: string; object: any }) => void, signal: AbortSignal): Promise<void> {
    return this.inner.watch(path, onEvent, signal);
  }
  /** Writes other than the leader lease's. */
  objectWrites(): string[] {
    return this.writes.filter((w) => !w.includes(' leases'));
  }
}

function describe(path: string): string {
  const p = path.split('?')[0]!;
  const m = /\/namespaces\/[^/]+\/([^/]+)(?:\/[^/]+)?(\/status)?$/.exec(p);
  return m ? `${m[1]}${m[2] ?? ''}` : p;
}

export async function must(api: KubeApi, method: string, path: string, body?: unknown, contentType?: RequestOptions['contentType']): Promise<any> {
  const res = await api.request(method, path, { body, ...(contentType ? { contentType } : {}) });
  if (res.status >= 300) throw new OkgSqError(ERROR_CODES.KUBE_API, `${method} ${path}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export const minecraftQualities = [
  {
    name: 'healthy-gate',
    containerName: 'minecraft',
    permanent: false,
    exec: { command: ['/bin/sh', '-c', 'pgrep gate && echo gate'] },
    serviceQualityAction: [
      { state: false, opsState: 'GateMaintaining' },
      { state: true, opsState: 'None' },
    ],
  },
  {
    name: 'healthy-data',
    containerName: 'minecraft',
    permanent: false,
    exec: { command: ['/bin/sh', '-c', 'pgrep data'] },
    serviceQualityAction: [{ state: false, opsState: 'DataMaintaining', labels: { 'okg-sq/data': 'down' } }],
  },
];

export async function createSet(api: KubeApi, namespace: string, name: string, qualities: unknown[] = minecraftQualities): Promise<void> {
  await must(api, 'POST', `${GAME}/namespaces/${namespace}/gameserversets`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServerSet',
    metadata: { name, namespace },
    spec: {
      replicas: 1,
      gameServerTemplate: { spec: { containers: [{ name: 'minecraft', image: 'busybox', ports: [{ name: 'query', containerPort: 25565 }] }] } },
      serviceQualities: qualities,
    },
  });
}

/** A GameServer and its Pod, the pod marked Running on `node` as a kubelet would. Returns the pod UID. */
export async function createGameServerAndPod(api: KubeApi, namespace: string, set: string, name: string, node: string, podIp: string): Promise<string> {
  const labels = { 'game.kruise.io/owner-gss': set };
  await must(api, 'POST', `${GAME}/namespaces/${namespace}/gameservers`, {
    apiVersion: 'game.kruise.io/v1alpha1',
    kind: 'GameServer',
    metadata: { name, namespace, labels },
    spec: { opsState: 'None' },
  });
  const pod = await must(api, 'POST', `/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels },
    spec: { nodeName: node, containers: [{ name: 'minecraft', image: 'busybox', ports: [{ name: 'query', containerPort: 25565 }] }] },
  });
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  await must(
    api,
    'PATCH',
    `/api/v1/namespaces/${namespace}/pods/${name}/status`,
    {
      status: {
        phase: 'Running',
        podIP: podIp,
        podIPs: [{ ip: podIp }],
        containerStatuses: [
          { name: 'minecraft', ready: true, restartCount: 0, image: 'busybox', imageID: 'sha256:0', containerID: `containerd://${name}`, state: { running: { startedAt: now } } },
        ],
      },
    },
    'application/merge-patch+json',
  );
  return pod.metadata.uid as string;
}

export function testOptions(namespace: string, podName: string, overrides: Record<string, string> = {}): DeciderOptions {
  return deciderOptions({
    POD_NAME: podName,
    POD_NAMESPACE: namespace,
    OKGSQ_NAMESPACES: namespace,
    OKGSQ_GRPC_PORT: '0',
    OKGSQ_HTTP_PORT: '0',
    OKGSQ_INSECURE_GRPC: 'true',
    OKGSQ_LEASE_DURATION_SECONDS: '4',
    OKGSQ_FLUSH_WINDOW_MS: '10',
    OKGSQ_AGENTLESS_NODE_SELECTOR: '',
    ...overrides,
  });
}

const refuseAll: AgentAuthenticator = {
  authenticate: async () => {
    throw new OkgSqError(ERROR_CODES.UNAUTHENTICATED, 'no agents in this test');
  },
  revoked: () => undefined,
  onChange: () => undefined,
};

/** `realAuth`: agents are authenticated with TokenReview as in production (e2e); else none are accepted. */
export async function startTestDecider(kubeConfig: KubeConfig, options: DeciderOptions, realAuth = false): Promise<{ decider: Decider; api: CountingApi }> {
  const api = new CountingApi(new KubeClient(kubeConfig));
  const decider = await startDecider(options, {
    kubeConfig,
    logger: logger.child({ decider: options.podName }),
    host: '127.0.0.1',
    api,
    ...(realAuth ? {} : { authenticator: refuseAll }),
  });
  return { decider, api };
}
