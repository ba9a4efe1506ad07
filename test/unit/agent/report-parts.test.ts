import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import { waitFor } from '../../testbed/wait-for.js';
import { AgentReporter, type ReporterEngine } from '../../../agent/report/reporter.js';

describe('AgentReporter while disconnected', () => {
  it('keeps only the latest outcome per key and takes no counters', async () => {
    let countersTaken = 0;
    const engine: ReporterEngine = {
      upsert: () => {},
      remove: () => {},
      published: () => [],
      keys: () => [],
      takeCounters: () => {
        countersTaken++;
        return [];
      },
      size: 0,
    };
    const logLines: string[] = [];
    // Nothing listens there: the reporter never connects.
    const reporter = new AgentReporter({
      nodeName: 'n',
      address: '127.0.0.1:1',
      credentials: credentials.createInsecure(),
      readToken: async () => 't',
      runtimeInfo: async () => ({ name: 'x', version: '1' }),
      agentVersion: 'test',
      engine,
      logger: pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) }),
      countersIntervalMs: 1,
      backoffInitialMs: 10_000,
    });
    reporter.start();
    const outcome = (result: string) => ({ podUid: 'u', quality: 'q', state: true, result, exitCode: 0, errorKind: '' as const, durationMs: 1, observedAtMs: 1 });
    reporter.offer(outcome('a'));
    reporter.offer(outcome('b'));
    reporter.offer({ ...outcome('c'), quality: 'other' });
    // After the first attempt failed, the 1 ms counters tick has had many turns.
    await waitFor(() => logLines.some((l) => l.includes('reconnecting to the decider')), { timeoutMs: 5_000, what: 'a failed attempt' });
    assert.equal(reporter.pendingCount, 2);
    assert.equal(reporter.connected, false);
    assert.equal(countersTaken, 0);
    await reporter.stop();
  });
});
