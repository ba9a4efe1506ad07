// Helpers for tests that install the chart into the test bed and run the real programs with the
// settings it rendered, standing in for the kubelet (downward API, mounted files, ports).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, type V1BoundObjectReference } from '@kubernetes/client-node';
import { testbedEnv } from '../testbed/env.js';
import { freePort } from '../testbed/free-port.js';
import { httpGet } from '../testbed/https-get.js';
import { adminKubeConfig } from '../testbed/kube.js';
import { ManagedProcess } from '../testbed/managed-process.js';
import { waitFor } from '../testbed/wait-for.js';
import { chartFiles } from './chart-files.js';
import { helm, parseManifests, type KubeObject } from './helm.js';

export const RELEASE = 'okg-sq';
export const DECIDER_SA = 'okg-sq-decider';
export const AGENT_SA = 'okg-sq-agent';
export const TLS_SECRET = 'okg-sq-grpc-tls';
const TOKEN_SECONDS = 600;
const DECIDER_READY_TIMEOUT_MS = 60_000;

/** The programs compiled by the same build as these tests (dist/ under npm test). */
export const PROGRAMS = {
  decider: fileURLToPath(new URL('../../decider/main.js', import.meta.url)),
  agent: fileURLToPath(new URL('../../agent/main.js', import.meta.url)),
} as const;

export async function helmInstall(releaseNamespace: string, args: readonly string[] = []): Promise<void> {
  await helm(['upgrade', '--install', RELEASE, chartFiles.chartDir(), '--namespace', releaseNamespace, ...args], { kubeconfig: testbedEnv().kubeconfig });
}

export async function helmUninstall(releaseNamespace: string): Promise<void> {
  await helm(['uninstall', RELEASE, '--namespace', releaseNamespace], { kubeconfig: testbedEnv().kubeconfig });
}

export async function releaseManifest(releaseNamespace: string): Promise<KubeObject[]> {
  const { stdout } = await helm(['get', 'manifest', RELEASE, '--namespace', releaseNamespace], { kubeconfig: testbedEnv().kubeconfig });
  return parseManifests(stdout);
}

/** A client config that authenticates with a bearer token only, against the bed's API server. */
export function tokenKubeConfig(token: string): KubeConfig {
  const cluster = adminKubeConfig().getCurrentCluster();
  assert.ok(cluster);
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ ...cluster, name: 'bed' }],
    users: [{ name: 'sa', token }],
    contexts: [{ name: 'sa', cluster: 'bed', user: 'sa' }],
    currentContext: 'sa',
  });
  return kc;
}

/** TokenRequest for a ServiceAccount, optionally with audiences and bound to a pod (like a projected token). */
export async function serviceAccountToken(
  namespace: string,
  name: string,
  opts: { audiences?: string[]; expirationSeconds?: number; boundPod?: { name: string; uid: string } } = {},
): Promise<string> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const boundObjectRef: V1BoundObjectReference | undefined = opts.boundPod ? { kind: 'Pod', apiVersion: 'v1', name: opts.boundPod.name, uid: opts.boundPod.uid } : undefined;
  const res = await core.createNamespacedServiceAccountToken({
    name,
    namespace,
    body: { spec: { audiences: opts.audiences ?? [], expirationSeconds: opts.expirationSeconds ?? TOKEN_SECONDS, ...(boundObjectRef ? { boundObjectRef } : {}) } },
  });
  assert.ok(res.status?.token);
  return res.status.token;
}

type EnvVar = { name: string; value?: string };

export function containerOf(objects: readonly KubeObject[], kind: 'Deployment' | 'DaemonSet'): { env: EnvVar[]; [k: string]: any } {
  const o = objects.find((x) => x.kind === kind);
  assert.ok(o, `the release has a ${kind}`);
  return o.spec.template.spec.containers[0];
}

/** The literal env values the chart sets on a container (downward-API ones are the caller's). */
export function chartEnv(objects: readonly KubeObject[], kind: 'Deployment' | 'DaemonSet'): Record<string, string> {
  return Object.fromEntries(containerOf(objects, kind).env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
}

export async function tlsSecret(namespace: string): Promise<Record<string, Buffer>> {
  const secret = await adminKubeConfig().makeApiClient(CoreV1Api).readNamespacedSecret({ name: TLS_SECRET, namespace });
  return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
}

export interface RunningDecider {
  process: ManagedProcess;
  httpPort: number;
  grpcPort: number;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** Starts dist/decider/main.js with the release's env, its TLS Secret and its ServiceAccount's token. */
export async function startChartDecider(releaseNamespace: string, podName = 'okg-sq-decider-test-0'): Promise<RunningDecider> {
  const env = testbedEnv();
  const objects = await releaseManifest(releaseNamespace);
  const tls = await tlsSecret(releaseNamespace);
  const dir = mkdtempSync(join(env.workDir, 'chart-decider-'));
  writeFileSync(join(dir, 'tls.crt'), tls['tls.crt']!);
  writeFileSync(join(dir, 'tls.key'), tls['tls.key']!);
  const kubeconfigFile = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigFile, tokenKubeConfig(await serviceAccountToken(releaseNamespace, DECIDER_SA)).exportConfig());
  const httpPort = await freePort();
  const grpcPort = await freePort();
  const deciderEnv = {
    ...chartEnv(objects, 'Deployment'),
    POD_NAME: podName,
    POD_NAMESPACE: releaseNamespace,
    OKGSQ_TLS_CERT_FILE: join(dir, 'tls.crt'),
    OKGSQ_TLS_KEY_FILE: join(dir, 'tls.key'),
    OKGSQ_HTTP_PORT: String(httpPort),
    OKGSQ_GRPC_PORT: String(grpcPort),
    KUBECONFIG: kubeconfigFile,
  };
  const proc = new ManagedProcess('decider', process.execPath, [PROGRAMS.decider], { logFile: join(dir, 'decider.log'), env: { PATH: process.env.PATH, ...deciderEnv } });
  const running: RunningDecider = { process: proc, httpPort, grpcPort, env: deciderEnv, stop: () => proc.stop() };
  try {
    await waitFor(async () => {
      proc.assertRunning();
      if ((await httpGet(`http://127.0.0.1:${httpPort}/readyz`)).status !== 200) return false;
      // Ready means synced (a standby is Ready too); the tests need the replica that leads.
      return /^okgsq_leader 1$/m.test((await httpGet(`http://127.0.0.1:${httpPort}/metrics`)).body);
    }, { timeoutMs: DECIDER_READY_TIMEOUT_MS, intervalMs: 200, what: 'decider /readyz and okgsq_leader 1 with the chart ServiceAccount token' });
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return running;
}

/** One sample value of a metric in Prometheus text format, or undefined. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * The agent pod the kubelet would run on `node` (its token is bound to it, as the projected volume's is).
 * With `asDaemonSet`, it carries the DaemonSet template's labels and its `http` port, and its status says
 * Running at `ip` (where the agent process listens): what a PodMonitor discovers.
 */
export async function createAgentPod(
  namespace: string,
  node: string,
  asDaemonSet?: { objects: readonly KubeObject[]; httpPort: number; ip: string },
): Promise<{ name: string; uid: string }> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const template = asDaemonSet?.objects.find((o) => o.kind === 'DaemonSet')?.spec.template;
  const pod = await core.createNamespacedPod({
    namespace,
    body: {
      metadata: { name: `okg-sq-agent-${node}`, labels: template?.metadata.labels ?? { 'app.kubernetes.io/component': 'agent' } },
      spec: {
        nodeName: node,
        serviceAccountName: AGENT_SA,
        automountServiceAccountToken: false,
        containers: [{ name: 'agent', image: 'okg-sq-agent:test', ...(asDaemonSet ? { ports: [{ name: 'http', containerPort: asDaemonSet.httpPort }] } : {}) }],
      },
    },
  });
  if (asDaemonSet) await setPodRunning(namespace, pod.metadata!.name!, asDaemonSet.ip);
  return { name: pod.metadata!.name!, uid: pod.metadata!.uid! };
}

/** Writes a Pod's status as the kubelet would for a running pod at `ip` (no kubelet runs in the bed). */
export async function setPodRunning(namespace: string, name: string, ip: string): Promise<void> {
  const core = adminKubeConfig().makeApiClient(CoreV1Api);
  const now = new Date();
  await core.replaceNamespacedPodStatus({
    name,
    namespace,
    body: {
      ...(await core.readNamespacedPod({ name, namespace })),
      status: { phase: 'Running', podIP: ip, podIPs: [{ ip }], hostIP: ip, startTime: now, conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] },
    },
  });
}

/** The projected token source of the agent DaemonSet (audience, expirationSeconds, path). */
export function agentTokenProjection(objects: readonly KubeObject[]): { audience: string; expirationSeconds: number; path: string } {
  const ds = objects.find((o) => o.kind === 'DaemonSet');
  assert.ok(ds, 'the release has the agent DaemonSet');
  return (ds.spec.template.spec.volumes as any[]).find((v) => v.projected).projected.sources[0].serviceAccountToken;
}

/**
 * Starts dist/agent/main.js on `node` as the DaemonSet would: the chart's env, the CA of its TLS Secret
 * and a pod-bound token (audience: the projected volume's unless overridden). The Service's DNS name does
 * not resolve in the bed, so it dials 127.0.0.1; TLS still checks the chart's OKGSQ_TLS_SERVER_NAME.
 */
export async function startChartAgent(
  releaseNamespace: string,
  objects: readonly KubeObject[],
  decider: RunningDecider,
  node: string,
  opts: {
    audience?: string;
    /** The agent's /metrics port (default: a free one). */
    httpPort?: number;
    /** Make its pod look like the DaemonSet's, running at this address (for a PodMonitor to find). */
    podIp?: string;
  } = {},
): Promise<ManagedProcess> {
  const env = testbedEnv();
  const projection = agentTokenProjection(objects);
  const httpPort = opts.httpPort ?? (await freePort());
  const pod = await createAgentPod(releaseNamespace, node, opts.podIp === undefined ? undefined : { objects, httpPort, ip: opts.podIp });
  const dir = mkdtempSync(join(env.workDir, `chart-agent-${node}-`));
  const token = await serviceAccountToken(releaseNamespace, AGENT_SA, { audiences: [opts.audience ?? projection.audience], expirationSeconds: projection.expirationSeconds, boundPod: pod });
  writeFileSync(join(dir, 'token'), token);
  writeFileSync(join(dir, 'ca.crt'), (await tlsSecret(releaseNamespace))['ca.crt']!);
  const agentEnv = {
    ...chartEnv(objects, 'DaemonSet'),
    OKGSQ_NODE_NAME: node,
    OKGSQ_DECIDER_ADDRESS: `127.0.0.1:${decider.grpcPort}`,
    OKGSQ_TLS_CA_FILE: join(dir, 'ca.crt'),
    OKGSQ_TOKEN_FILE: join(dir, 'token'),
    OKGSQ_CRI_ENDPOINT: `unix://${env.containerdSocket}`,
    OKGSQ_HTTP_PORT: String(httpPort),
  };
  return new ManagedProcess(`agent-${node}`, process.execPath, [PROGRAMS.agent], { logFile: join(dir, 'agent.log'), env: { PATH: process.env.PATH, ...agentEnv } });
}

export async function deciderMetric(decider: RunningDecider, name: string): Promise<number | undefined> {
  const res = await httpGet(`http://127.0.0.1:${decider.httpPort}/metrics`);
  return metricValue(res.body, name);
}
