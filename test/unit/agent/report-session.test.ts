// One report session over a stand-in stream: it ends in one place, and what it held (settle, flush,
// resync and close timers) ends with it; close() half-closes and cancels after the grace.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { status } from '@grpc/grpc-js';
import { pino } from 'pino';
import type { Outcome } from '../../../common/outcome.js';
import { ReportSession, type ReporterEngine } from '../../../agent/report/report-session.js';
import type { AgentMessage, DeciderMessage } from '../../../proto/gen/okgsq/v1/agent.js';
import { FakeClock } from '../probe/fake-clock.js';

class FakeStream extends EventEmitter {
  readonly written: AgentMessage[] = [];
  ended = false;
  cancelled = false;
  write(m: AgentMessage): boolean {
    this.written.push(m);
    return true;
  }
  end(): void {
    this.ended = true;
  }
  cancel(): void {
    this.cancelled = true;
  }
  kinds(): string[] {
    return this.written.map((m) => (m.body?.$case === 'outcomes' ? (m.body.value.resync ? 'resync' : 'outcomes') : String(m.body?.$case)));
  }
}

const outcome: Outcome = { podUid: 'p1', quality: 'q', state: true, result: '', exitCode: 0, errorKind: '', durationMs: 1, observedAtMs: 1 };

function setup() {
  const clock = new FakeClock();
  const stream = new FakeStream();
  const pending = new Map<string, Outcome>();
  const engine: ReporterEngine = { upsert() {}, remove() {}, published: () => [outcome], keys: () => [], takeCounters: () => [], size: 1 };
  let plans = 0;
  const session = new ReportSession({
    client: { connect: () => stream } as never,
    token: 't',
    hello: { nodeName: 'n', agentVersion: 'test', runtimeName: '', runtimeVersion: '' },
    engine,
    pending,
    logger: pino({ level: 'silent' }),
    clock,
    batchWindowMs: 10,
    maxBatchSize: 100,
    planSettleMs: 200,
    resyncIntervalMs: 60_000,
    closeGraceMs: 2_000,
    onPlan: () => plans++,
  });
  const plan: DeciderMessage = { body: { $case: 'plan', value: { generation: 1, full: true, upsert: [], remove: [], resyncIntervalSeconds: 0 } } };
  return { clock, stream, pending, session, plan, plans: () => plans };
}

describe('ReportSession', () => {
  it('says Hello, settles the plan, resyncs, batches offered outcomes; when the stream fails nothing of it is left', async () => {
    const { clock, stream, pending, session, plan, plans } = setup();
    const ran = session.run();
    assert.deepEqual(stream.kinds(), ['hello']);
    stream.emit('data', plan);
    assert.equal(plans(), 1);
    assert.equal(session.carriedPlan, true);
    await clock.advance(200);
    assert.deepEqual(stream.kinds(), ['hello', 'resync']);
    pending.set('p1/q', outcome);
    session.offered();
    await clock.advance(10);
    assert.deepEqual(stream.kinds(), ['hello', 'resync', 'outcomes']);
    pending.set('p1/q', outcome);
    session.offered(); // a flush timer armed, and the resync timer is
    assert.equal(clock.pendingTimers, 2);
    stream.emit('status', { code: status.UNAVAILABLE });
    stream.emit('error', Object.assign(new Error('gone'), { code: status.UNAVAILABLE }));
    await assert.rejects(ran, (e: { code: number }) => e.code === status.UNAVAILABLE);
    assert.equal(clock.pendingTimers, 0, 'no timer of the session left');
    session.offered();
    assert.equal(session.sendCounters(), false);
    await clock.advance(120_000);
    assert.deepEqual(stream.kinds(), ['hello', 'resync', 'outcomes'], 'nothing sent after the end');
    assert.equal(pending.size, 1, 'what was not sent stays for the next session');
  });

  it('close() sends what is pending, half-closes, and cancels if the decider does not end the stream in its grace', async () => {
    const { clock, stream, pending, session, plan } = setup();
    const ran = session.run();
    stream.emit('data', plan);
    await clock.advance(200);
    pending.set('p1/q', outcome);
    session.close();
    assert.equal(stream.kinds().at(-1), 'outcomes', 'pending outcomes flushed');
    assert.equal(stream.ended, true);
    await clock.advance(1_999);
    assert.equal(stream.cancelled, false);
    await clock.advance(1);
    assert.equal(stream.cancelled, true);
    stream.emit('error', Object.assign(new Error('cancelled'), { code: status.CANCELLED }));
    await ran; // a cancel we asked for is a clean end
    assert.equal(clock.pendingTimers, 0);
  });
});
