import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { credentials } from '@grpc/grpc-js';
import { pino } from 'pino';
import { Backoff } from '../../../common/backoff.js';
import { waitFor } from '../../testbed/wait-for.js';
import { AgentReporter, type ReporterEngine } from '../../../agent/report/reporter.js';
import { assignmentToTarget, outcomeToWire } from '../../../agent/report/plan-mapping.js';
import type { ProbeAssignment } from '../../../proto/gen/okgsq/v1/agent.js';

const BASE: ProbeAssignment = {
  podUid: 'uid-1',
  quality: 'idle',
  namespace: 'games',
  podName: 'mc-0',
  gameServerSet: 'mc',
  containerName: 'game',
  podIp: '10.254.77.9',
  handler: undefined,
  timing: { initialDelaySeconds: 10, timeoutSeconds: 5, periodSeconds: 3, successThreshold: 1, failureThreshold: 3 },
  containerStartedUnixMs: 1_700_000_000_000,
};

describe('assignmentToTarget', () => {
  it('maps each handler kind with ports already resolved', () => {
    const http = assignmentToTarget({
      ...BASE,
      handler: { kind: { $case: 'httpGet', value: { path: '/state', port: 8080, scheme: 'https', headers: [{ name: 'X-A', value: 'b' }] } } },
    });
    assert.deepEqual(http?.handler, { kind: 'httpGet', path: '/state', port: 8080, scheme: 'HTTPS', headers: [{ name: 'X-A', value: 'b' }] });
    assert.deepEqual(http?.key, { podUid: 'uid-1', quality: 'idle' });
    assert.equal(http?.containerStartedAtMs, 1_700_000_000_000);
    assert.deepEqual(assignmentToTarget({ ...BASE, handler: { kind: { $case: 'tcpSocket', value: { port: 25565 } } } })?.handler, { kind: 'tcpSocket', port: 25565 });
    assert.deepEqual(assignmentToTarget({ ...BASE, handler: { kind: { $case: 'grpc', value: { port: 9000, service: 'game' } } } })?.handler, {
      kind: 'grpc',
      port: 9000,
      service: 'game',
    });
    assert.deepEqual(assignmentToTarget({ ...BASE, handler: { kind: { $case: 'exec', value: { command: ['/probe.sh'] } } } })?.handler, {
      kind: 'exec',
      command: ['/probe.sh'],
    });
  });

  it('refuses assignments that cannot be probed, and floors a broken timing', () => {
    assert.equal(assignmentToTarget(BASE), undefined);
    assert.equal(assignmentToTarget({ ...BASE, handler: { kind: { $case: 'exec', value: { command: [] } } } }), undefined);
    const t = assignmentToTarget({
      ...BASE,
      handler: { kind: { $case: 'tcpSocket', value: { port: 1 } } },
      timing: { initialDelaySeconds: 0, timeoutSeconds: 0, periodSeconds: 0, successThreshold: 0, failureThreshold: 0 },
    });
    assert.deepEqual(t?.timing, { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 });
  });

  it('outcomes go on the wire with their observed time and a bounded duration', () => {
    const wire = outcomeToWire({ podUid: 'u', quality: 'q', state: false, result: 'x', exitCode: 2, errorKind: '', durationMs: 12.6, observedAtMs: 5 });
    assert.deepEqual(wire, { podUid: 'u', quality: 'q', state: false, result: 'x', exitCode: 2, errorKind: '', durationMs: 13, observedUnixMs: 5 });
  });
});

describe('Backoff', () => {
  it('grows exponentially with jitter, is capped, and resets', () => {
    const low = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
    assert.deepEqual(Array.from({ length: 6 }, () => low.next()), [50, 100, 200, 400, 500, 500]);
    const high = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999999 });
    assert.deepEqual(Array.from({ length: 6 }, () => high.next()), [100, 200, 400, 800, 1_000, 1_000]);
    high.reset();
    assert.equal(high.next(), 100);
  });
});

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
