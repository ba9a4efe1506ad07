// The agent's options, from the environment variables the chart sets; validated once, frozen.
import { badOption, envBool, envInt, envLogLevel, envString, type Env, type LogLevel } from '../common/env-options.js';

export interface AgentOptions {
  readonly nodeName: string;
  /** host:port */
  readonly deciderAddress: string;
  /** TLS with the chart's CA (server name override optional), or plaintext only when asked for. */
  readonly tls: { readonly caFile: string; readonly serverName: string } | 'insecure';
  readonly tokenFile: string;
  /** Empty: detect containerd's or CRI-O's default socket. */
  readonly criEndpoint: string;
  readonly httpPort: number;
  readonly maxConcurrentExecs: number;
  readonly resyncSeconds: number;
  readonly logLevel: LogLevel;
}

export function agentOptions(env: Env = process.env): AgentOptions {
  const nodeName = envString(env, 'OKGSQ_NODE_NAME', '');
  if (!nodeName) badOption('OKGSQ_NODE_NAME', env.OKGSQ_NODE_NAME ?? '', 'required (the chart sets it from spec.nodeName)');
  const deciderAddress = envString(env, 'OKGSQ_DECIDER_ADDRESS', '');
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}$/.test(deciderAddress)) {
    badOption('OKGSQ_DECIDER_ADDRESS', env.OKGSQ_DECIDER_ADDRESS ?? '', 'required, want host:port');
  }
  const insecure = envBool(env, 'OKGSQ_INSECURE_GRPC', false);
  const caFile = envString(env, 'OKGSQ_TLS_CA_FILE', '');
  let tls: AgentOptions['tls'];
  if (caFile) tls = { caFile, serverName: envString(env, 'OKGSQ_TLS_SERVER_NAME', '') };
  else if (insecure) tls = 'insecure';
  else badOption('OKGSQ_TLS_CA_FILE', env.OKGSQ_TLS_CA_FILE ?? '', 'required unless OKGSQ_INSECURE_GRPC=true');
  const logLevel = envLogLevel(env, 'OKGSQ_LOG_LEVEL');
  return Object.freeze({
    nodeName,
    deciderAddress,
    tls: typeof tls === 'string' ? tls : Object.freeze(tls),
    tokenFile: envString(env, 'OKGSQ_TOKEN_FILE', '/var/run/secrets/okg-sq/token'),
    criEndpoint: envString(env, 'OKGSQ_CRI_ENDPOINT', ''),
    httpPort: envInt(env, 'OKGSQ_HTTP_PORT', 9090, 0, 65535),
    maxConcurrentExecs: envInt(env, 'OKGSQ_MAX_CONCURRENT_EXECS', 16, 1, 1024),
    resyncSeconds: envInt(env, 'OKGSQ_RESYNC_SECONDS', 60, 1, 86_400),
    logLevel,
  });
}
