// The decider's options, from the environment variables the chart sets; validated once, frozen.
import { OkgSqError, ERROR_CODES } from '../common/errors.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DeciderOptions {
  readonly podName: string;
  readonly podNamespace: string;
  /** Empty: all namespaces. */
  readonly namespaces: readonly string[];
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | 'insecure';
  readonly tokenAudience: string;
  readonly agentNamespace: string;
  readonly agentServiceAccount: string;
  readonly kubeQps: number;
  readonly kubeBurst: number;
  readonly writeConcurrency: number;
  readonly flushWindowMs: number;
  readonly leaderElection: boolean;
  readonly leaseName: string;
  readonly leaseDurationSeconds: number;
  readonly agentlessNodeSelector: string;
  readonly remoteExec: boolean;
  readonly agentStaleSeconds: number;
  readonly logLevel: LogLevel;
  /** Empty: in-cluster configuration. */
  readonly kubeconfig: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function bad(name: string, value: string, want: string): never {
  throw new OkgSqError(ERROR_CODES.INVALID_OPTION, `${name}=${JSON.stringify(value)}: ${want}`);
}

function str(env: Env, name: string, fallback: string): string {
  const v = env[name];
  return v === undefined || v.trim() === '' ? fallback : v.trim();
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?[0-9]+$/.test(raw.trim())) bad(name, raw, `want an integer in ${min}..${max}`);
  const n = Number(raw);
  if (n < min || n > max) bad(name, raw, `want an integer in ${min}..${max}`);
  return n;
}

function num(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) bad(name, raw, `want a number in ${min}..${max}`);
  return n;
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  return bad(name, raw, 'want true or false');
}

export function deciderOptions(env: Env = process.env): DeciderOptions {
  const leaderElection = bool(env, 'OKGSQ_LEADER_ELECTION', true);
  const podName = str(env, 'POD_NAME', '');
  const podNamespace = str(env, 'POD_NAMESPACE', '');
  if (leaderElection && !podName) bad('POD_NAME', env.POD_NAME ?? '', 'required with OKGSQ_LEADER_ELECTION=true (the lease holder identity)');
  if (leaderElection && !podNamespace) bad('POD_NAMESPACE', env.POD_NAMESPACE ?? '', 'required with OKGSQ_LEADER_ELECTION=true (where the lease lives)');
  const certFile = str(env, 'OKGSQ_TLS_CERT_FILE', '');
  const keyFile = str(env, 'OKGSQ_TLS_KEY_FILE', '');
  const insecure = bool(env, 'OKGSQ_INSECURE_GRPC', false);
  let tls: DeciderOptions['tls'];
  if (certFile && keyFile) tls = { certFile, keyFile };
  else if (certFile || keyFile) bad(certFile ? 'OKGSQ_TLS_KEY_FILE' : 'OKGSQ_TLS_CERT_FILE', '', 'set both OKGSQ_TLS_CERT_FILE and OKGSQ_TLS_KEY_FILE, or neither');
  else if (insecure) tls = 'insecure';
  else bad('OKGSQ_TLS_CERT_FILE', '', 'required unless OKGSQ_INSECURE_GRPC=true');
  const logLevel = str(env, 'OKGSQ_LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) bad('OKGSQ_LOG_LEVEL', logLevel, `want one of ${LOG_LEVELS.join(', ')}`);
  const namespaces = str(env, 'OKGSQ_NAMESPACES', '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of namespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) bad('OKGSQ_NAMESPACES', env.OKGSQ_NAMESPACES ?? '', `${JSON.stringify(ns)} is not a namespace name`);
  const agentNamespace = str(env, 'OKGSQ_AGENT_NAMESPACE', podNamespace);
  const qps = num(env, 'OKGSQ_KUBE_QPS', 50, 0.1, 100_000);
  const burst = int(env, 'OKGSQ_KUBE_BURST', 100, 1, 100_000);
  return Object.freeze({
    podName,
    podNamespace,
    namespaces: Object.freeze(namespaces),
    grpcPort: int(env, 'OKGSQ_GRPC_PORT', 9443, 0, 65535),
    httpPort: int(env, 'OKGSQ_HTTP_PORT', 8080, 0, 65535),
    tls: tls!,
    tokenAudience: str(env, 'OKGSQ_TOKEN_AUDIENCE', 'okg-sq'),
    agentNamespace,
    agentServiceAccount: str(env, 'OKGSQ_AGENT_SERVICE_ACCOUNT', 'okg-sq-agent'),
    kubeQps: qps,
    kubeBurst: burst,
    writeConcurrency: int(env, 'OKGSQ_WRITE_CONCURRENCY', 8, 1, 1024),
    flushWindowMs: int(env, 'OKGSQ_FLUSH_WINDOW_MS', 20, 0, 60_000),
    leaderElection,
    leaseName: str(env, 'OKGSQ_LEASE_NAME', 'okg-sq-decider'),
    leaseDurationSeconds: int(env, 'OKGSQ_LEASE_DURATION_SECONDS', 15, 2, 3600),
    agentlessNodeSelector: env.OKGSQ_AGENTLESS_NODE_SELECTOR === undefined ? 'type=virtual-kubelet' : env.OKGSQ_AGENTLESS_NODE_SELECTOR.trim(),
    remoteExec: bool(env, 'OKGSQ_REMOTE_EXEC', false),
    agentStaleSeconds: int(env, 'OKGSQ_AGENT_STALE_SECONDS', 60, 1, 86_400),
    logLevel: logLevel as LogLevel,
    kubeconfig: str(env, 'KUBECONFIG', ''),
  });
}
