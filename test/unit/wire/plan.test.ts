// Plans on the wire: every handler kind converted and back through the agent's decoder, and big plans
// split so a full plan stays one "replace" followed by additions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { assignmentToTarget, MAX_ASSIGNMENTS_PER_UPDATE, MAX_REMOVALS_PER_UPDATE, MAX_UPDATE_BYTES, planUpdates, refToKey, targetToAssignment } from '../../../common/wire/plan.js';
import { DeciderMessage, ProbeAssignment } from '../../../proto/gen/okgsq/v1/agent.js';
import { target } from '../decider/ingest/ingest-kit.js';

describe('plan codec', () => {
  const cases = [
    { handler: { kind: 'exec', command: ['/bin/probe', 'a b'] }, wire: { $case: 'exec', value: { command: ['/bin/probe', 'a b'] } } },
    { handler: { kind: 'tcpSocket', port: 25565 }, wire: { $case: 'tcpSocket', value: { port: 25565 } } },
    { handler: { kind: 'grpc', port: 9000, service: 'game' }, wire: { $case: 'grpc', value: { port: 9000, service: 'game' } } },
    { handler: { kind: 'httpGet', path: '/s', port: 80, scheme: 'HTTPS', headers: [{ name: 'H', value: 'v' }] }, wire: { $case: 'httpGet', value: { path: '/s', port: 80, scheme: 'HTTPS', headers: [{ name: 'H', value: 'v' }] } } },
  ] as const;
  for (const c of cases) {
    it(`converts a ${c.handler.kind} target and the agent decodes the same target from the bytes`, () => {
      const planned = target('n', 'u1', 'q', {
        handler: c.handler,
        containerStartedAtMs: 1_764_100_000_000,
        timing: { initialDelaySeconds: 5, timeoutSeconds: 2, periodSeconds: 7, successThreshold: 2, failureThreshold: 4 },
      });
      const a = targetToAssignment(planned);
      assert.deepEqual(a.handler?.kind, c.wire);
      const decoded = ProbeAssignment.decode(ProbeAssignment.encode(a).finish());
      assert.deepEqual(decoded, a);
      assert.equal(decoded.containerStartedUnixMs, 1_764_100_000_000);
      assert.deepEqual(assignmentToTarget(decoded), planned, 'decider → bytes → agent gives back the planned target');
    });
  }

  it('an empty full plan is still one message that clears the agent', () => {
    assert.deepEqual(planUpdates(true, [], [], 0), [{ full: true, upsert: [], remove: [], resyncIntervalSeconds: 0 }]);
  });

  it('splits a big plan: the first part replaces, the rest add', () => {
    const n = MAX_ASSIGNMENTS_PER_UPDATE * 2 + 1;
    const targets = Array.from({ length: n }, (_, i) => target('n', `u${i}`));
    const updates = planUpdates(true, targets, [], 30);
    assert.deepEqual(updates.map((u) => [u.full, u.upsert.length]), [[true, MAX_ASSIGNMENTS_PER_UPDATE], [false, MAX_ASSIGNMENTS_PER_UPDATE], [false, 1]]);
    assert.deepEqual(updates.flatMap((u) => u.upsert.map((a) => a.podUid)), targets.map((t) => t.key.podUid));
    assert.ok(updates.every((u) => u.resyncIntervalSeconds === 30));
  });

  it('splits by bytes too: five targets with a ~1 MiB command never make an update over the budget', () => {
    const command = ['echo', ...Array.from({ length: 10 }, (_, i) => String(i).repeat(100_000))];
    const targets = Array.from({ length: 5 }, (_, i) => target('n', `u${i}`, 'long', { handler: { kind: 'exec', command } }));
    const updates = planUpdates(true, targets, [], 0);
    assert.ok(updates.length >= 5, `${updates.length} updates`);
    assert.equal(updates.filter((u) => u.full).length, 1);
    assert.deepEqual(updates.flatMap((u) => u.upsert.map((a) => a.podUid)), targets.map((t) => t.key.podUid));
    for (const u of updates) {
      const bytes = u.upsert.reduce((n, a) => n + ProbeAssignment.encode(a).finish().length, 0);
      assert.ok(u.upsert.length === 1 || bytes <= MAX_UPDATE_BYTES, `an update of ${bytes} bytes`);
      assert.ok(bytes < 4 * 1024 * 1024);
    }
  });

  it('a split plan, sent as DeciderMessages, gives the agent every target and removal back', () => {
    const targets = Array.from({ length: MAX_ASSIGNMENTS_PER_UPDATE + 7 }, (_, i) => target('n', `u${i}`, 'q', { handler: { kind: 'tcpSocket', port: 1000 + i } }));
    const removed = Array.from({ length: MAX_REMOVALS_PER_UPDATE + 1 }, (_, i) => ({ podUid: `gone${i}`, quality: 'q' }));
    const received = planUpdates(false, targets, removed, 0).map((u, i) => {
      const bytes = DeciderMessage.encode({ body: { $case: 'plan', value: { ...u, generation: i + 1 } } }).finish();
      const body = DeciderMessage.decode(bytes).body;
      assert.equal(body?.$case, 'plan');
      return body.value;
    });
    assert.deepEqual(received.flatMap((u) => u.upsert.map(assignmentToTarget)), targets);
    assert.deepEqual(received.flatMap((u) => u.remove.map(refToKey)), removed);
  });

  it('splits big removals too', () => {
    const keys = Array.from({ length: MAX_REMOVALS_PER_UPDATE + 3 }, (_, i) => ({ podUid: `u${i}`, quality: 'q' }));
    const updates = planUpdates(false, [], keys, 0);
    assert.deepEqual(updates.map((u) => [u.full, u.remove.length]), [[false, MAX_REMOVALS_PER_UPDATE], [false, 3]]);
  });
});

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
});
