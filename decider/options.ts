// The decider's options, from the environment variables the chart sets; validated once, frozen.
import { badOption, envBool, envInt, envLogLevel, envNumber, envString, type Env, type LogLevel } from '../common/env-options.js';

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

export function deciderOptions(env: Env = process.env): DeciderOptions {
  const leaderElection = envBool(env, 'OKGSQ_LEADER_ELECTION', true);
  const podName = envString(env, 'POD_NAME', '');
  const podNamespace = envString(env, 'POD_NAMESPACE', '');
  if (leaderElection && !podName) badOption('POD_NAME', env.POD_NAME ?? '', 'required with OKGSQ_LEADER_ELECTION=true (the lease holder identity)');
  if (leaderElection && !podNamespace) badOption('POD_NAMESPACE', env.POD_NAMESPACE ?? '', 'required with OKGSQ_LEADER_ELECTION=true (where the lease lives)');
  const certFile = envString(env, 'OKGSQ_TLS_CERT_FILE', '');
  const keyFile = envString(env, 'OKGSQ_TLS_KEY_FILE', '');
  const insecure = envBool(env, 'OKGSQ_INSECURE_GRPC', false);
  let tls: DeciderOptions['tls'];
  if (certFile && keyFile) tls = { certFile, keyFile };
  else if (certFile || keyFile) badOption(certFile ? 'OKGSQ_TLS_KEY_FILE' : 'OKGSQ_TLS_CERT_FILE', '', 'set both OKGSQ_TLS_CERT_FILE and OKGSQ_TLS_KEY_FILE, or neither');
  else if (insecure) tls = 'insecure';
  else badOption('OKGSQ_TLS_CERT_FILE', '', 'required unless OKGSQ_INSECURE_GRPC=true');
  const logLevel = envLogLevel(env, 'OKGSQ_LOG_LEVEL');
  const namespaces = envString(env, 'OKGSQ_NAMESPACES', '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const ns of namespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) badOption('OKGSQ_NAMESPACES', env.OKGSQ_NAMESPACES ?? '', `${JSON.stringify(ns)} is not a namespace name`);
  const agentNamespace = envString(env, 'OKGSQ_AGENT_NAMESPACE', podNamespace);
  const qps = envNumber(env, 'OKGSQ_KUBE_QPS', 50, 0.1, 100_000);
  const burst = envInt(env, 'OKGSQ_KUBE_BURST', 100, 1, 100_000);
  return Object.freeze({
    podName,
    podNamespace,
    namespaces: Object.freeze(namespaces),
    grpcPort: envInt(env, 'OKGSQ_GRPC_PORT', 9443, 0, 65535),
    httpPort: envInt(env, 'OKGSQ_HTTP_PORT', 8080, 0, 65535),
    tls: tls!,
    tokenAudience: envString(env, 'OKGSQ_TOKEN_AUDIENCE', 'okg-sq'),
    agentNamespace,
    agentServiceAccount: envString(env, 'OKGSQ_AGENT_SERVICE_ACCOUNT', 'okg-sq-agent'),
    kubeQps: qps,
    kubeBurst: burst,
    writeConcurrency: envInt(env, 'OKGSQ_WRITE_CONCURRENCY', 8, 1, 1024),
    flushWindowMs: envInt(env, 'OKGSQ_FLUSH_WINDOW_MS', 20, 0, 60_000),
    leaderElection,
    leaseName: envString(env, 'OKGSQ_LEASE_NAME', 'okg-sq-decider'),
    leaseDurationSeconds: envInt(env, 'OKGSQ_LEASE_DURATION_SECONDS', 10, 2, 3600),
    agentlessNodeSelector: env.OKGSQ_AGENTLESS_NODE_SELECTOR === undefined ? 'type=virtual-kubelet' : env.OKGSQ_AGENTLESS_NODE_SELECTOR.trim(),
    remoteExec: envBool(env, 'OKGSQ_REMOTE_EXEC', false),
    agentStaleSeconds: envInt(env, 'OKGSQ_AGENT_STALE_SECONDS', 60, 1, 86_400),
    logLevel,
    kubeconfig: envString(env, 'KUBECONFIG', ''),
  });
}
