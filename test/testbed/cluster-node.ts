// The cluster bed's node: containerd and a real kubelet together in one private mount namespace
// (`unshare -m`), so the mounts they make (container root filesystems, network namespaces, volumes) never
// appear on the host, and the host's sysctls stay untouched: the kubelet rewrites six of them at start
// (docs/design.md, "The test bed's cluster mode"), so files holding the values it wants are bind-mounted over
// them inside the namespace. /var/lib and /var/log, where the kubelet writes outside --root-dir
// (device-plugins, /var/log/containers, CNI results), are bind-mounted from the work dir too.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_BIN_DIR, writeCniConfig, type CniNetwork } from './cni.js';
import { containerdConfig, stopOwnShims } from './containerd.js';
import { CriClient } from './cri-client.js';
import { buildImageArchive, importImages } from './images.js';
import { ManagedProcess, pidAlive } from './managed-process.js';
import { waitFor } from './wait-for.js';

const CONTAINERD_READY_TIMEOUT_MS = 60_000;
const CONTAINERD_EXIT_TIMEOUT_MS = 15_000;

/** The kubelet's kernel tunables (setupKernelTunables in pkg/kubelet/cm) with the values it sets. */
export const KUBELET_SYSCTLS: Readonly<Record<string, number>> = Object.freeze({
  'vm/overcommit_memory': 1,
  'vm/panic_on_oom': 0,
  'kernel/panic': 10,
  'kernel/panic_on_oops': 1,
  'kernel/keys/root_maxkeys': 1000000,
  'kernel/keys/root_maxbytes': 25000000,
});

export interface NodeOptions {
  kubeletBin: string;
  /** The bed's work dir; the node uses <dir>/containerd and <dir>/node. */
  dir: string;
  network: CniNetwork;
  gateway: string;
  nodeName: string;
  kubeconfig: string;
  kubeletPort: number;
  clusterDns: string;
}

export interface RunningNode {
  containerdSocket: string;
  /** The kubelet (the `unshare` process execs bash, which execs the kubelet). */
  kubelet: ManagedProcess;
  containerdPid: number;
  /** Stops the kubelet, removes every pod sandbox through CRI, then stops containerd and its shims. */
  stop(): Promise<void>;
}

export async function startNode(options: NodeOptions): Promise<RunningNode> {
  const containerdDir = join(options.dir, 'containerd');
  const nodeDir = join(options.dir, 'node');
  const socket = join(containerdDir, 'containerd.sock');
  for (const sub of ['root', 'state', 'opt']) mkdirSync(join(containerdDir, sub), { recursive: true });
  for (const sub of ['sysctl', 'var-lib', 'var-log', 'pki', 'root', 'pod-logs']) mkdirSync(join(nodeDir, sub), { recursive: true });
  writeCniConfig(join(containerdDir, 'cni'), join(containerdDir, 'cni-ipam'), options.network);
  writeFileSync(join(containerdDir, 'config.toml'), containerdConfig(containerdDir, socket));
  for (const [name, value] of Object.entries(KUBELET_SYSCTLS)) writeFileSync(join(nodeDir, 'sysctl', name.replace(/\//g, '_')), `${value}\n`);
  writeFileSync(join(nodeDir, 'kubelet-config.json'), JSON.stringify(kubeletConfig(options, socket, nodeDir), null, 2));
  const script = join(nodeDir, 'node.sh');
  writeFileSync(script, nodeScript(options, nodeDir));
  const pidFile = join(nodeDir, 'containerd.pid');
  const kubelet = new ManagedProcess('kubelet', 'unshare', ['--mount', '--propagation', 'private', 'bash', script], { logFile: join(options.dir, 'kubelet.log') });
  const cri = new CriClient(socket);
  let containerdPid = 0;
  const stop = async (): Promise<void> => {
    await kubelet.stop();
    try {
      if (existsSync(socket)) {
        const { items } = await cri.listPodSandbox();
        for (const sandbox of items) {
          await cri.stopPodSandbox({ podSandboxId: sandbox.id });
          await cri.removePodSandbox({ podSandboxId: sandbox.id });
        }
      }
    } finally {
      cri.close();
      containerdPid ||= readPid(pidFile);
      if (containerdPid && pidAlive(containerdPid)) {
        process.kill(containerdPid, 'SIGTERM');
        await waitFor(() => !pidAlive(containerdPid), { timeoutMs: CONTAINERD_EXIT_TIMEOUT_MS, what: 'containerd to exit' }).catch(() => {
          if (pidAlive(containerdPid)) process.kill(containerdPid, 'SIGKILL');
        });
      }
      await stopOwnShims(socket);
    }
  };
  try {
    await waitFor(async () => {
      kubelet.assertRunning();
      if (!existsSync(socket)) return false;
      return (await cri.version()).runtimeApiVersion !== '';
    }, { timeoutMs: CONTAINERD_READY_TIMEOUT_MS, what: 'containerd (in the node\'s mount namespace) CRI Version' });
    containerdPid = readPid(pidFile);
    importImages(socket, buildImageArchive(join(options.dir, 'images')));
    // node.sh waits for this file before it starts the kubelet: the sandbox image is there by then.
    writeFileSync(join(nodeDir, 'images-imported'), '');
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
  return { containerdSocket: socket, kubelet, containerdPid, stop };
}

function readPid(file: string): number {
  try {
    return Number(readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}

function kubeletConfig(options: NodeOptions, socket: string, nodeDir: string): Record<string, unknown> {
  return {
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    containerRuntimeEndpoint: `unix://${socket}`,
    cgroupDriver: 'cgroupfs',
    // This machine kind: swap may be on, and the host is cgroup v1 (1.35 refuses v1 unless told).
    failSwapOn: false,
    failCgroupV1: false,
    address: options.gateway,
    port: options.kubeletPort,
    healthzPort: 0,
    readOnlyPort: 0,
    // Only the API server (the bed's admin) talks to this kubelet, on the bed's bridge.
    authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
    authorization: { mode: 'AlwaysAllow' },
    clusterDomain: 'cluster.local',
    clusterDNS: [options.clusterDns],
    resolvConf: '/etc/resolv.conf',
    podLogsDir: join(nodeDir, 'pod-logs'),
    protectKernelDefaults: false,
    // A shared disk: no image garbage collection, evict only when nearly full.
    imageGCHighThresholdPercent: 100,
    evictionHard: { 'memory.available': '50Mi', 'nodefs.available': '1%', 'imagefs.available': '1%', 'nodefs.inodesFree': '1%' },
    serializeImagePulls: false,
  };
}

function nodeScript(options: NodeOptions, nodeDir: string): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const sysctlMounts = Object.keys(KUBELET_SYSCTLS).map((name) => `mount --bind ${q(join(nodeDir, 'sysctl', name.replace(/\//g, '_')))} /proc/sys/${name}`);
  return `#!/usr/bin/env bash
# Written by test/testbed/cluster-node.ts: runs in a private mount namespace (unshare --mount).
set -euo pipefail
${sysctlMounts.join('\n')}
mount --bind ${q(join(nodeDir, 'var-lib'))} /var/lib
mount --bind ${q(join(nodeDir, 'var-log'))} /var/log
containerd --config ${q(join(options.dir, 'containerd', 'config.toml'))} >>${q(join(options.dir, 'containerd.log'))} 2>&1 &
echo $! >${q(join(nodeDir, 'containerd.pid'))}
while [ ! -e ${q(join(nodeDir, 'images-imported'))} ]; do
  kill -0 $! 2>/dev/null || { echo "containerd exited" >&2; exit 1; }
  sleep 0.2
done
export PATH="${CNI_BIN_DIR}:$PATH"
exec ${q(options.kubeletBin)} --config=${q(join(nodeDir, 'kubelet-config.json'))} --kubeconfig=${q(options.kubeconfig)} \\
  --root-dir=${q(join(nodeDir, 'root'))} --cert-dir=${q(join(nodeDir, 'pki'))} \\
  --hostname-override=${q(options.nodeName)} --node-ip=${q(options.gateway)} --v=1
`;
}
