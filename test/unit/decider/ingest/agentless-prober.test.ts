// AgentlessProber over a fake planner and a recording engine: which targets it probes, what it
// reports, and that its outcomes reach the sink under AGENTLESS_NODE.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Outcome, ProbeKey } from '../../../../common/outcome.js';
import type { ProbeTarget, QualityCounters } from '../../../../common/probe/types.js';
import { AgentlessProber, type AgentlessEngine } from '../../../../decider/ingest/agentless-prober.js';
import { AGENTLESS_NODE } from '../../../../decider/ingest/ports.js';
import { FakeClock } from '../../probe/fake-clock.js';
import { FakeMetrics, FakePlanSource, FakeSink, silentLogger, target } from './ingest-kit.js';
import { waitFor } from '../../../testbed/wait-for.js';

class RecordingEngine implements AgentlessEngine {
  readonly probed = new Map<string, ProbeTarget>();
  started = false;
  stopped = false;
  counters: QualityCounters[] = [];
  constructor(readonly publish: (o: Outcome, t: ProbeTarget) => void) {}
  upsert(targets: ProbeTarget[]): void {
    for (const t of targets) this.probed.set(`${t.key.podUid}/${t.key.quality}`, t);
  }
  remove(keys: ProbeKey[]): void {
    for (const k of keys) this.probed.delete(`${k.podUid}/${k.quality}`);
  }
  takeCounters(): QualityCounters[] {
    const c = this.counters;
    this.counters = [];
    return c;
  }
  start(): void {
    this.started = true;
  }
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

const http = { kind: 'httpGet', path: '/healthz', port: 8080, scheme: 'HTTP', headers: [] } as const;

function setup(remoteExec: boolean, clock = new FakeClock()) {
  const plans = new FakePlanSource();
  const sink = new FakeSink();
  const metrics = new FakeMetrics();
  let engine: RecordingEngine | undefined;
  const prober = new AgentlessProber({
    plans, sink, metrics, logger: silentLogger, clock, countersIntervalMs: 10_000,
    ...(remoteExec ? { remoteExec: { execSync: async () => ({ exitCode: 0, stdout: new Uint8Array(), stderr: new Uint8Array() }) } } : {}),
    createEngine: (publish) => (engine = new RecordingEngine(publish)),
  });
  return { plans, sink, metrics, prober, clock, engine: () => engine! };
}

function outcome(podUid: string, quality = 'healthy'): Outcome {
  return { podUid, quality, state: true, result: 'ok', exitCode: -1, errorKind: '', durationMs: 2, observedAtMs: 1 };
}

describe('AgentlessProber', () => {
  it('probes http/tcp/grpc targets of the agentless plan and reports exec ones once as not probeable', async () => {
    const { plans, sink, metrics, prober, engine } = setup(false);
    plans.set(AGENTLESS_NODE, [target(AGENTLESS_NODE, 'v1', 'healthy', { handler: http }), target(AGENTLESS_NODE, 'v2')]);
    plans.set('node-a', [target('node-a', 'a1', 'healthy', { handler: http })]);
    prober.activate();
    assert.ok(engine().started);
    assert.deepEqual([...engine().probed.keys()], ['v1/healthy']);
    assert.equal(metrics.rejected.get('not_probeable'), 1);
    plans.set(AGENTLESS_NODE, [target(AGENTLESS_NODE, 'v2')]); // same exec target updated
    assert.equal(metrics.rejected.get('not_probeable'), 1, 'reported once per target');
    // A target that turns into exec stops being probed.
    plans.set(AGENTLESS_NODE, [target(AGENTLESS_NODE, 'v1')]);
    assert.deepEqual([...engine().probed.keys()], []);
    assert.deepEqual(sink.events, [`connected ${AGENTLESS_NODE}`]);
    await prober.deactivate();
    assert.ok(engine().stopped);
    assert.deepEqual(sink.events, [`connected ${AGENTLESS_NODE}`, `disconnected ${AGENTLESS_NODE}`]);
    assert.ok(!sink.accepted.some((a) => a.outcome.state === false), 'no False outcome for what it cannot probe');
  });

  it('probes exec targets too when remote exec is enabled', () => {
    const { plans, metrics, prober, engine } = setup(true);
    plans.set(AGENTLESS_NODE, [target(AGENTLESS_NODE, 'v2')]);
    prober.activate();
    assert.deepEqual([...engine().probed.keys()], ['v2/healthy']);
    assert.equal(metrics.rejected.get('not_probeable'), undefined);
    void prober.deactivate();
  });

  it('hands planned outcomes to the sink as AGENTLESS_NODE, drops ones for pods that left the plan, follows deltas', async () => {
    const { plans, sink, prober, engine } = setup(false);
    plans.set(AGENTLESS_NODE, [target(AGENTLESS_NODE, 'v1', 'healthy', { handler: http })]);
    prober.activate();
    engine().publish(outcome('v1'), engine().probed.get('v1/healthy')!);
    plans.remove(AGENTLESS_NODE, [{ podUid: 'v1', quality: 'healthy' }]);
    assert.equal(engine().probed.size, 0);
    engine().publish(outcome('v1'), target(AGENTLESS_NODE, 'v1'));
    assert.deepEqual(sink.accepted.map((a) => [a.node, a.outcome.podUid]), [[AGENTLESS_NODE, 'v1']]);
    engine().counters = [{ namespace: 'games', gameServerSet: 'minecraft', quality: 'healthy', runs: [{ outcome: 'true', errorKind: '', count: 1 }], durationBucketCounts: [], durationSumSeconds: 0 }];
    await prober.deactivate();
    assert.equal(sink.counters.length, 1, 'counters flushed on stop');
    assert.equal(plans.subscriberCount(AGENTLESS_NODE), 0);
  });

  it('flushes the run counters on every tick of its clock while running, and not after stop', async () => {
    const { plans, sink, prober, clock, engine } = setup(false);
    plans.set(AGENTLESS_NODE, [target(AGENTLESS_NODE, 'v1', 'healthy', { handler: http })]);
    prober.activate();
    const counters = (count: number): QualityCounters[] => [{ namespace: 'games', gameServerSet: 'minecraft', quality: 'healthy', runs: [{ outcome: 'true', errorKind: '', count }], durationBucketCounts: [], durationSumSeconds: 0 }];
    engine().counters = counters(1);
    await clock.advance(9_999);
    assert.equal(sink.counters.length, 0, 'not before the interval');
    await clock.advance(1);
    assert.equal(sink.counters.length, 1);
    engine().counters = counters(2);
    await clock.advance(10_000);
    assert.deepEqual(sink.counters.map((c) => c.counters.runs[0]!.count), [1, 2], 'the timer re-arms');
    await prober.deactivate();
    engine().counters = counters(3);
    await clock.advance(10_000);
    assert.equal(sink.counters.length, 2, 'no flush after stop');
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('AgentlessProber with the shared ProbeEngine', () => {
  it('probes an http quality of an agentless pod and hands its flips to the sink', async () => {
    let healthy = true;
    const server = createServer((_req, res) => {
      res.statusCode = healthy ? 200 : 503;
      res.end(healthy ? 'None' : 'Maintaining');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const plans = new FakePlanSource();
    const sink = new FakeSink();
    const prober = new AgentlessProber({ plans, sink, metrics: new FakeMetrics(), logger: silentLogger });
    try {
      plans.set(AGENTLESS_NODE, [target(AGENTLESS_NODE, 'vk-0', 'http', {
        podIp: '127.0.0.1',
        handler: { kind: 'httpGet', path: '/', port, scheme: 'HTTP', headers: [] },
        timing: { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 },
      })]);
      prober.activate();
      await waitFor(() => sink.accepted.some((a) => a.outcome.state), { what: 'a true outcome', timeoutMs: 5_000 });
      healthy = false;
      await waitFor(() => sink.accepted.some((a) => !a.outcome.state), { what: 'a false outcome', timeoutMs: 5_000 });
      assert.ok(sink.accepted.every((a) => a.node === AGENTLESS_NODE && a.outcome.podUid === 'vk-0'));
    } finally {
      await prober.deactivate();
      server.close();
    }
  });
});
