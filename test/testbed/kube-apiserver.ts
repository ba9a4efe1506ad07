// kube-apiserver for the bed on 127.0.0.1: self-signed serving cert (--cert-dir), static admin token in
// system:masters, RBAC, service-account tokens signed by our RSA key with audiences okg-sq + the issuer.
// The cluster mode binds it to the bed's bridge gateway instead, where pods reach it through the
// `kubernetes` Service (docs/design.md, "The test bed's cluster mode").
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeControlPlaneSecrets } from './certs.js';
import { freePort } from './free-port.js';
import { httpGet } from './https-get.js';
import { ManagedProcess } from './managed-process.js';
import { withPortRetry } from './port-retry.js';
import { waitFor } from './wait-for.js';

const APISERVER_READY_TIMEOUT_MS = 120_000; // first start migrates storage; slow on 2 busy cores
/** The audience okg-sq's agents request for their tokens (OKGSQ_TOKEN_AUDIENCE's default). */
export const OKGSQ_TOKEN_AUDIENCE = 'okg-sq';

export interface ApiserverOptions {
  bin: string;
  dir: string;
  etcdUrl: string;
  /** Address to bind and advertise (default 127.0.0.1, with no endpoint reconciler). */
  address?: string;
  /** Default 10.0.0.0/24. */
  serviceClusterIpRange?: string;
  /** More flags, e.g. an audit log (the cluster bed's --okg). */
  extraArgs?: readonly string[];
}

export interface RunningApiserver {
  url: string;
  adminToken: string;
  /** PEM bundle that verifies the serving cert. */
  caPem: string;
  serviceAccountIssuer: string;
  kubeconfig: string;
  serviceAccountPrivateKeyFile: string;
  /** The self-signed serving certificate (also the CA that verifies it). */
  certFile: string;
  process: ManagedProcess;
  stop(): Promise<void>;
}

export function startKubeApiserver(options: ApiserverOptions): Promise<RunningApiserver> {
  return withPortRetry((attempt) => startOnce(options, attempt));
}

async function startOnce(options: ApiserverOptions, attempt: number): Promise<RunningApiserver> {
  const dir = join(options.dir, attempt === 1 ? 'apiserver' : `apiserver-${attempt}`);
  const certDir = join(dir, 'certs');
  mkdirSync(certDir, { recursive: true });
  const secrets = writeControlPlaneSecrets(dir);
  const port = await freePort();
  const address = options.address ?? '127.0.0.1';
  const url = `https://${address}:${port}`;
  const serviceAccountIssuer = `${url}/`;
  const proc = new ManagedProcess('kube-apiserver', options.bin, [
    `--etcd-servers=${options.etcdUrl}`,
    `--etcd-prefix=/registry`,
    `--bind-address=${address}`,
    `--secure-port=${port}`,
    // Without --advertise-address it picks the default-route address; on loopback it also needs no
    // endpoint reconciler (it refuses a loopback endpoint for the `kubernetes` Service).
    `--advertise-address=${address}`,
    ...(address === '127.0.0.1' ? ['--endpoint-reconciler-type=none'] : ['--kubelet-preferred-address-types=InternalIP']),
    `--cert-dir=${certDir}`,
    `--token-auth-file=${secrets.tokenAuthFile}`,
    '--authorization-mode=RBAC',
    `--service-cluster-ip-range=${options.serviceClusterIpRange ?? '10.0.0.0/24'}`,
    '--allow-privileged=true',
    `--service-account-issuer=${serviceAccountIssuer}`,
    `--service-account-key-file=${secrets.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${secrets.serviceAccountPrivateKeyFile}`,
    `--api-audiences=${OKGSQ_TOKEN_AUDIENCE},${serviceAccountIssuer}`,
    '--profiling=false',
    '--v=1',
    ...(options.extraArgs ?? []),
  ], { logFile: join(dir, 'kube-apiserver.log') });
  try {
    const caPem = await waitFor(() => {
      proc.assertRunning();
      try {
        return readFileSync(join(certDir, 'apiserver.crt'), 'utf8');
      } catch {
        return undefined;
      }
    }, { timeoutMs: APISERVER_READY_TIMEOUT_MS, what: 'kube-apiserver serving cert' });
    await waitFor(async () => {
      proc.assertRunning();
      const ready = await httpGet(`${url}/readyz`, { ca: caPem, token: secrets.adminToken });
      if (ready.status !== 200) return false;
      const ns = await httpGet(`${url}/api/v1/namespaces/default`, { ca: caPem, token: secrets.adminToken });
      return ns.status === 200;
    }, { timeoutMs: APISERVER_READY_TIMEOUT_MS, intervalMs: 200, what: 'kube-apiserver /readyz and namespace default' });
    const kubeconfig = join(options.dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigYaml(url, caPem, secrets.adminToken), { mode: 0o600 });
    return {
      url, adminToken: secrets.adminToken, caPem, serviceAccountIssuer, kubeconfig, process: proc, stop: () => proc.stop(),
      serviceAccountPrivateKeyFile: secrets.serviceAccountPrivateKeyFile, certFile: join(certDir, 'apiserver.crt'),
    };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

function kubeconfigYaml(server: string, caPem: string, token: string): string {
  const ca = Buffer.from(caPem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: okgsq-testbed',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${ca}`,
    'users:',
    '- name: okgsq-testbed-admin',
    '  user:',
    `    token: ${token}`,
    'contexts:',
    '- name: okgsq-testbed',
    '  context:',
    '    cluster: okgsq-testbed',
    '    user: okgsq-testbed-admin',
    'current-context: okgsq-testbed',
    '',
  ].join('\n');
}
