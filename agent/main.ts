// The agent process: options from the environment, the one pino root, the graph (agent.ts), and the
// SIGTERM sequence; the same shape as the decider's (decider/main.ts).
import { pino } from 'pino';
import { OkgSqError } from '../common/errors.js';
import { exitOnSignals } from '../common/lifecycle.js';
import { LOG } from '../common/log-fields.js';
import { startAgent } from './agent.js';
import { agentOptions, type AgentOptions } from './options.js';

async function main(): Promise<void> {
  let options: AgentOptions;
  try {
    options = agentOptions(process.env);
  } catch (err) {
    process.stderr.write(`okg-sq agent: ${(err as Error).message}\n`);
    process.exit(2);
  }
  const logger = pino({ level: options.logLevel, base: { [LOG.component]: 'agent', [LOG.node]: options.nodeName } });
  const agent = await startAgent(options, { logger });
  exitOnSignals(agent, logger);
}

main().catch((err: unknown) => {
  const code = err instanceof OkgSqError ? err.code : 'unexpected';
  process.stderr.write(`okg-sq agent: ${code}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
