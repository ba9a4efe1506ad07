// containerd + runc for the bed, with the bed's own root, state, socket and config (the CRI plugin on,
// cgroupfs, overlayfs, CNI from our conf dir, the local pause image as sandbox image). Teardown goes
// through CRI first because shims outlive containerd.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_BIN_DIR, writeCniConfig, type CniNetwork } from './cni.js';
import { CriClient } from './cri-client.js';
import { buildImageArchive, importImages, TEST_IMAGES } from './images.js';
import { ManagedProcess, pidAlive } from './managed-process.js';
import { waitFor } from './wait-for.js';

const CONTAINERD_READY_TIMEOUT_MS = 30_000;
const SHIM_EXIT_TIMEOUT_MS = 10_000;
/** Unix socket paths are limited to 108 bytes. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface RunningContainerd {
  socket: string;
  process: ManagedProcess;
  /** Stops and removes every sandbox through CRI, stops containerd, then any shim of ours still alive. */
  stop(): Promise<void>;
}

export async function startContainerd(options: { dir: string; network: CniNetwork }): Promise<RunningContainerd> {
  const dir = join(options.dir, 'containerd');
  const socket = join(dir, 'containerd.sock');
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) throw new Error(`containerd socket path too long (${socket}); use a shorter work dir`);
  for (const sub of ['root', 'state', 'cni', 'opt']) mkdirSync(join(dir, sub), { recursive: true });
  writeCniConfig(join(dir, 'cni'), join(dir, 'cni-ipam'), options.network);
  const configFile = join(dir, 'config.toml');
  writeFileSync(configFile, containerdConfig(dir, socket));
  const proc = new ManagedProcess('containerd', 'containerd', ['--config', configFile], { logFile: join(options.dir, 'containerd.log') });
  const cri = new CriClient(socket);
  try {
    await waitFor(async () => {
      proc.assertRunning();
      const v = await cri.version();
      return v.runtimeApiVersion !== '';
    }, { timeoutMs: CONTAINERD_READY_TIMEOUT_MS, what: 'containerd CRI Version' });
    importImages(socket, buildImageArchive(join(options.dir, 'images')));
  } catch (err) {
    cri.close();
    await proc.stop();
    throw err;
  }
  const stop = async (): Promise<void> => {
    try {
      await removeAllSandboxes(cri);
    } finally {
      cri.close();
      await proc.stop();
      await stopOwnShims(socket);
    }
  };
  return { socket, process: proc, stop };
}

/** Containers first (SIGKILL: CRI-O's StopPodSandbox would wait out the call deadline after SIGTERM), then sandboxes. */
export async function removeAllSandboxes(cri: CriClient): Promise<void> {
  for (const c of (await cri.listContainers()).containers) await cri.stopContainer({ containerId: c.id, timeout: 0 });
  const { items } = await cri.listPodSandbox();
  for (const sandbox of items) {
    await cri.stopPodSandbox({ podSandboxId: sandbox.id });
    await cri.removePodSandbox({ podSandboxId: sandbox.id });
  }
}

/** Shims started by our containerd carry its socket path in their command line: stop those by PID. */
export async function stopOwnShims(socket: string): Promise<number[]> {
  const pids = findProcessesWithArg(socket);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor(() => pids.every((pid) => !pidAlive(pid)), { timeoutMs: SHIM_EXIT_TIMEOUT_MS, what: 'containerd shims to exit' });
  return pids;
}

export function findProcessesWithArg(arg: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.includes(arg)) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  return pids;
}

/** Lazily unmounts anything still mounted under dir (a crashed run's sandboxes), deepest first. */
export function unmountUnder(dir: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const mount of mounts) {
    try {
      execFileSync('umount', ['-l', mount], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
}

export function containerdConfig(dir: string, socket: string): string {
  const cri = '[plugins."io.containerd.grpc.v1.cri"';
  return `version = 2
root = "${join(dir, 'root')}"
state = "${join(dir, 'state')}"

[grpc]
  address = "${socket}"

[ttrpc]
  address = "${socket}.ttrpc"

[debug]
  level = "warn"

[plugins."io.containerd.internal.v1.opt"]
  path = "${join(dir, 'opt')}"

${cri}]
  sandbox_image = "${TEST_IMAGES.pause}"
  disable_apparmor = true
  netns_mounts_under_state_dir = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # This machine may lack CAP_SYS_RESOURCE: never ask runc to lower oom_score_adj below our own.
  restrict_oom_score_adj = true

${cri}.containerd]
  snapshotter = "overlayfs"
  default_runtime_name = "runc"

${cri}.containerd.runtimes.runc]
  runtime_type = "io.containerd.runc.v2"

${cri}.containerd.runtimes.runc.options]
  SystemdCgroup = false

${cri}.cni]
  bin_dir = "${CNI_BIN_DIR}"
  conf_dir = "${join(dir, 'cni')}"
  max_conf_num = 1
`;
}
