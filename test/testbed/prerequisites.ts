// Makes sure the bed can start: Debian packages (installed by scripts/install-prereqs.sh when root) and
// the Go-built binaries (scripts/build-testbed.sh, cached outside the repo). A missing prerequisite is an
// error naming it, never a silent skip.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { CrioBinaries } from './crio.js';
import { repoRoot } from './repo-root.js';

export interface TestbedBinaries {
  etcd: string;
  kubeApiserver: string;
  helm: string;
  prometheus: string;
  promtool: string;
}

const REQUIRED_COMMANDS = ['containerd', 'runc', 'ctr', 'ip', 'tar', 'umount', 'prometheus', 'promtool'] as const;

function which(command: string): string | undefined {
  const res = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return res.status === 0 ? res.stdout.trim() : undefined;
}

export function ensurePrerequisites(log: (line: string) => void): TestbedBinaries {
  const root = repoRoot(import.meta.url);
  const install = spawnSync('bash', [join(root, 'scripts', 'install-prereqs.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (install.status !== 0) throw new Error('missing prerequisites: scripts/install-prereqs.sh failed (see above)');
  const missing = REQUIRED_COMMANDS.filter((c) => !which(c));
  if (missing.length > 0) throw new Error(`missing prerequisite commands: ${missing.join(', ')} (scripts/install-prereqs.sh installs them as root)`);
  if (process.getuid?.() !== 0) throw new Error('the test bed needs root (containerd, runc, CNI bridges)');
  log('testbed: building or reusing kube-apiserver, etcd and helm (scripts/build-testbed.sh)');
  const out = execFileSync('bash', [join(root, 'scripts', 'build-testbed.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const built = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  const need = (name: string): string => {
    const path = built[name];
    if (!path) throw new Error(`scripts/build-testbed.sh did not report ${name}`);
    return path;
  };
  return { etcd: need('etcd'), kubeApiserver: need('kube-apiserver'), helm: need('helm'), prometheus: which('prometheus')!, promtool: which('promtool')! };
}

/** CRI-O for `run --runtime cri-o` (scripts/build-testbed.sh crio; conmon and runc from install-prereqs.sh). */
export function ensureCrioBinaries(log: (line: string) => void): CrioBinaries {
  const root = repoRoot(import.meta.url);
  for (const command of ['conmon', 'runc']) {
    if (!which(command)) throw new Error(`missing prerequisite command: ${command} (scripts/install-prereqs.sh installs it as root)`);
  }
  log('testbed: building or reusing CRI-O (scripts/build-testbed.sh crio)');
  const out = execFileSync('bash', [join(root, 'scripts', 'build-testbed.sh'), 'crio'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const built = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  const { crio, 'crio-pinns': pinns, 'crio-copyimg': copyimg } = built;
  if (!crio || !pinns || !copyimg) throw new Error('scripts/build-testbed.sh crio did not report crio, crio-pinns and crio-copyimg');
  return { crio, pinns, copyimg };
}
