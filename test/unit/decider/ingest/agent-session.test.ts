// One agent session over a stand-in stream: however the stream ends (the agent ends or cancels it, the
// transport closes or fails, the service ends it, or several at once), the session ends once, through
// one path, and lets go of everything it held.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { AgentSession } from '../../../../decider/ingest/agent-session.js';
import { DEFAULT_INGEST_LIMITS } from '../../../../decider/ingest/agent-service.js';
import type { DeciderMessage } from '../../../../proto/gen/okgsq/v1/agent.js';
import { FakeClock } from '../../probe/fake-clock.js';
import { FakeMetrics, FakePlanSource, FakeSink, silentLogger, target, wireOutcome } from './ingest-kit.js';

/** What the session uses of a grpc-js server stream; records how it was ended. */
class FakeCall extends EventEmitter {
  readonly written: DeciderMessage[] = [];
  writableLength = 0;
  paused = false;
  endedWith: string | undefined;
  constructor() {
    super();
    // grpc-js's own stream listens for 'error' (it turns it into the status it sends).
    this.on('error', (e: { code: number }) => (this.endedWith ??= `status ${e.code}`));
  }
  write(m: DeciderMessage): boolean {
    this.written.push(m);
    return true;
  }
  end(): void {
    this.endedWith ??= 'OK';
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** Listeners besides grpc-js's own 'error' one. */
  sessionListeners(): number {
    return ['data', 'end', 'cancelled', 'close'].reduce((n, e) => n + this.listenerCount(e), 0) + this.listenerCount('error') - 1;
  }
}

function session(clock = new FakeClock()) {
  const plans = new FakePlanSource();
  plans.set('node-a', [target('node-a', 'p1')]);
  const sink = new FakeSink();
  const call = new FakeCall();
  const ended: AgentSession[] = [];
  const s = new AgentSession(
    { node: 'node-a', podName: 'agent-x', podUid: 'uid-x', expiresAtMs: Number.MAX_SAFE_INTEGER },
    call as never,
    { plans, sink, metrics: new FakeMetrics(), logger: silentLogger, limits: { ...DEFAULT_INGEST_LIMITS, outcomesPerSecondPerStream: 1, outcomeBurstPerStream: 1 }, clock },
    (x) => ended.push(x),
  );
  s.start();
  return { s, call, plans, sink, ended, clock };
}

const ENDINGS = [
  ['the agent ends its side', (c: FakeCall) => c.emit('end'), 'OK'],
  ['the agent cancels', (c: FakeCall) => c.emit('cancelled'), `status ${status.CANCELLED}`],
  ['the transport closes', (c: FakeCall) => c.emit('close'), `status ${status.CANCELLED}`],
  ['the transport fails', (c: FakeCall) => c.emit('error', { code: status.INTERNAL }), `status ${status.INTERNAL}`],
] as const;

describe('AgentSession', () => {
  it('takes the stream: sends the plan in full and hands planned outcomes to the sink', () => {
    const { call, sink } = session();
    assert.equal(call.written[0]?.body?.$case, 'plan');
    call.emit('data', { body: { $case: 'outcomes', value: { outcomes: [wireOutcome('p1')], counters: [], resync: false, planGeneration: 1 } } });
    assert.deepEqual(sink.accepted.map((a) => a.outcome.podUid), ['p1']);
  });

  for (const [how, end, endedWith] of ENDINGS) {
    it(`ends once when ${how}, and lets go of the stream, the plan and the throttle`, async () => {
      const { s, call, plans, sink, ended, clock } = session();
      // Two outcomes against a burst of 1: the stream is paused and a resume timer armed.
      call.emit('data', { body: { $case: 'outcomes', value: { outcomes: [wireOutcome('p1'), wireOutcome('p1')], counters: [], resync: false, planGeneration: 1 } } });
      assert.equal(call.paused, true);
      assert.equal(clock.pendingTimers, 1);
      end(call);
      // Whatever else happens to the stream afterwards changes nothing.
      for (const [, again] of ENDINGS) again(call);
      s.end(status.UNAVAILABLE, 'decider is not serving agents');
      assert.deepEqual(ended, [s], 'the service is told once');
      assert.equal(call.endedWith, endedWith, 'the first ending decides the status');
      assert.equal(call.sessionListeners(), 0, 'no listener left on the stream');
      assert.equal(plans.subscriberCount('node-a'), 0, 'plan subscription stopped');
      assert.equal(clock.pendingTimers, 0, 'no resume timer left');
      plans.set('node-a', [target('node-a', 'p2')]);
      await new Promise((r) => setImmediate(r));
      assert.equal(call.written.length, 1, 'no plan delta after the end');
      call.emit('data', { body: { $case: 'outcomes', value: { outcomes: [wireOutcome('p1')], counters: [], resync: false, planGeneration: 1 } } });
      assert.equal(sink.accepted.length, 2, 'nothing taken after the end');
    });
  }

  it('ended by the service first: the stream gets its status and the session lets go the same way', () => {
    const { s, call, plans, ended } = session();
    s.end(status.ABORTED, 'replaced by a newer stream for the same node');
    call.emit('cancelled');
    assert.deepEqual(ended, [s]);
    assert.equal(call.endedWith, `status ${status.ABORTED}`);
    assert.equal(call.sessionListeners(), 0);
    assert.equal(plans.subscriberCount('node-a'), 0);
  });
});
