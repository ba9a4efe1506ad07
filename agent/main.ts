// The agent's entry point: the only place real dependencies are wired (CRI socket, decider stream,
// HTTP server, pino root logger). SIGTERM: stop probing, end the stream, close the server, exit.
import { readFile } from 'node:fs/promises';
import { pino } from 'pino';
import { OkgSqError } from '../common/errors.js';
import { LOG } from '../common/log-fields.js';
import { ProbeEngine } from '../common/probe/probe-engine.js';
import { CriClient } from './cri/cri-client.js';
import { resolveCriEndpoint } from './cri/cri-endpoint.js';
import { CriExecRuntime } from './cri/cri-exec-runtime.js';
import { startHttpServer } from './http-server.js';
import { AgentReadiness } from './readiness.js';
import { AgentMetrics } from './metrics.js';
import { agentOptions, type AgentOptions } from './options.js';
import { channelCredentials } from './report/channel-credentials.js';
import { AgentReporter } from './report/reporter.js';
import { AGENT_VERSION } from './version.js';

async function main(): Promise<void> {
  let options: AgentOptions;
  try {
    options = agentOptions(process.env);
  } catch (err) {
    process.stderr.write(`okg-sq agent: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: options.logLevel, base: { [LOG.component]: 'agent', [LOG.node]: options.nodeName } });
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
  const server = await startHttpServer(options.httpPort, metrics, () => !stopping, () => readiness.notReadyReasons());
  runtime.start();
  engine.start();
  reporter.start();
  logger.info({ cri: endpoint, decider: options.deciderAddress, tls: options.tls !== 'insecure', httpPort: options.httpPort }, 'agent started');

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await engine.stop();
    await reporter.stop();
    await runtime.stop();
    cri.close();
    await new Promise((resolve) => server.close(resolve));
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  const code = err instanceof OkgSqError ? err.code : 'unexpected';
  process.stderr.write(`okg-sq agent: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
