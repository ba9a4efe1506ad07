// CRI-O as the plain bed's second CRI runtime (cli.js run --runtime cri-o; docs/design.md §27): crio built
// from its Go module (scripts/build-testbed.sh crio), conmon and runc from Debian, with its own socket,
// storage root, run dir and config under the bed's work dir, CNI from the bed's network, and the bed's
// images copied into its storage with cri-o's copyimg (CRI-O pulls by name; there is no registry here).
// Teardown: every sandbox through CRI, crio, then any conmon of ours still alive; the bed unmounts the rest.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CNI_BIN_DIR, writeCniConfig, type CniNetwork } from './cni.js';
import { removeAllSandboxes, type RunningContainerd } from './containerd.js';
import { CriClient } from './cri-client.js';
import { buildImageArchive, TEST_IMAGES } from './images.js';
import { ManagedProcess, pidAlive } from './managed-process.js';
import { waitFor } from './wait-for.js';

const CRIO_READY_TIMEOUT_MS = 60_000;
const MONITOR_EXIT_TIMEOUT_MS = 10_000;
const CGROUP_ROOT = '/sys/fs/cgroup';
/** Unix socket paths are limited to 108 bytes. */
const MAX_SOCKET_PATH_BYTES = 107;
/** Debian's: conmon (the per-container monitor) and runc (crun 1.8 rejects CRI-O 1.34's OCI spec version). */
const CONMON = '/usr/bin/conmon';
const RUNC = '/usr/sbin/runc';

export interface CrioBinaries {
  crio: string;
  pinns: string;
  copyimg: string;
}

/** The bed's CRI runtime, whichever it is: the same shape as containerd's. */
export type RunningCriRuntime = RunningContainerd;

/** The files a CRI-O of the bed reads, all under `dir` (also what a stale bed's cleanup restarts it with). */
export function crioPaths(dir: string): { socket: string; config: string; env: Record<string, string> } {
  return {
    socket: join(dir, 'crio.sock'),
    config: join(dir, 'crio.conf'),
    // containers/storage and containers/image read these instead of /etc/containers.
    env: { CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'), CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf') },
  };
}

export async function startCrio(options: { dir: string; network: CniNetwork; binaries: CrioBinaries }): Promise<RunningCriRuntime> {
  const dir = join(options.dir, 'crio');
  const paths = crioPaths(dir);
  if (Buffer.byteLength(paths.socket) > MAX_SOCKET_PATH_BYTES) throw new Error(`CRI-O socket path too long (${paths.socket}); use a shorter work dir`);
  for (const sub of ['root', 'run', 'cni', 'pod-logs']) mkdirSync(join(dir, sub), { recursive: true });
  writeCniConfig(join(dir, 'cni'), join(dir, 'cni-ipam'), options.network);
  writeCrioFiles(dir, options.binaries.pinns);
  importImagesIntoCrio(dir, options.binaries.copyimg, buildImageArchive(join(options.dir, 'images')));
  const proc = new ManagedProcess('crio', options.binaries.crio, ['--config', paths.config, '--config-dir', ''], {
    logFile: join(options.dir, 'crio.log'),
    env: { ...process.env, ...paths.env },
  });
  const cri = new CriClient(paths.socket);
  try {
    await waitFor(async () => {
      proc.assertRunning();
      const v = await cri.version();
      return v.runtimeApiVersion !== '';
    }, { timeoutMs: CRIO_READY_TIMEOUT_MS, what: 'CRI-O CRI Version' });
  } catch (err) {
    cri.close();
    await proc.stop();
    throw err;
  }
  return { socket: paths.socket, process: proc, stop: () => teardownCrio(cri, proc, dir) };
}

/**
 * Ends a CRI-O of the bed's and what it started: its sandboxes (through the CRI, so CRI-O stops their
 * containers), the process, the conmons that outlive it, and their cgroups. Used by the bed's own stop and
 * by the cleanup of a dead bed's slot (a CRI-O restarted on its config).
 */
export async function teardownCrio(cri: CriClient, proc: ManagedProcess, dir: string): Promise<void> {
  let ids: string[] = [];
  try {
    ids = (await cri.listContainers()).containers.map((c) => c.id);
    await removeAllSandboxes(cri);
  } finally {
    cri.close();
    await proc.stop();
    await stopOwnMonitors(dir);
    removeCrioCgroups(ids);
  }
}

/** conmon (and the processes runc left) of our CRI-O name our dir in their arguments: stop those by PID. */
async function stopOwnMonitors(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('conmon') && argv.some((a) => a.startsWith(`${dir}/`))) pids.push(Number(entry));
    } catch {
      // exited while we looked
    }
  }
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  await waitFor(() => pids.every((pid) => !pidAlive(pid)), { timeoutMs: MONITOR_EXIT_TIMEOUT_MS, what: 'conmon monitors to exit' });
  return pids;
}

/**
 * With cgroupfs and no pod cgroup parent, CRI-O puts each container in `crio/crio-<id>` and its conmon in
 * `crio-conmon-<id>` (with a `crio-<id>` inside; runc adds `crio-<id>` to the named ones) at the top of every
 * hierarchy, and leaves the conmon ones behind: remove ours, then `crio` if no other bed's container is in it (rmdir only removes empty cgroups).
 */
function removeCrioCgroups(containerIds: readonly string[]): void {
  let hierarchies: string[];
  try {
    hierarchies = readdirSync(CGROUP_ROOT).map((h) => join(CGROUP_ROOT, h));
  } catch {
    return;
  }
  for (const base of [...hierarchies, CGROUP_ROOT]) {
    for (const path of [...containerIds.flatMap((id) => [join(base, `crio-conmon-${id}`), join(base, `crio-${id}`), join(base, 'crio', `crio-${id}`)]), join(base, 'crio')]) {
      rmdirTree(path);
    }
  }
}

/** Removes an empty cgroup and its empty children, deepest first; a busy or missing one is left alone. */
function rmdirTree(dir: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    return;
  }
  for (const entry of entries) rmdirTree(join(dir, entry));
  try {
    rmdirSync(dir);
  } catch {
    // still in use (another bed's container), or gone
  }
}

/** CRI-O's storage is containers/storage: copyimg writes the archive's images into it under their names. */
function importImagesIntoCrio(dir: string, copyimg: string, tarball: string): void {
  const { env } = crioPaths(dir);
  for (const image of Object.values(TEST_IMAGES)) {
    execFileSync(copyimg, [
      '--root', join(dir, 'root'), '--runroot', join(dir, 'run', 'storage'), '--storage-driver', 'overlay',
      '--signature-policy', join(dir, 'policy.json'),
      '--image-name', image, '--import-from', `docker-archive:${tarball}:${image.replace(/^docker\.io\//, '')}`,
    ], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  }
}

function writeCrioFiles(dir: string, pinns: string): void {
  const run = join(dir, 'run');
  writeFileSync(join(dir, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  writeFileSync(join(dir, 'registries.conf'), 'unqualified-search-registries = []\n');
  writeFileSync(join(dir, 'storage.conf'), `[storage]\ndriver = "overlay"\nrunroot = "${join(run, 'storage')}"\ngraphroot = "${join(dir, 'root')}"\n`);
  writeFileSync(crioPaths(dir).config, crioConfig(dir, pinns));
}

export function crioConfig(dir: string, pinns: string): string {
  const run = join(dir, 'run');
  return `[crio]
root = "${join(dir, 'root')}"
runroot = "${join(run, 'storage')}"
storage_driver = "overlay"
log_dir = "${join(dir, 'pod-logs')}"
version_file = "${join(run, 'version')}"
version_file_persist = "${join(dir, 'version')}"
clean_shutdown_file = "${join(dir, 'clean.shutdown')}"

[crio.api]
listen = "${crioPaths(dir).socket}"
stream_address = "127.0.0.1"
stream_port = "0"

[crio.runtime]
default_runtime = "runc"
cgroup_manager = "cgroupfs"
# Pods that share no PID namespace (the kubelet's default) get no infra container.
drop_infra_ctr = true
selinux = false
apparmor_profile = ""
seccomp_profile = ""
hooks_dir = []
cdi_spec_dirs = []
decryption_keys_path = "${join(dir, 'keys')}"
container_exits_dir = "${join(run, 'exits')}"
container_attach_socket_dir = "${join(run, 'attach')}"
namespaces_dir = "${join(run, 'ns')}"
pinns_path = "${pinns}"
irqbalance_config_file = ""
irqbalance_config_restore_file = "disable"
enable_criu_support = false
log_level = "warn"

[crio.runtime.runtimes.runc]
runtime_path = "${RUNC}"
runtime_type = "oci"
runtime_root = "${join(run, 'runc')}"
monitor_path = "${CONMON}"
monitor_cgroup = "pod"

[crio.image]
pause_image = "${TEST_IMAGES.pause}"
# The image's own command (sleep infinity), not /pause.
pause_command = ""
signature_policy = "${join(dir, 'policy.json')}"
signature_policy_dir = "${join(dir, 'policies')}"

[crio.network]
network_dir = "${join(dir, 'cni')}"
plugin_dirs = ["${CNI_BIN_DIR}"]

[crio.metrics]
enable_metrics = false

[crio.nri]
enable_nri = false
`;
}
