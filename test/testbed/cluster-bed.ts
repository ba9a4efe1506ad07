// The bed's cluster mode (docs/design.md, "The test bed's cluster mode"): besides etcd and kube-apiserver,
// a real single-node cluster: containerd + kubelet (cluster-node.ts), kube-scheduler,
// kube-controller-manager, kube-proxy (iptables) and CoreDNS behind a kube-dns Service, all built from Go
// modules (scripts/build-testbed.sh cluster). Optionally (`install`) the agent and decider images built from
// the unchanged Dockerfiles are imported and charts/okg-sq is `helm install`ed with them; optionally
// (`kubeRouter`, cli.js --netpol) kube-router's network-policy controller enforces NetworkPolicies (the bridge
// CNI ignores them; docs/design.md §32 "NetworkPolicy enforcement on the cluster bed").
//
// It takes a slot like a plain bed (own bridge, subnet, work dir), so plain beds run beside it; the
// apiserver binds the slot's bridge gateway, where pods reach it. kube-proxy's rules and the kubepods
// cgroups are global to the host: one cluster bed at a time (cluster-host.ts's lock), and teardown undoes
// exactly what it made: processes (shims too), KUBE-* chains, kube-router's ipsets, kubepods cgroups, its
// bridge, its work dir.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { AppsV1Api, CoreV1Api, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { ensureOkgsqImages, importImages as importBuiltImages } from './built-images.js';
import { bridgeExists, deleteBridge } from './cni.js';
import {
  claimClusterLock, enableBridgeNetfilter, kubeChains, releaseClusterLock, removeKubeChains, removeKubepodsCgroups, removeKubeRouterIpsets,
  restoreBridgeNetfilter, undoClusterHostChanges,
} from './cluster-host.js';
import { startNode, type RunningNode } from './cluster-node.js';
import { installOkgStack } from './okg-stack.js';
import { applyCrds } from './crds.js';
import { unmountUnder } from './containerd.js';
import { testbedEnvVars, type TestbedEnv } from './env.js';
import { startEtcd, type RunningEtcd } from './etcd.js';
import { freePort } from './free-port.js';
import { adminKubeConfig } from './kube.js';
import { startKubeApiserver, type RunningApiserver } from './kube-apiserver.js';
import { ManagedProcess } from './managed-process.js';
import type { TestbedBinaries } from './prerequisites.js';
import { repoPath } from './repo-root.js';
import { claimSlot, readSlot, releaseSlot, updateSlot } from './slots.js';
import { cleanupStaleSlot, type RunningTestbed } from './testbed.js';
import { waitFor } from './wait-for.js';
import { TeardownSteps } from './teardown-steps.js';

const execFileAsync = promisify(execFile);
const WORK_DIR_PARENT = '/tmp';
const NODE_READY_TIMEOUT_MS = 180_000;
const NETPOL_READY_TIMEOUT_MS = 60_000;
const HELM_INSTALL_TIMEOUT = '10m';
/** The cluster bed's Service range: away from the plain beds' 10.0.0.0/24 and the machine's networks. */
const SERVICE_CIDR = '10.253.0.0/24';
const CLUSTER_DNS_IP = '10.253.0.10';
/**
 * With a NetworkPolicy implementation, CoreDNS answers on port 53 as a cluster's does: policies see the port
 * after the Service's DNAT, and the chart's DNS egress rule names 53. The port must be free on the host.
 */
const DNS_PORT = 53;
export const RELEASE_NAME = 'okg-sq';
export const RELEASE_NAMESPACE = 'okg-sq-system';

export interface ClusterBinaries {
  kubelet: string;
  kubeScheduler: string;
  kubeControllerManager: string;
  kubeProxy: string;
  kubectl: string;
  coredns: string;
}

/** What a test of the cluster tier needs beyond TestbedEnv, as OKGSQ_TB_CLUSTER_* variables. */
export interface ClusterEnv {
  nodeName: string;
  kubectlBin: string;
  /** Set when the chart was installed (`--install`): `<namespace>/<release>`. */
  release: string;
}

export const CLUSTER_ENV_VARS = {
  nodeName: 'OKGSQ_TB_CLUSTER_NODE',
  kubectlBin: 'OKGSQ_TB_CLUSTER_KUBECTL_BIN',
  release: 'OKGSQ_TB_CLUSTER_RELEASE',
} as const satisfies Record<keyof ClusterEnv, string>;

/** Reads the cluster bed's variables; throws naming the first missing one. */
export function clusterEnv(source: NodeJS.ProcessEnv = process.env): ClusterEnv {
  const out: Partial<Record<keyof ClusterEnv, string>> = {};
  for (const [field, name] of Object.entries(CLUSTER_ENV_VARS) as [keyof ClusterEnv, string][]) {
    const value = source[name];
    if (!value) throw new Error(`${name} is not set: this test needs the cluster bed with the chart installed; run under \`node dist/test/testbed/cli.js run --cluster --install -- …\``);
    out[field] = value;
  }
  return Object.freeze(out as ClusterEnv);
}

/** Set with `--netpol`: the NetworkPolicy implementation that enforces policies on the bed (`kube-router`). */
export const NETPOL_ENV_VAR = 'OKGSQ_TB_CLUSTER_NETPOL';

/** Set with `--okg`: `probing-off` (kruise-daemon's PodProbeMarkerGate off, okg-sq installed) or `probing-on`. */
export const OKG_ENV_VAR = 'OKGSQ_TB_CLUSTER_OKG';

/** Set with `--okg`: the apiserver's audit log of writes to pods and GameServers (who wrote what, when); every request with `--audit-all`. */
export const AUDIT_LOG_ENV_VAR = 'OKGSQ_TB_CLUSTER_AUDIT_LOG';

export interface RunningClusterTestbed extends RunningTestbed {
  cluster: ClusterEnv;
  /** The variables for a child process: OKGSQ_TB_* and OKGSQ_TB_CLUSTER_*. */
  vars(): Record<string, string>;
}

/** Runs `scripts/build-testbed.sh <target>` (builds the first time, reuses after) and returns what it printed as NAME → PATH. */
function buildTestbed(target: string): (name: string) => string {
  const out = execFileSync('bash', [repoPath('scripts', 'build-testbed.sh'), target], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const built = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  return (name) => {
    const path = built[name];
    if (!path) throw new Error(`scripts/build-testbed.sh ${target} did not report ${name}`);
    return path;
  };
}

/** Builds (first time) or reuses the cluster mode's binaries. */
export function ensureClusterBinaries(log: (line: string) => void): ClusterBinaries {
  log('testbed: building or reusing kubelet, kube-scheduler, kube-controller-manager, kube-proxy, kubectl and CoreDNS (scripts/build-testbed.sh cluster)');
  const need = buildTestbed('cluster');
  return {
    kubelet: need('kubelet'), kubeScheduler: need('kube-scheduler'), kubeControllerManager: need('kube-controller-manager'),
    kubeProxy: need('kube-proxy'), kubectl: need('kubectl'), coredns: need('coredns'),
  };
}

/** kube-router (its network-policy controller enforces NetworkPolicies on the bed, `--netpol`), built the first time, reused after. */
export function ensureKubeRouter(log: (line: string) => void): string {
  log('testbed: building or reusing kube-router (scripts/build-testbed.sh netpol)');
  return buildTestbed('netpol')('kube-router');
}

/** The real kubectl of the cluster mode's version, built the first time (alone), reused after. */
export function ensureKubectl(): string {
  return buildTestbed('kubectl')('kubectl');
}

export async function startClusterTestbed(options: {
  binaries: TestbedBinaries;
  cluster: ClusterBinaries;
  install: boolean;
  /** OKG's stack (okg-stack.ts); kruise-daemon's probing is off when okg-sq is installed, on otherwise. */
  okg?: boolean;
  /** With okg: the audit log has every request (reads and watches too, any resource), not only pod and GameServer writes. */
  auditAll?: boolean;
  /** kube-router's binary (ensureKubeRouter()): its network-policy controller alone enforces NetworkPolicies. */
  kubeRouter?: string;
  log?: (line: string) => void;
  keepWorkDir?: boolean;
}): Promise<RunningClusterTestbed> {
  const log = options.log ?? (() => {});
  mkdirSync(WORK_DIR_PARENT, { recursive: true });
  const workDir = mkdtempSync(join(WORK_DIR_PARENT, 'okgsq-tb-'));
  const slot = await claimSlot(workDir, async (stale) => {
    log(`testbed: cleaning up slot ${stale.slot} left by dead runner ${stale.ownerPid}`);
    await cleanupStaleSlot(stale, log);
  });
  try {
    await claimClusterLock({ ownerPid: process.pid, slot: slot.slot, workDir }, async (stale) => {
      log(`testbed: cleaning up the cluster bed left by dead runner ${stale.ownerPid} (slot ${stale.slot})`);
      const staleSlot = readSlot(stale.slot);
      if (staleSlot && staleSlot.ownerPid === stale.ownerPid) {
        await cleanupStaleSlot(staleSlot, log);
        releaseSlot(staleSlot);
      }
      // Its slot may be gone or reused: undo the host changes whatever the slot's cleanup did.
      for (const left of undoClusterHostChanges()) log(`testbed: cluster host cleanup: ${left}`);
    }, (holder) => log(`testbed: waiting for the cluster bed of runner ${holder.ownerPid} (slot ${holder.slot}) to go down: one cluster bed runs at a time`));
  } catch (err) {
    releaseSlot(slot);
    rmSync(workDir, { recursive: true, force: true });
    throw err;
  }
  slot.cluster = true;
  updateSlot(slot);
  const gateway = slot.network.subnet.replace(/\.0\/24$/, '.1');
  const nodeName = `okgsq-node-${slot.slot}`;
  const processes: ManagedProcess[] = [];
  let etcd: RunningEtcd | undefined;
  let apiserver: RunningApiserver | undefined;
  let node: RunningNode | undefined;
  let kubeProxy: ManagedProcess | undefined;
  // Every caller waits for the one teardown (a signal and the runner's own exit path both call stop()).
  let stopping: Promise<void> | undefined;
  const pids = (): number[] => [etcd?.process.pid, apiserver?.process.pid, node?.kubelet.pid, node?.containerdPid, ...processes.map((p) => p.pid)]
    .filter((p): p is number => p !== undefined && p !== 0);
  const record = (): void => {
    slot.pids = pids();
    updateSlot(slot);
  };
  const stop = (): Promise<void> => (stopping ??= teardown());
  const teardown = async (): Promise<void> => {
    const steps = new TeardownSteps(log);
    const attempt = (what: string, fn: () => Promise<void> | void): Promise<void> => steps.attempt(what, fn);
    // Controllers first (nothing recreates pods), then the node (pods through CRI, containerd, shims).
    for (const proc of processes.filter((p) => p !== kubeProxy)) await attempt(`${proc.name} stop`, () => proc.stop());
    await attempt('node teardown', async () => node?.stop());
    await attempt('kube-proxy stop', async () => kubeProxy?.stop());
    await attempt('kube-proxy --cleanup', async () => {
      if (kubeProxy) await execFileAsync(options.cluster.kubeProxy, ['--cleanup'], { maxBuffer: 16 << 20 }).catch(() => {});
      removeKubeChains();
    });
    await attempt('kube-router ipsets removal', () => {
      const left = removeKubeRouterIpsets();
      if (left.length > 0) throw new Error(`could not destroy ipsets ${left.join(', ')}`);
    });
    await attempt('bridge-nf-call restore', () => restoreBridgeNetfilter());
    await attempt('kubepods cgroups removal', () => {
      const failed = removeKubepodsCgroups();
      if (failed.length > 0) throw new Error(`could not remove ${failed.join('; ')}`);
    });
    await attempt('kube-apiserver stop', async () => apiserver?.stop());
    await attempt('etcd stop', async () => etcd?.stop());
    await attempt('bridge delete', () => deleteBridge(slot.network.bridge));
    await attempt('unmount', () => unmountUnder(workDir));
    if (!options.keepWorkDir) await attempt('work dir removal', () => rmSync(workDir, { recursive: true, force: true }));
    releaseClusterLock(process.pid);
    releaseSlot(slot);
    steps.finish('cluster bed teardown had errors');
  };
  try {
    const started = Date.now();
    // The bridge with its gateway address first: the API server binds that address.
    if (bridgeExists(slot.network.bridge)) deleteBridge(slot.network.bridge);
    execFileSync('ip', ['link', 'add', slot.network.bridge, 'type', 'bridge']);
    execFileSync('ip', ['addr', 'add', `${gateway}/24`, 'dev', slot.network.bridge]);
    execFileSync('ip', ['link', 'set', slot.network.bridge, 'up']);
    etcd = await startEtcd({ bin: options.binaries.etcd, dir: workDir });
    record();
    const auditLog = options.okg ? join(workDir, 'audit.log') : '';
    apiserver = await startKubeApiserver({
      bin: options.binaries.kubeApiserver, dir: workDir, etcdUrl: etcd.url, address: gateway, serviceClusterIpRange: SERVICE_CIDR,
      extraArgs: auditLog ? auditLogFlags(workDir, auditLog, options.auditAll ?? false) : [],
    });
    record();
    const kc = adminKubeConfig(apiserver.kubeconfig);
    await applyCrds(kc);
    node = await startNode({
      kubeletBin: options.cluster.kubelet, dir: workDir, network: slot.network, gateway, nodeName,
      kubeconfig: apiserver.kubeconfig, kubeletPort: await freePort(), clusterDns: CLUSTER_DNS_IP,
    });
    slot.containerdSocket = node.containerdSocket;
    record();
    const start = (name: string, bin: string, args: string[]): ManagedProcess => {
      const proc = new ManagedProcess(name, bin, args, { logFile: join(workDir, `${name}.log`) });
      processes.push(proc);
      record();
      return proc;
    };
    const kubeconfig = `--kubeconfig=${apiserver.kubeconfig}`;
    start('kube-scheduler', options.cluster.kubeScheduler, [kubeconfig, '--leader-elect=false', '--secure-port=0', '--v=1']);
    start('kube-controller-manager', options.cluster.kubeControllerManager, [
      kubeconfig, '--leader-elect=false', '--secure-port=0', `--root-ca-file=${apiserver.certFile}`,
      `--service-account-private-key-file=${apiserver.serviceAccountPrivateKeyFile}`, '--use-service-account-credentials=false',
      `--service-cluster-ip-range=${SERVICE_CIDR}`, '--v=1',
    ]);
    kubeProxy = start('kube-proxy', options.cluster.kubeProxy, [
      kubeconfig, '--proxy-mode=iptables', `--hostname-override=${nodeName}`, `--cluster-cidr=${slot.network.subnet}`,
      // Leave the host's conntrack sysctls and route_localnet alone.
      '--conntrack-max-per-core=0', '--conntrack-tcp-timeout-established=0s', '--conntrack-tcp-timeout-close-wait=0s',
      '--iptables-localhost-nodeports=false',
      `--healthz-bind-address=127.0.0.1:${await freePort()}`, `--metrics-bind-address=127.0.0.1:${await freePort()}`, '--v=1',
    ]);
    await startClusterDns(kc, workDir, apiserver.kubeconfig, options.cluster.coredns, gateway, options.kubeRouter ? DNS_PORT : await freePort(), start);
    await waitForNodeReady(kc, nodeName, processes.concat(node.kubelet));
    if (options.kubeRouter) {
      // After the Node exists: kube-router reads its address (the pods' host IP) from it at start.
      enableBridgeNetfilter();
      const netpolStarted = Date.now();
      const kubeRouter = start('kube-router', options.kubeRouter, [
        kubeconfig, `--hostname-override=${nodeName}`, '--run-firewall=true', '--run-router=false', '--run-service-proxy=false',
        `--service-cluster-ip-range=${SERVICE_CIDR}`, `--health-port=${await freePort()}`, '--v=1',
      ]);
      await waitFor(() => {
        kubeRouter.assertRunning();
        return kubeChains().includes('v4 filter/KUBE-ROUTER-FORWARD');
      }, { timeoutMs: NETPOL_READY_TIMEOUT_MS, intervalMs: 250, what: 'kube-router\'s KUBE-ROUTER-FORWARD chain' });
      log(`testbed: kube-router enforces NetworkPolicies (its chains in place ${Date.now() - netpolStarted} ms after its start)`);
    }
    const okg = options.okg ? (options.install ? 'probing-off' : 'probing-on') : '';
    if (options.okg) {
      await installOkgStack({ kc, kubeconfig: apiserver.kubeconfig, kubectl: options.cluster.kubectl, criSocket: node.containerdSocket, workDir, daemonProbing: !options.install, log });
    }
    let release = '';
    if (options.install) {
      await installChart({ workDir, kubeconfig: apiserver.kubeconfig, helmBin: options.binaries.helm, socket: node.containerdSocket, log });
      release = `${RELEASE_NAMESPACE}/${RELEASE_NAME}`;
    }
    log(`testbed: cluster up in ${Date.now() - started} ms (slot ${slot.slot}, node ${nodeName}, ${workDir})`);
    const env: TestbedEnv = Object.freeze({
      kubeconfig: apiserver.kubeconfig,
      apiserverUrl: apiserver.url,
      adminToken: apiserver.adminToken,
      containerdSocket: node.containerdSocket,
      criRuntime: 'containerd',
      workDir,
      prometheusBin: options.binaries.prometheus,
      promtoolBin: options.binaries.promtool,
      helmBin: options.binaries.helm,
      serviceAccountIssuer: apiserver.serviceAccountIssuer,
    });
    const cluster: ClusterEnv = Object.freeze({ nodeName, kubectlBin: options.cluster.kubectl, release });
    const vars = (): Record<string, string> => ({
      ...testbedEnvVars(env),
      [CLUSTER_ENV_VARS.nodeName]: cluster.nodeName,
      [CLUSTER_ENV_VARS.kubectlBin]: cluster.kubectlBin,
      ...(release ? { [CLUSTER_ENV_VARS.release]: release } : {}),
      ...(okg ? { [OKG_ENV_VAR]: okg, [AUDIT_LOG_ENV_VAR]: auditLog } : {}),
      ...(options.kubeRouter ? { [NETPOL_ENV_VAR]: 'kube-router' } : {}),
    });
    slot.env = vars();
    updateSlot(slot);
    return { env, slot, pids, stop, cluster, vars };
  } catch (err) {
    await stop().catch((e: Error) => log(`testbed: teardown after a failed start: ${e.message}`));
    throw err;
  }
}

/**
 * An audit log (JSON lines) of every write to pods, pods/status, GameServers and their status: the user and
 * user agent of each, so a test can tell okg-sq's writes from OKG's and kruise's, and the body of each write
 * to a GameServer's spec, so it can tell what a write set. With `all`, every request's metadata
 * (bench/vs-okg.ts counts each component's requests, reads and watches included).
 */
function auditLogFlags(workDir: string, logFile: string, all: boolean): string[] {
  const policy = join(workDir, 'audit-policy.yaml');
  writeFileSync(policy, all ? `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Metadata
` : `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: Request
    verbs: [update, patch]
    resources:
      - group: game.kruise.io
        resources: [gameservers]
  - level: Metadata
    verbs: [create, update, patch, delete]
    resources:
      - group: ""
        resources: [pods, pods/status]
      - group: game.kruise.io
        resources: [gameservers, gameservers/status]
  - level: None
`);
  return [`--audit-policy-file=${policy}`, `--audit-log-path=${logFile}`, '--audit-log-format=json', '--audit-log-maxsize=0'];
}

/**
 * CoreDNS on the host (`port` on every address), behind a kube-dns Service at the kubelet's clusterDNS. It
 * answers for cluster.local only: the bed's pods need no names outside the cluster.
 */
async function startClusterDns(
  kc: KubeConfig,
  workDir: string,
  kubeconfig: string,
  bin: string,
  gateway: string,
  port: number,
  start: (name: string, bin: string, args: string[]) => ManagedProcess,
): Promise<void> {
  const corefile = join(workDir, 'Corefile');
  writeFileSync(corefile, `cluster.local:${port} in-addr.arpa:${port} {
  errors
  kubernetes cluster.local in-addr.arpa {
    kubeconfig ${kubeconfig} okgsq-testbed
    pods insecure
    fallthrough in-addr.arpa
  }
  cache 30
}
`);
  start('coredns', bin, ['-conf', corefile]);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'kube-dns', labels: { 'k8s-app': 'kube-dns' } },
      spec: { clusterIP: CLUSTER_DNS_IP, ports: [{ name: 'dns', port: 53, protocol: 'UDP', targetPort: port }, { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: port }] },
    },
  });
  await kc.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'kube-dns-host', labels: { 'kubernetes.io/service-name': 'kube-dns', 'endpointslice.kubernetes.io/managed-by': 'okgsq-testbed' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [gateway], conditions: { ready: true } }],
      ports: [{ name: 'dns', port, protocol: 'UDP' }, { name: 'dns-tcp', port, protocol: 'TCP' }],
    },
  });
}

async function waitForNodeReady(kc: KubeConfig, nodeName: string, watched: ManagedProcess[]): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  await waitFor(async () => {
    for (const proc of watched) proc.assertRunning();
    const node = await core.readNode({ name: nodeName });
    return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
  }, { timeoutMs: NODE_READY_TIMEOUT_MS, intervalMs: 500, what: `node ${nodeName} Ready` });
}

/**
 * Imports the agent and decider images (built from the Dockerfiles, cached) and installs charts/okg-sq with
 * them: the agent talks to the bed's containerd (criSocket custom), images are never pulled, 2 deciders.
 */
export async function installChart(options: { workDir: string; kubeconfig: string; helmBin: string; socket: string; log: (line: string) => void }): Promise<void> {
  const images = await ensureOkgsqImages(options.log);
  await importBuiltImages(options.socket, [images.agent, images.decider]);
  const home = join(options.workDir, 'helm-home');
  const agentPort = await freePort();
  const values: Record<string, string> = {
    'agent.criSocket.runtime': 'custom',
    'agent.criSocket.path': options.socket,
    'agent.image.pullPolicy': 'Never',
    'decider.image.pullPolicy': 'Never',
    'decider.replicas': '2',
    // The agent uses the host network: a free port, not the default 10226 of the machine.
    'agent.httpPort': String(agentPort),
  };
  const args = ['install', RELEASE_NAME, repoPath('charts', 'okg-sq'), '--namespace', RELEASE_NAMESPACE, '--create-namespace', '--wait', '--timeout', HELM_INSTALL_TIMEOUT];
  for (const [key, value] of Object.entries(values)) args.push('--set', `${key}=${value}`);
  options.log(`testbed: helm ${args.join(' ')}`);
  await execFileAsync(options.helmBin, args, {
    maxBuffer: 16 << 20,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, HELM_CACHE_HOME: join(home, 'cache'), HELM_CONFIG_HOME: join(home, 'config'), HELM_DATA_HOME: join(home, 'data'), KUBECONFIG: options.kubeconfig },
  }).catch((err: Error & { stderr?: string }) => {
    throw new Error(`helm install failed: ${err.stderr || err.message}`, { cause: err });
  });
  const kc = adminKubeConfig(options.kubeconfig);
  const apps = kc.makeApiClient(AppsV1Api);
  const ds = await apps.readNamespacedDaemonSet({ namespace: RELEASE_NAMESPACE, name: `${RELEASE_NAME}-agent` });
  const deploy = await apps.readNamespacedDeployment({ namespace: RELEASE_NAMESPACE, name: `${RELEASE_NAME}-decider` });
  options.log(`testbed: chart installed: agent DaemonSet ${ds.status?.numberReady}/${ds.status?.desiredNumberScheduled} ready, decider ${deploy.status?.readyReplicas}/${deploy.spec?.replicas} ready`);
}
