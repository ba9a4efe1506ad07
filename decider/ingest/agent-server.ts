// The grpc-js server the agents connect to: TLS from files (re-read when they change, so a rotated
// certificate needs no restart), keepalive to notice dead agents, and bounded message sizes.
import { experimental, Server, ServerCredentials, type ServerOptions } from '@grpc/grpc-js';
import { ERROR_CODES, OkgSqError } from '../../common/errors.js';
import { systemClock } from '../../common/clock.js';
import { LOG } from '../../common/log-fields.js';
import { agentServiceDefinition } from './agent-message.js';
import { AgentService, type AgentServiceOptions } from './agent-service.js';

/** A batch of 10k outcomes with 1 KiB results is ~11 MiB; agents batch far smaller, so 4 MiB bounds abuse. */
export const MAX_AGENT_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Plans are chunked (common/wire/plan.ts) well below this. */
export const MAX_PLAN_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Ping idle agents so a node that vanished is noticed in about a minute, not at TCP's hours. */
const KEEPALIVE_TIME_MS = 30_000;
const KEEPALIVE_TIMEOUT_MS = 10_000;
/** Agents may ping us as often as this without being called abusive. */
const MIN_AGENT_PING_INTERVAL_MS = 10_000;
/** A connection without a stream for this long is closed. Agents always hold a stream; what this
 * reaps are connections grpc-js clients leave behind (a closed channel's subchannel reconnects once and
 * keeps the connection unused, see agent/report/reporter.ts). */
export const MAX_CONNECTION_IDLE_MS = 5 * 60_000;
/** How often the TLS files are re-read. */
export const TLS_REFRESH_INTERVAL_MS = 60_000;

/** The service's own options (plans, sink, authenticator, metrics, logger, limits, serving, leader) plus the server's. */
export interface AgentServerOptions extends AgentServiceOptions {
  readonly port: number;
  /** Default 0.0.0.0 (all interfaces); tests pass 127.0.0.1. */
  readonly host?: string;
  readonly tls: { readonly certFile: string; readonly keyFile: string } | 'insecure';
  /** How often the TLS files are re-read (default TLS_REFRESH_INTERVAL_MS). */
  readonly tlsRefreshIntervalMs?: number;
}

export interface AgentServer {
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  readonly service: AgentService;
  /** Starts accepting agent streams (became leader). */
  activate(): void;
  /** Stops accepting and ends open streams with UNAVAILABLE (lost leadership, shutting down). */
  deactivate(): Promise<void>;
  /** Deactivates, then shuts the server down (forcibly after a short grace). */
  stop(): Promise<void>;
}

const CLOSE_GRACE_MS = 2_000;

function credentials(tls: AgentServerOptions['tls'], refreshIntervalMs: number): ServerCredentials {
  if (tls === 'insecure') return ServerCredentials.createInsecure();
  const provider = new experimental.FileWatcherCertificateProvider({
    certificateFile: tls.certFile,
    privateKeyFile: tls.keyFile,
    refreshIntervalMs,
  });
  // grpc-js names its parameters oddly: the first is the identity (our cert), the second the CA for
  // client certificates, which agents do not present (they authenticate with their token).
  return experimental.createCertificateProviderServerCredentials(provider, null, false);
}

export async function startAgentServer(options: AgentServerOptions): Promise<AgentServer> {
  const logger = options.logger.child({ [LOG.component]: 'agent-server' });
  const service = new AgentService({ ...options, logger: options.logger });
  const serverOptions: ServerOptions = {
    'grpc.max_receive_message_length': MAX_AGENT_MESSAGE_BYTES,
    'grpc.max_send_message_length': MAX_PLAN_MESSAGE_BYTES,
    'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
    'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': MIN_AGENT_PING_INTERVAL_MS,
    'grpc.max_connection_idle_ms': MAX_CONNECTION_IDLE_MS,
  };
  const server = new Server(serverOptions);
  server.addService(agentServiceDefinition, service.implementation);
  const host = options.host ?? '0.0.0.0';
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port}`, credentials(options.tls, options.tlsRefreshIntervalMs ?? TLS_REFRESH_INTERVAL_MS), (err, bound) => {
      if (err) {
        reject(new OkgSqError(ERROR_CODES.INVALID_OPTION, `cannot listen for agents on ${host}:${options.port}: ${err.message}`, { cause: err }));
      } else {
        resolve(bound);
      }
    });
  });
  logger.info({ port, tls: options.tls !== 'insecure' }, 'agent server listening');

  let closed: Promise<void> | undefined;
  return {
    port,
    service,
    activate: () => service.activate(),
    deactivate: () => service.deactivate(),
    stop: () => {
      closed ??= (async () => {
        await service.deactivate();
        await new Promise<void>((resolve) => {
          const force = (options.clock ?? systemClock).setTimeout(() => {
            server.forceShutdown();
            resolve();
          }, CLOSE_GRACE_MS);
          server.tryShutdown(() => {
            force.cancel();
            resolve();
          });
        });
      })();
      return closed;
    },
  };
}
