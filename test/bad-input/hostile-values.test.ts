// Values from the wire and from results that Kubernetes or OKG would refuse, against the running decider
// and the real apiserver, sent by an agent stream with a real token:
// * an outcome observed far in the future (past what a Date holds, or in year 10000) once made the
//   decider throw, or render a time the apiserver refuses (422): either way the GameServer's other,
//   valid quality was not written either. Now it is rejected alone and counted.
// * a rendered opsState that is empty, too long, with spaces or non-ASCII was written as is; OKG copies it
//   into the pod label game.kruise.io/gs-opsState, which the apiserver refuses (checked here on the real
//   apiserver), so OKG's pod sync stopped; an empty one is no state at all. Now it is left alone: Warning
//   Event, counted.
// Lower-level proofs: test/unit/decider/pipeline.test.ts, test/unit/rules/evaluate.test.ts,
// test/unit/rules/pod-conditions.test.ts (kubeTime).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../testbed/wait-for.js';
import type { TestAgent } from '../unit/decider/ingest/ingest-kit.js';
import { metricSum, outcome, WireBed, type Room } from './wire-kit.js';

const LABEL = 'okg-sq.test/data';

describe('values Kubernetes or OKG would refuse, from the wire and from results', () => {
  const bed = new WireBed();
  let agent: TestAgent;
  let rooms: Room[];

  before(async () => {
    await bed.start('bad-values', [
      { name: 'state', containerName: 'game', permanent: false, exec: { command: ['cat', '/state'] }, serviceQualityAction: [{ state: true, opsState: '{{.Result}}' }] },
      { name: 'data', containerName: 'game', permanent: false, exec: { command: ['cat', '/data'] }, serviceQualityAction: [{ state: true, labels: { [LABEL]: '{{.Result}}' } }] },
    ]);
    rooms = [await bed.room('room-0'), await bed.room('room-1'), await bed.room('room-2')];
    agent = await bed.agent(6);
  });
  after(() => bed.stop());

  const rejectedTimes = async (): Promise<number> => metricSum(await bed.metrics(), 'okgsq_outcomes_rejected_total', 'reason="time_out_of_range"');

  async function futureOutcome(room: Room, observed: number, result: string): Promise<void> {
    const before = await rejectedTimes();
    agent.sendOutcomes([outcome(room, 'data', true, 'from-the-future', observed), outcome(room, 'state', true, result)]);
    const gs = await bed.waitGameServer(room.name, (g) => g.spec.opsState === result, `the valid quality applied (opsState ${result})`);
    assert.equal(gs.metadata.labels?.[LABEL], undefined, 'the future outcome applied nothing');
    assert.equal((await rejectedTimes()) - before, 1);
    const conditions = (await bed.pod(room.name)).status.conditions ?? [];
    assert.deepEqual(conditions.filter((c: any) => c.type.startsWith('game.kruise.io/')).map((c: any) => c.type), ['game.kruise.io/state']);
    assert.ok(await bed.decider!.healthy());
  }

  it("rejects (and counts) an outcome observed past what a Date holds (kubeTime threw), and still writes the GameServer's other quality", async () => {
    await futureOutcome(rooms[0]!, Number.MAX_SAFE_INTEGER, 'Future');
  });

  it("rejects (and counts) an outcome observed in year 10000 (the apiserver refused the whole patch), and still writes the GameServer's other quality", async () => {
    await futureOutcome(rooms[1]!, Date.UTC(10000, 0, 1), 'Year10000');
  });

  it('leaves alone an opsState rendered empty (no state at all), or one the pod label OKG copies it to refuses (300 characters, spaces, non-ASCII): Warning Event, counted', async () => {
    const room = rooms[2]!;
    const refusedValues = async (): Promise<number> => metricSum(await bed.metrics(), 'okgsq_action_values_refused_total', 'reason="InvalidOpsState"');
    const pod = `/api/v1/namespaces/${bed.ns}/pods/${room.name}`;
    let n = 0;
    for (const bad of ['', 'x'.repeat(300), 'Wait To Be Deleted', 'naïve']) {
      if (bad) {
        // What OKG would do with it: the real apiserver refuses it as the pod label.
        const asLabel = await bed.admin.request('PATCH', pod, { body: { metadata: { labels: { 'game.kruise.io/gs-opsState': bad } } }, contentType: 'application/merge-patch+json' });
        assert.equal(asLabel.status, 422, `the apiserver refuses ${JSON.stringify(bad.slice(0, 20))} as a label value`);
      }
      const before = await refusedValues();
      // Each bad result follows a good one: a changed result fires the action again.
      agent.sendOutcomes([outcome(room, 'state', true, `Good${n}`)]);
      await bed.waitGameServer(room.name, (g) => g.spec.opsState === `Good${n}`, `opsState Good${n}`);
      agent.sendOutcomes([outcome(room, 'state', true, bad)]);
      await waitFor(async () => (await refusedValues()) === before + 1, { timeoutMs: 10_000, what: `the refusal of ${JSON.stringify(bad.slice(0, 20))} counted` });
      const gs = await bed.gameServer(room.name);
      assert.equal(gs.spec.opsState, `Good${n}`, 'the opsState is left alone');
      assert.equal(gs.status.serviceQualitiesConditions.find((c: any) => c.name === 'state')?.result ?? '', bad, 'the condition still records the result');
      n++;
    }
    // Repeats aggregate into one Event (its count updated at most every 30 s, like client-go's recorder).
    const warnings = (await bed.events(room.name)).filter((e) => e.type === 'Warning' && e.reason === 'InvalidOpsState');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!.message, /service quality state action 0: rendered opsState/);
  });
});
