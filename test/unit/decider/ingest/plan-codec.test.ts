// Plans on the wire: every handler kind converted, and big plans split so a full plan stays one
// "replace" followed by additions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_ASSIGNMENTS_PER_UPDATE, MAX_REMOVALS_PER_UPDATE, MAX_UPDATE_BYTES, planUpdates, targetToAssignment } from '../../../../decider/ingest/plan-codec.js';
import { ProbeAssignment } from '../../../../proto/gen/okgsq/v1/agent.js';
import { target } from './ingest-kit.js';

describe('plan codec', () => {
  const cases = [
    { handler: { kind: 'exec', command: ['/bin/probe', 'a b'] }, wire: { $case: 'exec', value: { command: ['/bin/probe', 'a b'] } } },
    { handler: { kind: 'tcpSocket', port: 25565 }, wire: { $case: 'tcpSocket', value: { port: 25565 } } },
    { handler: { kind: 'grpc', port: 9000, service: 'game' }, wire: { $case: 'grpc', value: { port: 9000, service: 'game' } } },
    { handler: { kind: 'httpGet', path: '/s', port: 80, scheme: 'HTTPS', headers: [{ name: 'H', value: 'v' }] }, wire: { $case: 'httpGet', value: { path: '/s', port: 80, scheme: 'HTTPS', headers: [{ name: 'H', value: 'v' }] } } },
  ] as const;
  for (const c of cases) {
    it(`converts a ${c.handler.kind} target and survives an encode/decode round trip`, () => {
      const a = targetToAssignment(target('n', 'u1', 'q', { handler: c.handler, containerStartedAtMs: 1_764_100_000_000 }));
      assert.deepEqual(a.handler?.kind, c.wire);
      const decoded = ProbeAssignment.decode(ProbeAssignment.encode(a).finish());
      assert.deepEqual(decoded, a);
      assert.equal(decoded.containerStartedUnixMs, 1_764_100_000_000);
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

  it('splits big removals too', () => {
    const keys = Array.from({ length: MAX_REMOVALS_PER_UPDATE + 3 }, (_, i) => ({ podUid: `u${i}`, quality: 'q' }));
    const updates = planUpdates(false, [], keys, 0);
    assert.deepEqual(updates.map((u) => [u.full, u.remove.length]), [[false, MAX_REMOVALS_PER_UPDATE], [false, 3]]);
  });
});
