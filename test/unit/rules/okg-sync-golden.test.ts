// decide() step by step against OpenKruiseGame's own syncServiceQualities (kruise-game KRUISE_GAME_VERSION,
// compiled with an oracle test file into its package: test/okg-oracle): generated chains of pod
// conditions (statuses Go's ParseBool reads and ones it does not, results with '|' and newlines, repeats
// that must not fire, permanent qualities) on one GameServer that keeps what each step wrote. The
// qualities go through okg-sq's schema parser first, as in the decider. Compared: the conditions written
// (times this step wrote are "NOW"), opsState, priorities, networkDisabled, labels, annotations, and the
// Warning reasons. The chains avoid okg-sq's documented differences (containers; label values Kubernetes
// refuses; opsState, label and annotation templates that fail to render).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decide } from '../../../rules/evaluate.js';
import { applyGameServerPatch } from '../../../rules/gameserver-patch.js';
import { kubeTime } from '../../../rules/kube-time.js';
import { parseServiceQualities } from '../../../rules/schema.js';
import type { GameServerView, PodCondition, ServiceQualityCondition } from '../../../rules/types.js';
import { readGolden } from './okg-golden.js';

interface Step {
  readonly conditions: Record<string, string>[];
  readonly spec: Record<string, unknown>;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
  readonly events: string[];
}
interface ChainLine {
  readonly chain: { qualities: unknown[]; gameServer: GameServerView; steps: PodCondition[][] };
  readonly steps: Step[];
}

const NOW = new Date('2030-06-01T12:00:00.250Z');
const NOW_KUBE = kubeTime(NOW.getTime());

function stamped(c: ServiceQualityCondition): Record<string, string> {
  const out: Record<string, string> = { name: c.name };
  for (const k of ['status', 'result', 'lastProbeTime', 'lastTransitionTime', 'lastActionTransitionTime'] as const) {
    const v = c[k];
    if (v) out[k] = v === NOW_KUBE && k !== 'status' && k !== 'result' ? 'NOW' : v;
  }
  return out;
}

function specOf(gs: GameServerView): Record<string, unknown> {
  const s = gs.spec ?? {};
  const out: Record<string, unknown> = {};
  if (s.opsState) out['opsState'] = s.opsState;
  for (const k of ['updatePriority', 'deletionPriority', 'networkDisabled'] as const) if (s[k] !== undefined && s[k] !== null) out[k] = s[k];
  return out;
}

describe("decide() step by step = OKG's syncServiceQualities (generated chains)", () => {
  const { header, lines } = readGolden<ChainLine>('okg-sync.jsonl.gz');

  it(`agrees on every step of ${lines.length} chains`, () => {
    assert.ok(lines.length >= 100);
    const differences: unknown[] = [];
    let steps = 0;
    let fired = 0;
    lines.forEach(({ chain, steps: okg }, n) => {
      const gss = { metadata: { name: 'gss' }, spec: { gameServerTemplate: { spec: { containers: [{ name: 'game' }] } }, serviceQualities: chain.qualities } };
      const { qualities, problems } = parseServiceQualities(gss);
      const errors = problems.filter((p) => p.severity === 'error');
      if (errors.length > 0 || qualities.length !== chain.qualities.length) {
        differences.push({ chain: n, refusedByCheck: errors });
        return;
      }
      let gs: GameServerView = chain.gameServer;
      chain.steps.forEach((podConditions, i) => {
        const d = decide({ qualities, podConditions, gameServer: gs, now: NOW });
        gs = { ...applyGameServerPatch(gs, d.gameServerPatch), status: { serviceQualitiesConditions: d.serviceQualitiesConditions } };
        steps++;
        if (d.applied.length > 0) fired++;
        const ours: Step = {
          conditions: d.serviceQualitiesConditions.map(stamped),
          spec: specOf(gs),
          labels: { ...(gs.metadata.labels ?? {}) },
          annotations: { ...(gs.metadata.annotations ?? {}) },
          events: d.warnings.map((w) => w.reason).sort(),
        };
        const expected = { ...okg[i]!, events: [...okg[i]!.events].sort() };
        try {
          assert.deepEqual(ours, expected);
        } catch {
          differences.push({ chain: n, step: i, podConditions, okg: expected, okgSq: ours });
        }
      });
    });
    assert.deepEqual(differences.slice(0, 5), [], `${differences.length} differences (kruise-game ${header.kruiseGame})`);
    assert.ok(fired > steps / 4, `actions fired on only ${fired} of ${steps} steps`);
  });
});
