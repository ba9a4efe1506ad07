// A private etcd + kube-apiserver for the fault tier, separate from the bed's (whose processes belong to
// the bed's runner): same binaries and flags as test/testbed, but on ports and data dirs fixed at first
// start, so each component can be stopped and started again as the same member / the same server
// (a restart, not a replacement: same data, same serving cert, same admin token, same SA signing key).
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeControlPlaneSecrets, type ControlPlaneSecrets } from '../testbed/certs.js';
import { applyCrds } from '../testbed/crds.js';
import { freePort } from '../testbed/free-port.js';
import { httpGet } from '../testbed/https-get.js';
import { adminKubeConfig } from '../testbed/kube.js';
import { OKGSQ_TOKEN_AUDIENCE } from '../testbed/kube-apiserver.js';
import { ManagedProcess } from '../testbed/managed-process.js';
import { repoRoot } from '../testbed/repo-root.js';
import { waitFor } from '../testbed/wait-for.js';

const READY_TIMEOUT_MS = 120_000;

/** The Go-built binaries, reused from the cache (scripts/build-testbed.sh builds only what is missing). */
function binaries(): { etcd: string; kubeApiserver: string } {
  const out = execFileSync('bash', [join(repoRoot(import.meta.url), 'scripts', 'build-testbed.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const built = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=', 2) as [string, string]));
  if (!built.etcd || !built['kube-apiserver']) throw new Error('scripts/build-testbed.sh did not report etcd and kube-apiserver');
  return { etcd: built.etcd, kubeApiserver: built['kube-apiserver'] };
}

export class PrivateControlPlane {
  readonly dir: string;
  readonly apiserverUrl: string;
  readonly etcdUrl: string;
  readonly kubeconfig: string;
  caPem = '';
  readonly adminToken: string;
  private etcd: ManagedProcess | undefined;
  private apiserver: ManagedProcess | undefined;
  private readonly secrets: ControlPlaneSecrets;

  private constructor(
    private readonly bins: { etcd: string; kubeApiserver: string },
    parent: string,
    private readonly ports: { etcdClient: number; etcdPeer: number; apiserver: number },
  ) {
    this.dir = mkdtempSync(join(parent, 'fault-cp-'));
    mkdirSync(join(this.dir, 'apiserver', 'certs'), { recursive: true });
    this.secrets = writeControlPlaneSecrets(join(this.dir, 'apiserver'));
    this.adminToken = this.secrets.adminToken;
    this.etcdUrl = `http://127.0.0.1:${ports.etcdClient}`;
    this.apiserverUrl = `https://127.0.0.1:${ports.apiserver}`;
    this.kubeconfig = join(this.dir, 'kubeconfig');
  }

  /** Starts both, installs the OKG CRDs. `parent`: a scratch dir (the bed's work dir). */
  static async start(parent: string): Promise<PrivateControlPlane> {
    const cp = new PrivateControlPlane(binaries(), parent, { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() });
    // The bed's cleanup knows only the bed's own processes: if this test process dies without its after
    // hooks, take these two with it.
    const killOnExit = (): void => {
      for (const p of [cp.apiserver, cp.etcd]) if (p?.running) process.kill(p.pid, 'SIGKILL');
    };
    process.once('exit', killOnExit);
    try {
      await cp.startEtcd();
      await cp.startApiserver();
      await applyCrds(adminKubeConfig(cp.kubeconfig));
    } catch (err) {
      await cp.stop();
      throw err;
    }
    return cp;
  }

  async startEtcd(): Promise<void> {
    const peer = `http://127.0.0.1:${this.ports.etcdPeer}`;
    this.etcd = new ManagedProcess('etcd (fault)', this.bins.etcd, [
      '--name=okgsq-fault',
      `--data-dir=${join(this.dir, 'etcd-data')}`,
      `--listen-client-urls=${this.etcdUrl}`,
      `--advertise-client-urls=${this.etcdUrl}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=okgsq-fault=${peer}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ], { logFile: join(this.dir, 'etcd.log') });
    const proc = this.etcd;
    await waitFor(async () => {
      proc.assertRunning();
      const res = await httpGet(`${this.etcdUrl}/health`);
      return res.status === 200 && res.body.includes('"health":"true"');
    }, { timeoutMs: READY_TIMEOUT_MS, what: 'etcd (fault) /health' });
  }

  async stopEtcd(): Promise<void> {
    await this.etcd?.stop();
    this.etcd = undefined;
  }

  async startApiserver(): Promise<void> {
    const dir = join(this.dir, 'apiserver');
    const issuer = `${this.apiserverUrl}/`;
    this.apiserver = new ManagedProcess('kube-apiserver (fault)', this.bins.kubeApiserver, [
      `--etcd-servers=${this.etcdUrl}`,
      '--etcd-prefix=/registry',
      '--bind-address=127.0.0.1',
      `--secure-port=${this.ports.apiserver}`,
      '--advertise-address=127.0.0.1',
      '--endpoint-reconciler-type=none',
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${this.secrets.tokenAuthFile}`,
      '--authorization-mode=RBAC',
      '--service-cluster-ip-range=10.0.0.0/24',
      '--allow-privileged=true',
      `--service-account-issuer=${issuer}`,
      `--service-account-key-file=${this.secrets.serviceAccountPublicKeyFile}`,
      `--service-account-signing-key-file=${this.secrets.serviceAccountPrivateKeyFile}`,
      `--api-audiences=${OKGSQ_TOKEN_AUDIENCE},${issuer}`,
      '--profiling=false',
      '--v=1',
    ], { logFile: join(dir, 'kube-apiserver.log') });
    const proc = this.apiserver;
    // The self-signed serving cert is kept in --cert-dir, so a restart serves the same one.
    this.caPem = await waitFor(() => {
      proc.assertRunning();
      try {
        return readFileSync(join(dir, 'certs', 'apiserver.crt'), 'utf8');
      } catch {
        return undefined;
      }
    }, { timeoutMs: READY_TIMEOUT_MS, what: 'kube-apiserver (fault) serving cert' });
    await this.waitReady();
    writeFileSync(this.kubeconfig, kubeconfigYaml(this.apiserverUrl, this.caPem, this.adminToken), { mode: 0o600 });
  }

  async waitReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    await waitFor(async () => {
      this.apiserver?.assertRunning();
      const ready = await httpGet(`${this.apiserverUrl}/readyz`, { ca: this.caPem, token: this.adminToken });
      if (ready.status !== 200) return false;
      const ns = await httpGet(`${this.apiserverUrl}/api/v1/namespaces/default`, { ca: this.caPem, token: this.adminToken });
      return ns.status === 200;
    }, { timeoutMs, intervalMs: 200, what: 'kube-apiserver (fault) /readyz' });
  }

  async stopApiserver(): Promise<void> {
    await this.apiserver?.stop();
    this.apiserver = undefined;
  }

  async stop(): Promise<void> {
    await this.stopApiserver().catch(() => {});
    await this.stopEtcd().catch(() => {});
    if (process.env.OKGSQ_TB_KEEP !== '1') rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A kubeconfig for `server` (the fault proxy's http URL, or the apiserver itself) with the admin token. */
export function kubeconfigYaml(server: string, caPem: string | undefined, token: string): string {
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:', '- name: fault', '  cluster:', `    server: ${server}`];
  if (caPem) lines.push(`    certificate-authority-data: ${Buffer.from(caPem).toString('base64')}`);
  // client-node refuses a plain-http server unless TLS verification is off (loopback proxy, tests only).
  else lines.push('    insecure-skip-tls-verify: true');
  lines.push('users:', '- name: admin', '  user:', `    token: ${token}`, 'contexts:', '- name: fault', '  context:', '    cluster: fault', '    user: admin', 'current-context: fault', '');
  return lines.join('\n');
}
