// The test bed's command line.
//   up                 start a bed, print its env (export lines), run until Ctrl-C or `down`
//   down               stop the bed started by `up` (and clean up beds whose runner died)
//   cleanup            only clean up beds whose runner died (leaves running beds alone)
//   run -- <cmd…>      ensure prerequisites, start a bed, run cmd with OKGSQ_TB_* set, tear down, exit with cmd's code
// `up` and `run` take --cluster (a real kubelet cluster, cluster-bed.ts; prints KUBECONFIG=<path> on its own
// line) and, with it, --install (the images built from the Dockerfiles and `helm install` of charts/okg-sq)
// and --okg (OpenKruiseGame's stack from its Go modules, okg-stack.ts; kruise-daemon's probing off when
// --install is given too, on otherwise) and --netpol (kube-router's network-policy controller enforces
// NetworkPolicies; the bridge CNI alone ignores them). The plain bed's `--runtime cri-o` runs CRI-O instead of containerd
// (crio.ts); OKGSQ_TB_CONTAINERD_SOCKET is then CRI-O's socket.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureClusterBinaries, ensureKubeRouter, startClusterTestbed } from './cluster-bed.js';
import { testbedEnvVars } from './env.js';
import { pidAlive } from './managed-process.js';
import { ensureCrioBinaries, ensurePrerequisites } from './prerequisites.js';
import { listSlots, releaseSlot, stateDir, withSlotLock } from './slots.js';
import { cleanupStaleSlot, startTestbed, type RunningTestbed } from './testbed.js';
import { waitFor } from './wait-for.js';

const DOWN_TIMEOUT_MS = 120_000;
const EXIT_CODE_FOR_SIGNAL = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function upPidFile(): string {
  return join(stateDir(), 'up.pid');
}

/** Stops the bed once on SIGINT/SIGTERM or a crash of this runner, then exits. */
function stopOnExitSignals(bed: RunningTestbed, beforeStop: (signal?: NodeJS.Signals) => void = () => {}): void {
  let stopping = false;
  const shutdown = (code: number, signal?: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    beforeStop(signal);
    bed.stop().then(
      () => process.exit(code),
      (err) => {
        log(`testbed: teardown failed: ${(err as Error).message}`);
        process.exit(code || 1);
      },
    );
  };
  for (const signal of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.on(signal, () => shutdown(EXIT_CODE_FOR_SIGNAL[signal], signal));
  process.on('uncaughtException', (err) => {
    log(`testbed: runner crashed: ${err.stack ?? err.message}`);
    shutdown(1);
  });
  process.on('unhandledRejection', (err) => {
    log(`testbed: runner crashed: ${(err as Error)?.stack ?? String(err)}`);
    shutdown(1);
  });
}

interface BedFlags {
  cluster: boolean;
  install: boolean;
  okg: boolean;
  auditAll: boolean;
  /** The cluster bed enforces NetworkPolicies (kube-router's network-policy controller). */
  netpol: boolean;
  /** The plain bed's CRI runtime: containerd (default) or CRI-O (`--runtime cri-o`). */
  crio: boolean;
}

/** Splits `[--runtime containerd|cri-o] [--cluster] [--install] [--okg] [--audit-all] [--netpol] [--] rest…`. */
function parseFlags(args: string[]): { flags: BedFlags; rest: string[] } {
  const flags: BedFlags = { cluster: false, install: false, okg: false, auditAll: false, netpol: false, crio: false };
  let i = 0;
  for (; i < args.length; i++) {
    if (args[i] === '--cluster') flags.cluster = true;
    else if (args[i] === '--install') flags.install = true;
    else if (args[i] === '--okg') flags.okg = true;
    else if (args[i] === '--audit-all') flags.auditAll = true;
    else if (args[i] === '--netpol') flags.netpol = true;
    else if (args[i] === '--runtime' && ['containerd', 'cri-o'].includes(args[i + 1] ?? '')) flags.crio = args[++i] === 'cri-o';
    else if (args[i] === '--runtime') throw new Error('--runtime takes containerd or cri-o');
    else break;
  }
  if (flags.crio && flags.cluster) throw new Error('--runtime cri-o is for the plain bed (the cluster bed runs containerd)');
  if ((flags.install || flags.okg || flags.netpol) && !flags.cluster) throw new Error('--install, --okg and --netpol need --cluster');
  if (flags.auditAll && !flags.okg) throw new Error('--audit-all needs --cluster --okg');
  const rest = args.slice(args[i] === '--' ? i + 1 : i);
  return { flags, rest };
}

/** Starts a plain or a cluster bed; returns it with the variables its clients need. */
async function startBed(flags: BedFlags, keepWorkDir: boolean): Promise<{ bed: RunningTestbed; vars: Record<string, string> }> {
  const binaries = ensurePrerequisites(log);
  if (!flags.cluster) {
    const crio = flags.crio ? ensureCrioBinaries(log) : undefined;
    const bed = await startTestbed({ binaries, crio, log, keepWorkDir });
    return { bed, vars: testbedEnvVars(bed.env) };
  }
  const kubeRouter = flags.netpol ? ensureKubeRouter(log) : undefined;
  const bed = await startClusterTestbed({ binaries, cluster: ensureClusterBinaries(log), install: flags.install, okg: flags.okg, auditAll: flags.auditAll, kubeRouter, log, keepWorkDir });
  return { bed, vars: bed.vars() };
}

async function up(flags: BedFlags): Promise<void> {
  const { bed, vars } = await startBed(flags, false);
  mkdirSync(stateDir(), { recursive: true });
  writeFileSync(upPidFile(), String(process.pid));
  stopOnExitSignals(bed, () => rmSync(upPidFile(), { force: true }));
  process.stdout.write(`kubeconfig: ${bed.env.kubeconfig}\nCRI socket: ${bed.env.containerdSocket}\n`);
  for (const [name, value] of Object.entries(vars)) process.stdout.write(`export ${name}='${value}'\n`);
  process.stdout.write(`export KUBECONFIG='${bed.env.kubeconfig}'\n`);
  if (flags.cluster) process.stdout.write(`KUBECONFIG=${bed.env.kubeconfig}\n`);
  log('testbed: running; Ctrl-C or `node dist/test/testbed/cli.js down` stops it');
  // Keep the event loop alive until a signal arrives.
  setInterval(() => {}, 1 << 30);
}

async function down(): Promise<void> {
  let pid: number | undefined;
  try {
    pid = Number(readFileSync(upPidFile(), 'utf8').trim());
  } catch {
    pid = undefined;
  }
  if (pid && pidAlive(pid)) {
    log(`testbed: stopping bed runner ${pid}`);
    process.kill(pid, 'SIGTERM');
    await waitFor(() => !pidAlive(pid!), { timeoutMs: DOWN_TIMEOUT_MS, what: `bed runner ${pid} to exit` });
  } else {
    log('testbed: no running bed started by `up`');
  }
  rmSync(upPidFile(), { force: true });
  await cleanup();
}

async function cleanup(): Promise<void> {
  await withSlotLock(async () => {
    for (const slot of listSlots()) {
      if (pidAlive(slot.ownerPid)) continue;
      log(`testbed: cleaning up slot ${slot.slot} left by dead runner ${slot.ownerPid}`);
      await cleanupStaleSlot(slot, log);
      releaseSlot(slot);
    }
  });
}

async function run(flags: BedFlags, command: string[]): Promise<void> {
  if (command.length === 0) throw new Error('usage: cli.js run [--runtime containerd|cri-o | --cluster [--install] [--okg [--audit-all]] [--netpol]] -- <command…>');
  const { bed, vars } = await startBed(flags, process.env.OKGSQ_TB_KEEP === '1');
  let child: ReturnType<typeof spawn> | undefined;
  stopOnExitSignals(bed, (signal) => {
    if (signal && child && child.exitCode === null) child.kill(signal);
  });
  child = spawn(command[0]!, command.slice(1), { stdio: 'inherit', env: { ...process.env, ...vars } });
  const code = await new Promise<number>((resolve) => {
    child!.once('error', (err) => {
      log(`testbed: could not run ${command[0]}: ${err.message}`);
      resolve(127);
    });
    child!.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 128 + (constants.signals[signal] ?? 0) : 1)));
  });
  const stopStarted = Date.now();
  try {
    await bed.stop();
    log(`testbed: torn down in ${Date.now() - stopStarted} ms`);
  } catch (err) {
    log(`testbed: teardown failed: ${(err as Error).message}`);
    process.exit(code || 1);
  }
  process.exit(code);
}

async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  switch (verb) {
    case 'up':
      return up(parseFlags(rest).flags);
    case 'down':
      return down();
    case 'cleanup':
      return cleanup();
    case 'run': {
      const { flags, rest: command } = parseFlags(rest);
      return run(flags, command);
    }
    default:
      log('usage: cli.js up|run [--runtime containerd|cri-o | --cluster [--install] [--okg [--audit-all]] [--netpol]] [-- <command…>] | down | cleanup');
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((err: Error) => {
  log(`testbed: ${err.message}`);
  process.exit(1);
});
