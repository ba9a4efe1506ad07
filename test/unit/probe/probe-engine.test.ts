import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Outcome } from '../../../common/outcome.js';
import { ProbeEngine } from '../../../common/probe/probe-engine.js';
import type { ProbeTarget } from '../../../common/probe/types.js';
import type { ProbeTiming } from '../../../common/service-quality.js';
import { FakeClock } from './fake-clock.js';
import { FakeExecRuntime, type FakeAnswer } from './fake-exec-runtime.js';

const TIMING: ProbeTiming = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 1, successThreshold: 1, failureThreshold: 1 };

function target(pod: string, quality = 'healthy', over: Omit<Partial<ProbeTarget>, 'timing'> & { timing?: Partial<ProbeTiming> } = {}): ProbeTarget {
  return {
    key: { podUid: pod, quality },
    namespace: 'ns',
    podName: `pod-${pod}`,
    gameServerSet: 'gss',
    containerName: 'main',
    podIp: '127.0.0.1',
    handler: { kind: 'exec', command: ['/probe.sh'] },
    containerStartedAtMs: 0,
    ...over,
    timing: { ...TIMING, ...over.timing },
  };
}

function harness(opts: { maxConcurrentExecs?: number } = {}) {
  const clock = new FakeClock();
  const exec = new FakeExecRuntime();
  const outcomes: Outcome[] = [];
  const engine = new ProbeEngine({ exec, clock, onOutcome: (o) => outcomes.push(o), random: () => 0, ...opts });
  return { clock, exec, outcomes, engine };
}

/** Advances the fake clock until the worker has asked afresh (a real socket answers between fake ticks). */
async function waitForFresh(clock: FakeClock, exec: FakeExecRuntime): Promise<void> {
  for (let i = 0; i < 200 && !exec.stateCalls.some((c) => c.fresh); i++) {
    await clock.advance(100);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Advances the fake clock until an outcome arrives (a real socket answers between fake ticks). */
async function waitForOutcome(clock: FakeClock, outcomes: Outcome[]): Promise<void> {
  for (let i = 0; i < 200 && outcomes.length === 0; i++) {
    await clock.advance(1_000);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('ProbeEngine', () => {
  it('publishes a state only after failureThreshold consecutive failures, once', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.answer('p1/main', { exitCode: 1, stdout: 'down\n' });
    engine.upsert([target('p1', 'healthy', { timing: { failureThreshold: 3 } })]);
    engine.start();
    await clock.advance(2_100); // runs at 0, 1 s, 2 s
    assert.equal(exec.calls.length, 3);
    assert.equal(outcomes.length, 1);
    assert.deepEqual([outcomes[0]!.state, outcomes[0]!.result, outcomes[0]!.exitCode], [false, 'down', 1]);
    await clock.advance(3_000);
    assert.equal(outcomes.length, 1, 'an unchanged state is not published again');
    await engine.stop();
  });

  it('publishes nothing before the first crossing and needs successThreshold trues to flip back', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.answer('p1/main', { exitCode: 1 });
    engine.upsert([target('p1', 'q', { timing: { failureThreshold: 2, successThreshold: 2 } })]);
    engine.start();
    await clock.advance(100);
    assert.equal(outcomes.length, 0, 'one failure is below the threshold');
    await clock.advance(1_000);
    assert.equal(outcomes.at(-1)?.state, false);
    exec.answer('p1/main', { exitCode: 0, stdout: 'ok' });
    await clock.advance(1_000);
    assert.equal(outcomes.length, 1);
    await clock.advance(1_000);
    assert.deepEqual(outcomes.map((o) => o.state), [false, true]);
    await engine.stop();
  });

  it('publishes on a result change with the same state', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.answer('p1/main', { exitCode: 0, stdout: 'gate' });
    engine.upsert([target('p1')]);
    engine.start();
    await clock.advance(2_500);
    exec.answer('p1/main', { exitCode: 0, stdout: 'data|\n' });
    await clock.advance(1_000);
    assert.deepEqual(outcomes.map((o) => o.result), ['gate', 'data']);
    assert.deepEqual(engine.published().map((o) => o.result), ['data']);
    await engine.stop();
  });

  it('waits for the initial delay counted from the container start the runtime reports', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.startedAt.set('p1/main', clock.now() - 4_000); // started 4 s ago, delay 10 s → 6 s more
    engine.upsert([target('p1', 'q', { timing: { initialDelaySeconds: 10 } })]);
    engine.start();
    await clock.advance(5_500);
    assert.equal(exec.calls.length, 0);
    await clock.advance(1_000);
    assert.equal(exec.calls.length, 1);
    assert.equal(outcomes.length, 1);
    await engine.stop();
  });

  it('waits for the initial delay again after the container restarts', async () => {
    const { clock, exec, engine } = harness();
    exec.startedAt.set('p1/main', clock.now() - 60_000);
    engine.upsert([target('p1', 'q', { timing: { initialDelaySeconds: 5 } })]);
    engine.start();
    await clock.advance(2_100);
    assert.equal(exec.calls.length, 3);
    exec.startedAt.set('p1/main', clock.now()); // restarted just now
    await clock.advance(4_000);
    assert.equal(exec.calls.length, 3, 'no exec during the new container initial delay');
    await clock.advance(2_000);
    assert.ok(exec.calls.length >= 4);
    await engine.stop();
  });

  it('falls back to the plan, then to when the key was added, for the initial delay', async () => {
    const { clock, exec, engine } = harness();
    engine.upsert([
      target('planned', 'q', { containerStartedAtMs: clock.now() - 9_000, timing: { initialDelaySeconds: 10 } }),
      target('unknown', 'q', { timing: { initialDelaySeconds: 10 } }),
    ]);
    engine.start();
    await clock.advance(1_100);
    assert.deepEqual(exec.calls.map((c) => c.container), ['planned/main']);
    await clock.advance(9_000);
    assert.ok(exec.calls.some((c) => c.container === 'unknown/main'));
    await engine.stop();
  });

  it('keeps the published state when the probe could not run, and counts the run as unknown', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.answer('p1/main', { exitCode: 0, stdout: 'ok' });
    engine.upsert([target('p1')]);
    engine.start();
    await clock.advance(500);
    engine.takeCounters();
    exec.answer('p1/main', { error: 'runtime_unavailable' });
    await clock.advance(3_000);
    assert.deepEqual(outcomes.map((o) => o.state), [true]);
    assert.equal(engine.published()[0]?.state, true);
    const counters = engine.takeCounters();
    assert.deepEqual(counters[0]?.runs, [{ outcome: 'unknown', errorKind: 'runtime_unavailable', count: 3 }]);
    // A container that stopped under the exec could not run the probe either.
    exec.answer('p1/main', { error: 'container_not_running' });
    await clock.advance(1_000);
    assert.deepEqual(outcomes.map((o) => [o.state, o.errorKind]), [[true, '']]);
    await engine.stop();
  });

  it('does not probe a container that is not running or missing, publishes nothing for it, and keeps its last outcome', async () => {
    const { clock, exec, outcomes, engine } = harness();
    // A network probe too: port 1 refuses, a real failure while the container runs.
    const tcp = target('p1', 'web', { handler: { kind: 'tcpSocket', port: 1 } });
    exec.answer('p1/main', { exitCode: 0, stdout: 'ok' });
    exec.states.set('p1/main', 'running');
    engine.upsert([target('p1'), tcp]);
    engine.start();
    await clock.advance(500);
    const before = [['healthy', true], ['web', false]];
    assert.deepEqual(outcomes.map((o) => [o.quality, o.state]).sort(), before);
    engine.takeCounters();
    exec.calls.length = 0;
    exec.states.set('p1/main', 'not_running');
    await clock.advance(3_000);
    exec.states.set('p1/main', 'not_found');
    await clock.advance(2_000);
    assert.equal(exec.calls.length, 0, 'no exec in a container that does not run');
    assert.deepEqual(outcomes.map((o) => [o.quality, o.state]).sort(), before, 'nothing published while the container is down');
    const counters = engine.takeCounters();
    for (const quality of ['healthy', 'web']) {
      assert.deepEqual(counters.find((c) => c.quality === quality)?.runs, [
        { outcome: 'unknown', errorKind: 'container_not_running', count: 3 },
        { outcome: 'unknown', errorKind: 'container_not_found', count: 2 },
      ], quality);
    }
    assert.deepEqual(engine.published().map((o) => [o.quality, o.state]).sort(), before);
    await engine.stop();
  });

  it('takes container states from a source other than the exec runtime (the decider: pod status), for network probes', async () => {
    const clock = new FakeClock();
    const outcomes: Outcome[] = [];
    const states = new Map<string, 'running' | 'not_running'>([['p1/main', 'not_running']]);
    const engine = new ProbeEngine({
      exec: undefined,
      containers: { containerState: async (t) => states.get(`${t.podUid}/${t.containerName}`) },
      clock,
      onOutcome: (o) => outcomes.push(o),
      random: () => 0,
    });
    // Port 1 refuses: a real failure, but only once the container runs.
    engine.upsert([target('p1', 'web', { handler: { kind: 'tcpSocket', port: 1 } })]);
    engine.start();
    await clock.advance(2_500);
    assert.equal(outcomes.length, 0);
    assert.deepEqual(engine.takeCounters()[0]?.runs, [{ outcome: 'unknown', errorKind: 'container_not_running', count: 3 }]);
    states.set('p1/main', 'running');
    await waitForOutcome(clock, outcomes);
    assert.deepEqual(outcomes.map((o) => [o.state, o.errorKind]), [[false, 'connection_refused']]);
    await engine.stop();
  });

  it('a failed run in a container found down when asked afresh could not run; a real failure in a running one is false', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.answer('p1/main', { exitCode: 0, stdout: 'ok' });
    engine.upsert([target('p1')]);
    engine.start();
    await clock.advance(500);
    // The listing still says running; the exec fails (killed with its container); asked afresh, it is down.
    exec.answer('p1/main', { exitCode: 137 });
    const realState = exec.containerState.bind(exec);
    let freshAsks = 0;
    exec.containerState = async (t, o) => (o?.fresh ? (freshAsks++, 'not_running') : realState(t, o));
    await clock.advance(2_000);
    assert.deepEqual(outcomes.map((o) => o.state), [true]);
    assert.ok(freshAsks > 0, 'the failed run made the worker ask afresh');
    exec.containerState = realState;
    exec.states.set('p1/main', 'running');
    await clock.advance(1_000);
    assert.deepEqual(outcomes.map((o) => [o.state, o.exitCode]), [[true, 0], [false, 137]]);
    await engine.stop();
  });

  it('a first failure waits for the runtime to catch up (settle) only when it may be its container going down', async () => {
    // Port 1 refuses: no answer, as from a server that died with its container.
    const cases: [string, FakeAnswer | undefined, boolean][] = [
      ['exec, its own exit code (a real false of a live container)', { exitCode: 1 }, false],
      ['exec killed by SIGKILL (its container died)', { exitCode: 137 }, true],
      ['exec that the runtime could not finish', { error: 'timeout' }, true],
      ['tcp, connection refused', undefined, true],
    ];
    for (const [what, answer, settle] of cases) {
      const { clock, exec, engine } = harness();
      exec.states.set('p1/main', 'running');
      const probe = answer ? target('p1') : target('p1', 'web', { handler: { kind: 'tcpSocket', port: 1 } });
      exec.answer('p1/main', answer ?? { exitCode: 0 });
      engine.upsert([probe]);
      engine.start();
      await waitForFresh(clock, exec);
      assert.deepEqual(exec.stateCalls.filter((c) => c.fresh).map((c) => c.settle), [settle], what);
      await engine.stop();
    }
  });

  it('counts runs per quality with duration buckets that add up', async () => {
    const { clock, exec, engine } = harness();
    exec.answer('p2/main', { exitCode: 1 });
    engine.upsert([target('p1', 'a'), target('p2', 'a'), target('p1', 'b')]);
    engine.start();
    await clock.advance(1_500); // two rounds
    const counters = engine.takeCounters().sort((x, y) => x.quality.localeCompare(y.quality));
    assert.deepEqual(counters.map((c) => c.quality), ['a', 'b']);
    const a = counters[0]!;
    assert.deepEqual(new Set(a.runs.map((r) => `${r.outcome}:${r.count}`)), new Set(['true:2', 'false:2']));
    assert.equal(a.durationBucketCounts.reduce((x, y) => x + y, 0), 4);
    assert.deepEqual(engine.takeCounters(), [], 'taken counters reset');
    await engine.stop();
  });

  it('caps concurrent execs globally and runs one exec per container at a time', async () => {
    const { clock, exec, engine } = harness({ maxConcurrentExecs: 2 });
    for (const pod of ['a', 'b', 'c', 'd']) exec.answer(`${pod}/main`, { hang: true });
    // Two qualities on the same container of pod a.
    engine.upsert([target('a', 'q1'), target('a', 'q2'), target('b'), target('c'), target('d')]);
    engine.start();
    await clock.advance(200);
    assert.equal(exec.maxActive, 2);
    for (let i = 0; i < 6; i++) {
      exec.releaseAll();
      await clock.advance(50);
    }
    assert.equal(exec.maxActive, 2);
    assert.equal(exec.maxPerContainer, 1);
    assert.ok(new Set(exec.calls.map((c) => c.container)).size === 4, 'every container got its turn');
    await engine.stop();
  });

  it('reports a hanging probe as a timeout within timeout + 1 s while others keep their schedule', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.answer('hang/main', { hang: true, ignoreAbort: true });
    exec.answer('ok/main', { exitCode: 0, stdout: 'fine' });
    engine.upsert([target('hang', 'q', { timing: { timeoutSeconds: 2, periodSeconds: 10 } }), target('ok')]);
    engine.start();
    const t0 = clock.now();
    await clock.advance(3_000);
    const hang = outcomes.find((o) => o.podUid === 'hang');
    assert.ok(hang, 'the hanging probe was reported');
    assert.equal(hang.errorKind, 'timeout');
    assert.equal(hang.state, false);
    assert.ok(hang.observedAtMs - t0 <= 3_000, `reported at +${hang.observedAtMs - t0} ms`);
    const okRuns = exec.calls.filter((c) => c.container === 'ok/main').length;
    assert.ok(okRuns >= 3, `the other probe ran ${okRuns} times in 3 s`);
    await engine.stop();
  });

  it('remove and replaceAll stop probing the dropped keys; upsert keeps state', async () => {
    const { clock, exec, outcomes, engine } = harness();
    engine.upsert([target('a'), target('b'), target('c')]);
    engine.start();
    await clock.advance(500);
    assert.equal(engine.published().length, 3);
    engine.remove([{ podUid: 'a', quality: 'healthy' }]);
    engine.replaceAll([target('b'), target('d')]);
    assert.equal(engine.size, 2);
    const before = exec.calls.length;
    await clock.advance(2_000);
    const after = exec.calls.slice(before).map((c) => c.container);
    assert.ok(!after.includes('a/main') && !after.includes('c/main'));
    assert.ok(after.includes('b/main') && after.includes('d/main'));
    assert.deepEqual(engine.published().map((o) => o.podUid).sort(), ['b', 'd']);
    assert.equal(outcomes.filter((o) => o.podUid === 'b').length, 1, 'b was kept, not restarted');
    await engine.stop();
  });

  it('stop() is idempotent, aborts in-flight probes and publishes nothing after', async () => {
    const { clock, exec, outcomes, engine } = harness();
    exec.answer('a/main', { hang: true });
    engine.upsert([target('a')]);
    engine.start();
    await clock.advance(100);
    assert.equal(exec.active, 1);
    const first = engine.stop();
    assert.equal(engine.stop(), first);
    await first;
    await clock.advance(5_000);
    assert.equal(exec.active, 0);
    assert.equal(outcomes.length, 0);
    assert.equal(exec.calls.length, 1);
  });

  it('reports exec targets as exec_failed when the engine has no exec runtime', async () => {
    const clock = new FakeClock();
    const outcomes: Outcome[] = [];
    const engine = new ProbeEngine({ clock, onOutcome: (o) => outcomes.push(o), random: () => 0 });
    engine.upsert([target('a')]);
    engine.start();
    await clock.advance(100);
    assert.deepEqual(outcomes.map((o) => [o.state, o.errorKind]), [[false, 'exec_failed']]);
    await engine.stop();
  });

  it('groups keys into slots: one timer wake-up for many probes', async () => {
    const { clock, exec, engine } = harness();
    engine.upsert(Array.from({ length: 200 }, (_, i) => target(`p${i}`)));
    engine.start();
    assert.equal(clock.pendingTimers, 1);
    await clock.advance(150);
    assert.equal(exec.calls.length, 200);
    await engine.stop();
  });
});
