// An agent minting metric series: the running decider's /metrics must stay bounded by the objects, never
// by probe results. `opsState: "{{.Result}}"` (our own example) with a new result per flip once made a new
// okgsq_actions_applied_total series per result, kept forever; and a deleted set's series stayed too.
// Lower-level proof: test/unit/decider/metrics.test.ts.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../testbed/wait-for.js';
import { counters, outcome, SET, WireBed, type Room } from './wire-kit.js';
import { GAME, must } from './bad-kit.js';

const FLIPS = 12;

describe('metric series bounded by objects, not by results', () => {
  const bed = new WireBed();
  let room: Room;

  before(async () => {
    await bed.start('bad-series', [
      {
        name: 'state', containerName: 'game', permanent: false, exec: { command: ['cat', '/state'] },
        serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }],
      },
    ]);
    room = await bed.room('room-0');
  });
  after(() => bed.stop());

  const series = async (): Promise<string[]> =>
    (await bed.metrics()).split('\n').filter((l) => l.startsWith('okgsq_') && l.includes(`namespace="${bed.ns}"`) && !l.startsWith('okgsq_gameservers{'));

  it('counts actions per quality, whatever opsState each result renders', async () => {
    const agent = await bed.agent(1);
    for (let i = 0; i < FLIPS; i++) {
      agent.sendOutcomes([outcome(room, 'state', true, `Result${i}`)], [counters(bed.ns, 'state')]);
      await bed.waitGameServer(room.name, (gs) => gs.spec.opsState === `Result${i}`, `opsState Result${i}`);
    }
    // The decider counts an action once all its writes landed (the spec, then the status), after the spec
    // change can already be seen: wait for the last count, which must be in exactly one series.
    const actions = async (): Promise<string[]> => (await series()).filter((l) => l.startsWith('okgsq_actions_applied_total{'));
    const expected = [`okgsq_actions_applied_total{namespace="${bed.ns}",gameserverset="${SET}",quality="state"} ${FLIPS}`];
    await waitFor(async () => (await actions()).join() === expected.join(), { timeoutMs: 10_000, what: `${FLIPS} actions counted` }).catch(async (err) => {
      throw new Error(`${err.message}; the series:\n${(await actions()).join('\n')}`, { cause: err });
    });
    // Every family with a quality label has at most one series per (quality, outcome, error kind, bucket).
    assert.ok((await series()).length <= 20, (await series()).join('\n'));
  });

  it("drops a deleted set's series", async () => {
    await waitFor(async () => (await series()).some((l) => l.startsWith('okgsq_probe_runs_total{')), { timeoutMs: 10_000, what: 'probe run series' });
    await must(bed.admin, 'DELETE', `${GAME}/namespaces/${bed.ns}/gameserversets/${SET}`);
    await waitFor(async () => (await series()).length === 0, { timeoutMs: 10_000, intervalMs: 200, what: "the deleted set's series gone" }).catch(async (err) => {
      throw new Error(`${err.message}; still there:\n${(await series()).join('\n')}`, { cause: err });
    });
  });
});
