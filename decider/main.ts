// The decider process: options from the environment, the one pino root, the KubeConfig, the graph
// (decider.ts), and the SIGTERM sequence.
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { LOG } from '../common/log-fields.js';
import { startDecider } from './decider.js';
import { deciderOptions } from './options.js';

async function main(): Promise<void> {
  let options;
  try {
    options = deciderOptions();
  } catch (err) {
    process.stderr.write(`okg-sq decider: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: options.logLevel, base: { program: 'okg-sq-decider' } });
  const kubeConfig = new KubeConfig();
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromCluster();
  const decider = await startDecider(options, { kubeConfig, logger });
  let exiting = false;
  const shutdown = (signal: string): void => {
    if (exiting) return;
    exiting = true;
    logger.info({ signal }, 'shutting down');
    decider.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ [LOG.err]: err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`okg-sq decider: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
