// The agent's object graph: CRI runtime → probe engine → reporter (the stream to the decider), with its
// HTTP server, as a list of services started in order and stopped in reverse (docs/design.md §20 One
// lifecycle), the same shape as the decider's (decider/decider.ts). main.ts builds it with real
// dependencies; tests may build the same graph.
import { readFile } from 'node:fs/promises';
import type { Logger } from 'pino';
import { ServiceList } from '../common/lifecycle.js';
import { LOG } from '../common/log-fields.js';
import { ProbeEngine } from '../common/probe/probe-engine.js';
import { CriClient } from './cri/cri-client.js';
import { resolveCriEndpoint } from './cri/cri-endpoint.js';
import { CriExecRuntime } from './cri/cri-exec-runtime.js';
import { startHttpServer } from './http-server.js';
import { AgentMetrics } from './metrics.js';
import type { AgentOptions } from './options.js';
import { AgentReadiness } from './readiness.js';
import { channelCredentials } from './report/channel-credentials.js';
import { AgentReporter } from './report/reporter.js';
import { AGENT_VERSION } from './version.js';

export interface AgentDeps {
  readonly logger: Logger;
  /** Tests bind to 127.0.0.1. */
  readonly host?: string;
}

export interface Agent {
  readonly httpPort: number;
  /** SIGTERM: not ready → probing stops → the stream ends → the CRI connection and the server close. */
  stop(): Promise<void>;
}

export async function startAgent(options: AgentOptions, deps: AgentDeps): Promise<Agent> {
  const { logger } = deps;
  const log = logger.child({ [LOG.component]: 'agent' });
  let engine: ProbeEngine | undefined;
  const metrics = new AgentMetrics(() => engine?.size ?? 0);
  const endpoint = resolveCriEndpoint(options.criEndpoint);
  const cri = new CriClient(endpoint, { onCall: (method, code) => metrics.criCall(method, code) });
  const runtime = new CriExecRuntime(cri, { logger: logger.child({ [LOG.component]: 'cri' }) });
  let reporter: AgentReporter | undefined;
  engine = new ProbeEngine({
    exec: runtime,
    maxConcurrentExecs: options.maxConcurrentExecs,
    logger: logger.child({ [LOG.component]: 'probe' }),
    onOutcome: (outcome) => reporter?.offer(outcome),
    onRun: (run) => metrics.probeRun(run.outcome, run.errorKind, run.durationMs),
  });
  const { creds, channelOptions } = channelCredentials(options.tls);
  reporter = new AgentReporter({
    nodeName: options.nodeName,
    address: options.deciderAddress,
    credentials: creds,
    channelOptions,
    readToken: async () => {
      try {
        return await readFile(options.tokenFile, 'utf8');
      } catch (err) {
        logger.error({ [LOG.err]: err, file: options.tokenFile }, 'cannot read the ServiceAccount token (OKGSQ_TOKEN_FILE)');
        return '';
      }
    },
    runtimeInfo: async () => {
      const v = await cri.version();
      return { name: v.runtimeName, version: v.runtimeVersion };
    },
    agentVersion: AGENT_VERSION,
    engine,
    logger: logger.child({ [LOG.component]: 'reporter' }),
    resyncIntervalMs: options.resyncSeconds * 1000,
    onConnectedChange: (connected) => metrics.streamConnected(connected),
  });

  let stopping = false;
  const readiness = new AgentReadiness({ stopping: () => stopping, sessionUp: () => reporter.connected, criVersion: () => cri.version() });
  const http = await startHttpServer(options.httpPort, metrics, () => !stopping, () => readiness.notReadyReasons(), deps.host);
  // Started in this order, stopped in reverse: probing stops first, then the stream ends, then what they used.
  const services = new ServiceList(
    [
      { name: 'http', service: http },
      { name: 'cri-client', service: { stop: async () => cri.close() } },
      { name: 'cri-runtime', service: runtime },
      { name: 'reporter', service: reporter },
      { name: 'probe-engine', service: engine },
    ],
    log,
  );
  services.start();
  log.info({ cri: endpoint, decider: options.deciderAddress, tls: options.tls !== 'insecure', httpPort: http.port }, 'agent started');

  let stopped: Promise<void> | undefined;
  return {
    httpPort: http.port,
    stop: () =>
      (stopped ??= (async () => {
        stopping = true;
        await services.stop();
        log.info({}, 'agent stopped');
      })()),
  };
}
