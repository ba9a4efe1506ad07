// The agent's options, from the environment variables the chart sets; validated once, frozen.
import { ERROR_CODES, OkgSqError } from '../common/errors.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
  const n = Number(raw.trim());
  if (!/^[0-9]+$/.test(raw.trim()) || n < min || n > max) bad(name, raw, `want an integer in ${min}..${max}`);
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

export function agentOptions(env: Env = process.env): AgentOptions {
  const nodeName = str(env, 'OKGSQ_NODE_NAME', '');
  if (!nodeName) bad('OKGSQ_NODE_NAME', env.OKGSQ_NODE_NAME ?? '', 'required (the chart sets it from spec.nodeName)');
  const deciderAddress = str(env, 'OKGSQ_DECIDER_ADDRESS', '');
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):[0-9]{1,5}$/.test(deciderAddress)) {
    bad('OKGSQ_DECIDER_ADDRESS', env.OKGSQ_DECIDER_ADDRESS ?? '', 'required, want host:port');
  }
  const insecure = bool(env, 'OKGSQ_INSECURE_GRPC', false);
  const caFile = str(env, 'OKGSQ_TLS_CA_FILE', '');
  let tls: AgentOptions['tls'];
  if (caFile) tls = { caFile, serverName: str(env, 'OKGSQ_TLS_SERVER_NAME', '') };
  else if (insecure) tls = 'insecure';
  else bad('OKGSQ_TLS_CA_FILE', env.OKGSQ_TLS_CA_FILE ?? '', 'required unless OKGSQ_INSECURE_GRPC=true');
  const logLevel = str(env, 'OKGSQ_LOG_LEVEL', 'info');
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) bad('OKGSQ_LOG_LEVEL', logLevel, `want one of ${LOG_LEVELS.join(', ')}`);
  return Object.freeze({
    nodeName,
    deciderAddress,
    tls: typeof tls === 'string' ? tls : Object.freeze(tls),
    tokenFile: str(env, 'OKGSQ_TOKEN_FILE', '/var/run/secrets/okg-sq/token'),
    criEndpoint: str(env, 'OKGSQ_CRI_ENDPOINT', ''),
    httpPort: int(env, 'OKGSQ_HTTP_PORT', 9090, 0, 65535),
    maxConcurrentExecs: int(env, 'OKGSQ_MAX_CONCURRENT_EXECS', 16, 1, 1024),
    resyncSeconds: int(env, 'OKGSQ_RESYNC_SECONDS', 60, 1, 86_400),
    logLevel: logLevel as LogLevel,
  });
}
