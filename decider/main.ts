// The decider process: options from the environment, the one pino root, the KubeConfig, the graph
// (decider.ts), and the SIGTERM sequence.
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { exitOnSignals } from '../common/lifecycle.js';
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
  exitOnSignals(decider, logger);
}

main().catch((err: unknown) => {
  process.stderr.write(`okg-sq decider: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
