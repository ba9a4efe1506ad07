// Starts and stops a whole bed: etcd + kube-apiserver (with the OKG CRDs) and containerd (or CRI-O) + CNI,
// each bed in its own slot (bridge, subnet, work dir). Stop order: pods through CRI, the runtime, its shims
// or conmons, apiserver, etcd, bridge, mounts, work dir.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { deleteBridge } from './cni.js';
import { releaseClusterLock, undoClusterHostChanges } from './cluster-host.js';
import { CriClient } from './cri-client.js';
import { applyCrds } from './crds.js';
import { removeAllSandboxes, startContainerd, stopOwnShims, unmountUnder } from './containerd.js';
import { crioPaths, startCrio, teardownCrio, type CrioBinaries, type RunningCriRuntime } from './crio.js';
import { testbedEnvVars, type TestbedEnv } from './env.js';
import { startEtcd, type RunningEtcd } from './etcd.js';
import { adminKubeConfig } from './kube.js';
import { startKubeApiserver, type RunningApiserver } from './kube-apiserver.js';
import { ManagedProcess, pidAlive } from './managed-process.js';
import type { TestbedBinaries } from './prerequisites.js';
import { claimSlot, releaseSlot, updateSlot, type SlotState } from './slots.js';
import { waitFor } from './wait-for.js';
import { TeardownSteps } from './teardown-steps.js';

const WORK_DIR_PARENT = '/tmp'; // short: containerd's socket path must fit in 108 bytes
const STALE_PROCESS_EXIT_TIMEOUT_MS = 10_000;

export interface RunningTestbed {
  env: TestbedEnv;
  slot: SlotState;
  /** PIDs of every long-running process the bed started. */
  pids(): number[];
  stop(): Promise<void>;
}

/** `crio`: run CRI-O (crio.ts) instead of containerd as the bed's CRI runtime. */
export async function startTestbed(options: { binaries: TestbedBinaries; crio?: CrioBinaries; log?: (line: string) => void; keepWorkDir?: boolean }): Promise<RunningTestbed> {
  const log = options.log ?? (() => {});
  mkdirSync(WORK_DIR_PARENT, { recursive: true });
  const workDir = mkdtempSync(join(WORK_DIR_PARENT, 'okgsq-tb-'));
  const slot = await claimSlot(workDir, async (stale) => {
    log(`testbed: cleaning up slot ${stale.slot} left by dead runner ${stale.ownerPid}`);
    await cleanupStaleSlot(stale, log);
  });
  let etcd: RunningEtcd | undefined;
  let apiserver: RunningApiserver | undefined;
  let containerd: RunningCriRuntime | undefined;
  // Every caller waits for the one teardown (a signal and the runner's own exit path both call stop()).
  let stopping: Promise<void> | undefined;
  const pids = (): number[] => [etcd?.process.pid, apiserver?.process.pid, containerd?.process.pid].filter((p): p is number => p !== undefined);
  const stop = (): Promise<void> => (stopping ??= teardown());
  const teardown = async (): Promise<void> => {
    const steps = new TeardownSteps(log);
    const attempt = (what: string, fn: () => Promise<void> | void): Promise<void> => steps.attempt(what, fn);
    await attempt(`${options.crio ? 'CRI-O' : 'containerd'} teardown`, async () => containerd?.stop());
    await attempt('kube-apiserver stop', async () => apiserver?.stop());
    await attempt('etcd stop', async () => etcd?.stop());
    await attempt('bridge delete', () => deleteBridge(slot.network.bridge));
    await attempt('unmount', () => unmountUnder(workDir));
    if (!options.keepWorkDir) await attempt('work dir removal', () => rmSync(workDir, { recursive: true, force: true }));
    releaseSlot(slot);
    steps.finish('test bed teardown had errors');
  };
  try {
    const started = Date.now();
    [etcd, containerd] = await Promise.all([
      startEtcd({ bin: options.binaries.etcd, dir: workDir }),
      options.crio ? startCrio({ dir: workDir, network: slot.network, binaries: options.crio }) : startContainerd({ dir: workDir, network: slot.network }),
    ]);
    slot.pids = pids();
    if (options.crio) slot.crio = options.crio.crio;
    else slot.containerdSocket = containerd.socket;
    updateSlot(slot);
    apiserver = await startKubeApiserver({ bin: options.binaries.kubeApiserver, dir: workDir, etcdUrl: etcd.url });
    slot.pids = pids();
    updateSlot(slot);
    await applyCrds(adminKubeConfig(apiserver.kubeconfig));
    log(`testbed: up in ${Date.now() - started} ms (slot ${slot.slot}, ${workDir})`);
    const env: TestbedEnv = Object.freeze({
      kubeconfig: apiserver.kubeconfig,
      apiserverUrl: apiserver.url,
      adminToken: apiserver.adminToken,
      containerdSocket: containerd.socket,
      criRuntime: options.crio ? 'cri-o' : 'containerd',
      workDir,
      prometheusBin: options.binaries.prometheus,
      promtoolBin: options.binaries.promtool,
      helmBin: options.binaries.helm,
      serviceAccountIssuer: apiserver.serviceAccountIssuer,
    });
    slot.env = testbedEnvVars(env);
    updateSlot(slot);
    return { env, slot, pids, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}

/**
 * A runner that died left its processes and sandboxes: restart its containerd on the same root to remove
 * the sandboxes through CRI, then stop the recorded processes (only those whose command line still names
 * the dead bed's work dir, so a reused PID is never hit).
 */
export async function cleanupStaleSlot(state: SlotState, log: (line: string) => void): Promise<void> {
  const own = state.pids.filter((pid) => pidAlive(pid) && commandLineMentions(pid, state.workDir));
  for (const pid of own) process.kill(pid, 'SIGKILL');
  await waitFor(() => own.every((pid) => !pidAlive(pid)), { timeoutMs: STALE_PROCESS_EXIT_TIMEOUT_MS, what: 'stale bed processes to exit' });
  if (state.containerdSocket) {
    try {
      const containerd = new ManagedProcess('containerd (cleanup)', 'containerd', ['--config', join(state.workDir, 'containerd', 'config.toml')], { logFile: join(state.workDir, 'containerd-cleanup.log') });
      const cri = new CriClient(state.containerdSocket);
      try {
        await waitFor(async () => (await cri.version()).runtimeApiVersion !== '', { timeoutMs: 30_000, what: 'containerd (cleanup) CRI' });
        await removeAllSandboxes(cri);
      } finally {
        cri.close();
        await containerd.stop();
        await stopOwnShims(state.containerdSocket);
      }
    } catch (err) {
      log(`testbed: containerd cleanup of ${state.workDir} failed: ${(err as Error).message}`);
    }
  }
  if (state.crio) await cleanupStaleCrio(state, log);
  if (state.cluster) {
    // Its kube-proxy (and kube-router, --netpol) are dead now: nothing re-adds the chains or the ipsets.
    for (const left of undoClusterHostChanges()) log(`testbed: cluster host cleanup: ${left}`);
    releaseClusterLock(state.ownerPid);
  }
  deleteBridge(state.network.bridge);
  unmountUnder(state.workDir);
  rmSync(state.workDir, { recursive: true, force: true });
}

/** Like containerd's: CRI-O restarted on the dead bed's config removes its sandboxes, then its conmons go. */
async function cleanupStaleCrio(state: SlotState, log: (line: string) => void): Promise<void> {
  const dir = join(state.workDir, 'crio');
  const paths = crioPaths(dir);
  try {
    const crio = new ManagedProcess('crio (cleanup)', state.crio!, ['--config', paths.config, '--config-dir', ''], { logFile: join(state.workDir, 'crio-cleanup.log'), env: { ...process.env, ...paths.env } });
    const cri = new CriClient(paths.socket);
    try {
      await waitFor(async () => (await cri.version()).runtimeApiVersion !== '', { timeoutMs: 60_000, what: 'CRI-O (cleanup) CRI' });
    } finally {
      await teardownCrio(cri, crio, dir);
    }
  } catch (err) {
    log(`testbed: CRI-O cleanup of ${state.workDir} failed: ${(err as Error).message}`);
  }
}

function commandLineMentions(pid: number, text: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
  } catch {
    return false;
  }
}
