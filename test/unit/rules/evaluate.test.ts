// Table tests of docs/design.md §3 (OKG's syncServiceQualities and the GameServer patch).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ServiceQuality, ServiceQualityAction } from '../../../common/service-quality.js';
import { withOkgDefaults } from '../../../common/thresholds.js';
import { decide, type Decision } from '../../../rules/evaluate.js';
import { applyGameServerPatch } from '../../../rules/gameserver-patch.js';
import type { GameServerView, PodCondition, ServiceQualityCondition } from '../../../rules/types.js';

const NOW = new Date('2026-11-25T20:00:00.400Z');
const NOW_KUBE = '2026-11-25T20:00:00Z';
const PROBED = '2026-11-25T19:59:58Z';
const EARLIER = '2026-11-25T19:00:00Z';

function quality(actions: ServiceQualityAction[], permanent = false, name = 'healthy'): ServiceQuality {
  return { name, containerName: '', handler: { kind: 'exec', command: ['probe'] }, timing: withOkgDefaults({}), permanent, actions };
}

function podCondition(status: string, message: string, lastProbeTime = PROBED, name = 'healthy'): PodCondition {
  return { type: `game.kruise.io/${name}`, status, message, lastProbeTime, lastTransitionTime: lastProbeTime };
}

function gameServer(conditions?: ServiceQualityCondition[], spec: GameServerView['spec'] = {}, labels?: Record<string, string>): GameServerView {
  return {
    metadata: { name: 'gs-0', namespace: 'ns', ...(labels ? { labels } : {}) },
    spec,
    ...(conditions ? { status: { serviceQualitiesConditions: conditions } } : {}),
  };
}

const setsMaintaining: ServiceQualityAction = { state: false, opsState: 'Maintaining' };
const setsNone: ServiceQualityAction = { state: true, opsState: 'None' };

describe('decide: when a quality fires (permanent truth table)', () => {
  // prev: the GameServer's previous condition; cur: the pod condition now = False/"down".
  const cur = podCondition('False', 'down');
  const prevSame: ServiceQualityCondition = { name: 'healthy', status: 'False', result: 'down', lastProbeTime: EARLIER };
  const prevDiff: ServiceQualityCondition = { name: 'healthy', status: 'True', result: '', lastProbeTime: EARLIER };
  const rows: { prev: string; prevCond: ServiceQualityCondition | undefined; actionTime: boolean; permanent: boolean; fires: boolean }[] = [];
  for (const permanent of [false, true]) {
    for (const actionTime of [false, true]) {
      rows.push({ prev: 'missing', prevCond: undefined, actionTime, permanent, fires: true });
      rows.push({ prev: 'same', prevCond: prevSame, actionTime, permanent, fires: false });
      rows.push({ prev: 'different', prevCond: prevDiff, actionTime, permanent, fires: !(actionTime && permanent) });
    }
  }
  for (const row of rows) {
    it(`prev ${row.prev}, lastActionTransitionTime ${row.actionTime ? 'set' : 'unset'}, permanent ${row.permanent} → ${row.fires ? 'fires' : 'does not fire'}`, () => {
      const prev = row.prevCond && (row.actionTime ? { ...row.prevCond, lastActionTransitionTime: EARLIER } : row.prevCond);
      const d = decide({ qualities: [quality([setsMaintaining], row.permanent)], podConditions: [cur], gameServer: gameServer(prev ? [prev] : undefined, { opsState: 'None' }), now: NOW });
      assert.equal(d.trace[0]!.fired, row.fires);
      const c = d.serviceQualitiesConditions[0]!;
      assert.equal(c.status, 'False');
      assert.equal(c.result, 'down');
      assert.equal(c.lastProbeTime, PROBED);
      if (row.fires) {
        assert.deepEqual(d.gameServerPatch, { spec: { opsState: 'Maintaining' } });
        assert.equal(c.lastActionTransitionTime, NOW_KUBE);
        assert.deepEqual(d.applied, [{ quality: 'healthy', actionIndex: 0, state: false, result: 'down', opsState: 'Maintaining' }]);
      } else {
        assert.equal(d.gameServerPatch, null);
        assert.deepEqual(d.applied, []);
        // Not firing carries lastActionTransitionTime over, set or unset.
        assert.equal(c.lastActionTransitionTime, prev?.lastActionTransitionTime ?? undefined);
      }
    });
  }

  it('an unchanged result never re-applies an action: a manual edit stands', () => {
    const prev: ServiceQualityCondition = { name: 'healthy', status: 'False', result: 'down', lastProbeTime: PROBED, lastActionTransitionTime: EARLIER };
    const d = decide({ qualities: [quality([setsMaintaining])], podConditions: [podCondition('False', 'down')], gameServer: gameServer([prev], { opsState: 'Allocated' }), now: NOW });
    assert.equal(d.gameServerPatch, null);
  });
});

describe('decide: actions', () => {
  it('a firing that matches nothing resets lastActionTransitionTime, re-arming a permanent quality', () => {
    const q = quality([{ state: false, result: 'gate', opsState: 'Maintaining' }], true);
    const prev: ServiceQualityCondition = { name: 'healthy', status: 'True', result: '', lastProbeTime: EARLIER }; // unset: may fire
    const d1 = decide({ qualities: [q], podConditions: [podCondition('False', 'other')], gameServer: gameServer([prev]), now: NOW });
    assert.equal(d1.trace[0]!.fired, true);
    assert.equal(d1.serviceQualitiesConditions[0]!.lastActionTransitionTime, undefined);
    assert.equal(d1.gameServerPatch, null);
    // Previously acted, permanent: a change does not fire…
    const acted = { ...d1.serviceQualitiesConditions[0]!, lastActionTransitionTime: EARLIER };
    const blocked = decide({ qualities: [q], podConditions: [podCondition('False', 'gate')], gameServer: gameServer([acted]), now: NOW });
    assert.equal(blocked.trace[0]!.fired, false);
    // …but after the reset it does.
    const d2 = decide({ qualities: [q], podConditions: [podCondition('False', 'gate')], gameServer: gameServer(d1.serviceQualitiesConditions), now: NOW });
    assert.equal(d2.trace[0]!.fired, true);
    assert.deepEqual(d2.gameServerPatch, { spec: { opsState: 'Maintaining' } });
  });

  it('applies every matching action in order: single fields last-wins, labels and annotations merge', () => {
    const q = quality([
      { state: true, opsState: 'Allocated', deletionPriority: 5, labels: { a: '1', b: '1' }, annotations: { x: 'first' } },
      { state: false, opsState: 'Kill' },
      { state: true, result: 'busy', opsState: 'None', labels: { b: '2', c: '2' } },
    ]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', 'busy')], gameServer: gameServer(undefined, {}, { a: '1', keep: 'k' }), now: NOW });
    assert.deepEqual(d.gameServerPatch, {
      spec: { opsState: 'None', deletionPriority: 5 },
      metadata: { labels: { b: '2', c: '2' }, annotations: { x: 'first' } }, // only changed keys; none deleted
    });
    assert.deepEqual(d.applied.map((a) => a.actionIndex), [0, 2]);
    assert.deepEqual(d.trace[0]!.actions.map((a) => a.matched), [true, false, true]);
    const after = applyGameServerPatch(gameServer(undefined, {}, { a: '1', keep: 'k' }), d.gameServerPatch);
    assert.deepEqual(after.metadata.labels, { a: '1', keep: 'k', b: '2', c: '2' });
  });

  it('sets opsState only when non-empty, priorities and networkDisabled only when set (false is written)', () => {
    const q = quality([{ state: true, opsState: '', networkDisabled: false }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', '')], gameServer: gameServer(undefined, { opsState: 'Allocated', updatePriority: 3 }), now: NOW });
    assert.deepEqual(d.gameServerPatch, { spec: { networkDisabled: false } });
  });

  it('an action equal to the current spec writes nothing', () => {
    const q = quality([{ state: true, opsState: 'None', updatePriority: 3 }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', '')], gameServer: gameServer(undefined, { opsState: 'None', updatePriority: 3 }), now: NOW });
    assert.equal(d.gameServerPatch, null);
    assert.equal(d.applied.length, 1);
    assert.equal(d.statusChanged, true);
  });

  it('treats an int priority and the same digits as a string as different, as intstr does', () => {
    const q = quality([{ state: true, updatePriority: '3' }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', '')], gameServer: gameServer(undefined, { updatePriority: 3 }), now: NOW });
    assert.deepEqual(d.gameServerPatch, { spec: { updatePriority: '3' } });
  });

  it('applies containers merged by name (okg-sq; OKG ignores them)', () => {
    const q = quality([{ state: false, containers: [{ name: 'game', image: 'game:2' }, { name: 'sidecar', image: 's:1' }] }]);
    const d = decide({
      qualities: [q],
      podConditions: [podCondition('False', '')],
      gameServer: gameServer(undefined, { containers: [{ name: 'game', image: 'game:1' }, { name: 'other', image: 'o:1' }] }),
      now: NOW,
    });
    assert.deepEqual(d.gameServerPatch?.spec?.containers, [
      { name: 'game', image: 'game:2' },
      { name: 'other', image: 'o:1' },
      { name: 'sidecar', image: 's:1' },
    ]);
  });

  it('renders {{.Result}} in opsState, priorities, label and annotation values', () => {
    const q = quality([{ state: true, opsState: '{{.Result}}', deletionPriority: '{{.Result}}', updatePriority: '1{{.Result}}', labels: { state: 'l-{{.Result}}' }, annotations: { why: '{{if eq .Result "7"}}seven{{end}}' } }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', '7')], gameServer: gameServer(), now: NOW });
    assert.deepEqual(d.gameServerPatch, {
      spec: { opsState: '7', deletionPriority: 7, updatePriority: 17 },
      metadata: { labels: { state: 'l-7' }, annotations: { why: 'seven' } },
    });
  });

  it('a label value rendered from the result that Kubernetes would refuse is left out with a warning (okg-sq)', () => {
    const q = quality([{ state: true, opsState: 'Allocated', labels: { players: '{{.Result}}', ok: 'yes' } }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', '42 players')], gameServer: gameServer(), now: NOW });
    assert.deepEqual(d.gameServerPatch, { spec: { opsState: 'Allocated' }, metadata: { labels: { ok: 'yes' } } });
    assert.deepEqual(d.warnings.map((w) => [w.reason, w.actionIndex]), [['InvalidLabelValue', 0]]);
    assert.match(d.warnings[0]!.message, /players/);
  });

  it("annotations that would pass Kubernetes' 256 KiB limit are left out with a warning; the rest of the patch stands (okg-sq)", () => {
    const many = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`a${i}`, '{{.Result}}']));
    const q = quality([{ state: true, opsState: 'Allocated', annotations: { small: 'yes' } }, { state: true, annotations: many }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', 'f'.repeat(1000))], gameServer: gameServer(), now: NOW });
    assert.deepEqual(d.gameServerPatch, { spec: { opsState: 'Allocated' }, metadata: { annotations: { small: 'yes' } } });
    assert.deepEqual(d.warnings.map((w) => [w.reason, w.actionIndex]), [['AnnotationsTooLarge', 1]]);
    assert.match(d.warnings[0]!.message, /over Kubernetes' limit of 262144/);
    assert.equal(d.applied.length, 2, 'both actions matched (the state is recorded as acted upon)');
  });

  it("a template that fails to render leaves its field alone with a warning naming the field and why (okg-sq; OKG writes the template's text)", () => {
    const q = quality([{ state: true, opsState: '{{if eq .Result "x"}}{{.Foo}}{{else}}Allocated{{end}}', labels: { l: '{{index .Result 9}}', ok: 'yes' }, annotations: { a: '{{lt .Result 5}}', b: 'kept' } }]);
    const fine = decide({ qualities: [q], podConditions: [podCondition('True', 'y')], gameServer: gameServer(undefined, { opsState: 'None' }), now: NOW });
    assert.deepEqual(fine.gameServerPatch?.spec, { opsState: 'Allocated' });
    const d = decide({ qualities: [q], podConditions: [podCondition('True', 'x')], gameServer: gameServer(undefined, { opsState: 'None' }), now: NOW });
    assert.deepEqual(d.gameServerPatch, { metadata: { labels: { ok: 'yes' }, annotations: { b: 'kept' } } });
    assert.deepEqual(d.warnings.map((w) => [w.reason, w.message.split(':')[0]]), [['TemplateFailed', 'opsState'], ['TemplateFailed', 'label l'], ['TemplateFailed', 'annotation a']]);
    assert.match(d.warnings[0]!.message, /can't evaluate field Foo/);
    assert.equal(d.applied.length, 1, 'the action matched: it is recorded as acted upon');
  });

  it('an opsState rendered empty, too long, with spaces or non-ASCII is left alone with a warning: OKG copies it into a pod label (okg-sq)', () => {
    const q = quality([{ state: true, opsState: '{{.Result}}', labels: { ok: 'yes' } }]);
    for (const result of ['', 'x'.repeat(64), 'Wait To Be Deleted', 'naïve', '-Leading', 'Trailing.']) {
      const d = decide({ qualities: [q], podConditions: [podCondition('True', result)], gameServer: gameServer(), now: NOW });
      assert.deepEqual(d.gameServerPatch, { metadata: { labels: { ok: 'yes' } } }, JSON.stringify(result));
      assert.deepEqual(d.warnings.map((w) => [w.reason, w.quality, w.actionIndex]), [['InvalidOpsState', q.name, 0]], JSON.stringify(result));
      assert.deepEqual(d.applied.map((a) => a.opsState), [undefined], 'the action matched, its opsState was not applied');
    }
    const ok = decide({ qualities: [q], podConditions: [podCondition('True', 'x'.repeat(63))], gameServer: gameServer(), now: NOW });
    assert.deepEqual(ok.gameServerPatch?.spec, { opsState: 'x'.repeat(63) });
    assert.deepEqual(ok.warnings, []);
  });

  it('a priority OKG could not copy into its pod label (a negative one) is left alone with a warning (okg-sq)', () => {
    const q = quality([{ state: true, deletionPriority: '{{.Result}}', updatePriority: -1, opsState: 'Allocated' }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', '-5')], gameServer: gameServer(), now: NOW });
    assert.deepEqual(d.gameServerPatch, { spec: { opsState: 'Allocated' } });
    assert.deepEqual(d.warnings.map((w) => w.reason).sort(), ['InvalidDeletionPriority', 'InvalidUpdatePriority']);
    assert.match(d.warnings.find((w) => w.reason === 'InvalidDeletionPriority')!.message, /game\.kruise\.io\/gs-delete-priority/);
    const ok = decide({ qualities: [q], podConditions: [podCondition('True', '5')], gameServer: gameServer(), now: NOW });
    assert.deepEqual(ok.gameServerPatch?.spec, { opsState: 'Allocated', deletionPriority: 5 });
  });

  it('a priority template that does not render to an integer is a warning and leaves the field alone', () => {
    const q = quality([{ state: true, deletionPriority: '{{.Result}}', updatePriority: '{{.Result}}', opsState: 'Allocated' }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', 'abc')], gameServer: gameServer(undefined, { deletionPriority: 1 }), now: NOW });
    assert.deepEqual(d.gameServerPatch, { spec: { opsState: 'Allocated' } });
    assert.deepEqual(d.warnings.map((w) => w.reason).sort(), ['InvalidDeletionPriority', 'InvalidUpdatePriority']);
    assert.match(d.warnings[0]!.message, /abc/);
    assert.equal(d.serviceQualitiesConditions[0]!.lastActionTransitionTime, NOW_KUBE); // it still matched
  });
});

describe('decide: statuses and results', () => {
  it('compares results with every "|" and newline removed', () => {
    const q = quality([{ state: true, result: 'gate', opsState: 'GateMaintaining' }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', 'ga|te\n')], gameServer: gameServer(), now: NOW });
    assert.deepEqual(d.gameServerPatch, { spec: { opsState: 'GateMaintaining' } });
    assert.equal(d.serviceQualitiesConditions[0]!.result, 'gate');
  });

  it('nothing else is trimmed: a trailing space does not match', () => {
    const q = quality([{ state: true, result: 'gate', opsState: 'GateMaintaining' }]);
    const d = decide({ qualities: [q], podConditions: [podCondition('True', 'gate ')], gameServer: gameServer(), now: NOW });
    assert.equal(d.gameServerPatch, null);
  });

  it('status "Unknown" (or anything ParseBool rejects) matches no action', () => {
    const q = quality([setsMaintaining, setsNone]);
    for (const status of ['Unknown', '', 'yes']) {
      const d = decide({ qualities: [q], podConditions: [podCondition(status, '')], gameServer: gameServer(), now: NOW });
      assert.equal(d.gameServerPatch, null, status);
      assert.equal(d.trace[0]!.fired, true);
      assert.equal(d.serviceQualitiesConditions[0]!.lastActionTransitionTime, undefined);
    }
  });

  it('accepts every spelling Go’s ParseBool accepts', () => {
    for (const status of ['true', 'TRUE', 't', '1']) {
      const d = decide({ qualities: [quality([setsNone])], podConditions: [podCondition(status, '')], gameServer: gameServer(undefined, { opsState: 'Kill' }), now: NOW });
      assert.deepEqual(d.gameServerPatch, { spec: { opsState: 'None' } }, status);
    }
  });

  it('without a pod condition the condition is just {name}', () => {
    const prev: ServiceQualityCondition = { name: 'healthy', status: 'True', lastActionTransitionTime: EARLIER };
    const d = decide({ qualities: [quality([setsNone])], podConditions: [], gameServer: gameServer([prev]), now: NOW });
    assert.deepEqual(d.serviceQualitiesConditions, [{ name: 'healthy' }]);
    assert.equal(d.gameServerPatch, null);
    assert.equal(d.statusChanged, true);
  });

  it('reads the last of duplicate previous conditions, as OKG’s map does', () => {
    const prev: ServiceQualityCondition[] = [
      { name: 'healthy', status: 'False', result: 'down', lastProbeTime: EARLIER },
      { name: 'healthy', status: 'True', result: '', lastProbeTime: PROBED },
    ];
    const d = decide({ qualities: [quality([setsNone])], podConditions: [podCondition('True', '')], gameServer: gameServer(prev, { opsState: 'Kill' }), now: NOW });
    assert.equal(d.trace[0]!.fired, false);
    assert.equal(d.gameServerPatch, null);
    assert.equal(d.statusChanged, true, 'the duplicate is dropped from the status');
  });

  it('keeps the set’s order and drops conditions of qualities no longer in the set', () => {
    const qs = [quality([], false, 'b'), quality([], false, 'a')];
    const d = decide({ qualities: qs, podConditions: [], gameServer: gameServer([{ name: 'a' }, { name: 'gone' }]), now: NOW });
    assert.deepEqual(d.serviceQualitiesConditions, [{ name: 'b' }, { name: 'a' }]);
  });
});

describe('decide: lastTransitionTime is whichever of lastActionTransitionTime and lastProbeTime is closer to now', () => {
  const cases: { name: string; prevAction?: string; probe: string; fires: boolean; matches: boolean; want: string | undefined }[] = [
    { name: 'an action applied now', probe: PROBED, fires: true, matches: true, want: NOW_KUBE },
    { name: 'fired, nothing matched', probe: PROBED, fires: true, matches: false, want: PROBED },
    { name: 'carried action time older than the probe', prevAction: EARLIER, probe: PROBED, fires: false, matches: false, want: PROBED },
    { name: 'carried action time newer than the probe', prevAction: '2026-11-25T19:59:59Z', probe: PROBED, fires: false, matches: false, want: '2026-11-25T19:59:59Z' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const q = quality([{ state: true, result: c.matches ? 'r' : 'never', opsState: 'None' }]);
      const prev: ServiceQualityCondition = c.fires
        ? { name: 'healthy', status: 'False', result: 'x' }
        : { name: 'healthy', status: 'True', result: 'r', lastProbeTime: c.probe, ...(c.prevAction ? { lastActionTransitionTime: c.prevAction } : {}) };
      const d = decide({ qualities: [q], podConditions: [podCondition('True', 'r', c.probe)], gameServer: gameServer([prev]), now: NOW });
      assert.equal(d.trace[0]!.fired, c.fires);
      assert.equal(d.serviceQualitiesConditions[0]!.lastTransitionTime, c.want);
    });
  }
});

describe('decide: idempotence', () => {
  function writeBack(gs: GameServerView, d: Decision): GameServerView {
    const patched = applyGameServerPatch(gs, d.gameServerPatch);
    return { ...patched, status: { serviceQualitiesConditions: d.serviceQualitiesConditions } };
  }

  it('deciding again on the written result changes nothing', () => {
    const qualities = [
      quality([{ state: true, result: 'gate', opsState: 'GateMaintaining', labels: { part: 'gate' } }, { state: false, opsState: 'None', deletionPriority: '{{.Result}}' }]),
      quality([{ state: true, opsState: 'WaitToBeDeleted', annotations: { idle: '{{.Result}}' } }], true, 'idle'),
    ];
    const pod = [podCondition('True', 'gate'), podCondition('True', 'yes', PROBED, 'idle')];
    let gs = gameServer(undefined, { opsState: 'None' });
    const first = decide({ qualities, podConditions: pod, gameServer: gs, now: NOW });
    assert.notEqual(first.gameServerPatch, null);
    assert.equal(first.statusChanged, true);
    gs = writeBack(gs, first);
    const second = decide({ qualities, podConditions: pod, gameServer: gs, now: new Date('2026-11-25T20:05:00Z') });
    assert.equal(second.gameServerPatch, null);
    assert.equal(second.statusChanged, false);
    assert.deepEqual(second.serviceQualitiesConditions, first.serviceQualitiesConditions);
    assert.deepEqual(second.applied, []);
  });

  it('reads null times (as the API server returns zero metav1.Time) like absent ones', () => {
    const q = quality([setsNone]);
    const prev: ServiceQualityCondition = { name: 'healthy', status: 'True', result: '', lastProbeTime: PROBED, lastTransitionTime: PROBED, lastActionTransitionTime: null };
    const d = decide({ qualities: [q], podConditions: [podCondition('True', '')], gameServer: gameServer([prev]), now: NOW });
    assert.equal(d.statusChanged, false);
    assert.equal(d.gameServerPatch, null);
  });
});

// The scenarios of kruise-game's own TestSyncServiceQualities and TestSyncServiceQualities_WithTemplate
// (pkg/controllers/gameserver/gameserver_manager_test.go), restated as data: the same inputs must give
// the spec, labels, annotations and condition shape OKG's tests expect.
describe('decide: the scenarios of OKG’s own syncServiceQualities tests', () => {
  const upDown: ServiceQualityAction[] = [{ state: true, updatePriority: 20 }, { state: false, deletionPriority: 10 }];
  const abc: ServiceQualityAction[] = ['A', 'B', 'C'].map((r) => ({ state: true, result: r, opsState: r }));
  const other: PodCondition = { type: 'otherA', status: 'False', lastProbeTime: PROBED };
  const rows: {
    name: string;
    q: ServiceQuality;
    pod: PodCondition[];
    prev?: ServiceQualityCondition[];
    spec?: GameServerView['spec'];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    status?: string;
    result?: string;
    acted: boolean;
    noCondition?: boolean;
  }[] = [
    { name: 'case 0: first outcome True fires the state:true action', q: quality(upDown, true), pod: [podCondition('True', ''), other], spec: { updatePriority: 20 }, status: 'True', acted: true },
    {
      name: 'case 1: permanent and already acted: a change does not fire',
      q: quality(upDown, true),
      pod: [podCondition('True', ''), other],
      prev: [{ name: 'healthy', status: 'False', lastProbeTime: PROBED, lastActionTransitionTime: EARLIER }],
      status: 'True',
      acted: true,
    },
    { name: 'case 2: no pod condition → {name} only', q: quality(upDown, true), pod: [other], acted: false, noCondition: true },
    { name: 'case 3: fires, nothing matches → no action time', q: quality([{ state: true, updatePriority: 20 }], true), pod: [podCondition('False', ''), other], status: 'False', acted: false },
    {
      name: 'case 4: not permanent: a change fires again, annotations set',
      q: quality([{ state: true, updatePriority: 20, annotations: { 'case-4': 'new' } }, { state: false, deletionPriority: 10 }]),
      pod: [podCondition('True', ''), other],
      prev: [{ name: 'healthy', status: 'False', lastProbeTime: PROBED, lastActionTransitionTime: EARLIER }],
      spec: { updatePriority: 20 },
      annotations: { 'case-4': 'new' },
      status: 'True',
      acted: true,
    },
    { name: 'case 5: the action whose result matches', q: quality(abc, false, 'multi-return'), pod: [podCondition('True', 'B', PROBED, 'multi-return')], spec: { opsState: 'B' }, status: 'True', result: 'B', acted: true },
    {
      name: 'case 6: a new result fires the other action',
      q: quality(abc, false, 'multi-return'),
      pod: [podCondition('True', 'A', PROBED, 'multi-return')],
      prev: [{ name: 'multi-return', status: 'True', result: 'B', lastProbeTime: PROBED, lastActionTransitionTime: EARLIER }],
      spec: { opsState: 'A' },
      status: 'True',
      result: 'A',
      acted: true,
    },
    {
      name: 'template in annotations and labels',
      q: quality([{ state: true, annotations: { 'player-count': '{{.Result}}', info: 'players-{{.Result}}' }, labels: { count: '{{.Result}}' } }], false, 'player-count'),
      pod: [podCondition('True', '42', PROBED, 'player-count')],
      labels: { count: '42' },
      annotations: { 'player-count': '42', info: 'players-42' },
      status: 'True',
      result: '42',
      acted: true,
    },
    {
      name: 'template with a conditional in opsState and a label',
      q: quality([{ state: true, opsState: '{{if eq .Result "0"}}WaitToBeDeleted{{else}}None{{end}}', labels: { status: '{{if eq .Result "0"}}empty{{else}}active{{end}}' } }], false, 'health-check'),
      pod: [podCondition('True', '0', PROBED, 'health-check')],
      spec: { opsState: 'WaitToBeDeleted' },
      labels: { status: 'empty' },
      status: 'True',
      result: '0',
      acted: true,
    },
    {
      name: 'template with gt',
      q: quality([{ state: true, labels: { 'load-level': '{{if gt .Result "80"}}high{{else}}normal{{end}}' } }], false, 'load-check'),
      pod: [podCondition('True', '85', PROBED, 'load-check')],
      labels: { 'load-level': 'high' },
      status: 'True',
      result: '85',
      acted: true,
    },
    {
      name: 'template in updatePriority',
      q: quality([{ state: true, updatePriority: '{{.Result}}' }], false, 'player-priority'),
      pod: [podCondition('True', '75', PROBED, 'player-priority')],
      spec: { updatePriority: 75 },
      status: 'True',
      result: '75',
      acted: true,
    },
    {
      name: 'template formula in deletionPriority',
      q: quality([{ state: true, deletionPriority: '{{if eq .Result "0"}}1{{else}}100{{end}}' }], false, 'player-based-deletion'),
      pod: [podCondition('True', '0', PROBED, 'player-based-deletion')],
      spec: { deletionPriority: 1 },
      status: 'True',
      result: '0',
      acted: true,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const gs = gameServer(row.prev);
      const d = decide({ qualities: [row.q], podConditions: row.pod, gameServer: gs, now: NOW });
      const after = applyGameServerPatch(gs, d.gameServerPatch);
      assert.deepEqual(after.spec, row.spec ?? {});
      assert.deepEqual(after.metadata.labels, row.labels);
      assert.deepEqual(after.metadata.annotations, row.annotations);
      const c = d.serviceQualitiesConditions[0]!;
      if (row.noCondition) {
        assert.deepEqual(c, { name: row.q.name });
        return;
      }
      assert.equal(c.status, row.status);
      assert.equal(c.result, row.result);
      assert.equal(c.lastProbeTime, PROBED);
      assert.equal(c.lastActionTransitionTime !== undefined, row.acted);
    });
  }
});

describe('decide: purity', () => {
  function deepFreeze<T>(value: T): T {
    if (typeof value === 'object' && value !== null) {
      for (const v of Object.values(value)) deepFreeze(v);
      Object.freeze(value);
    }
    return value;
  }

  it('never mutates its inputs (they are informer cache objects)', () => {
    const q = quality([{ state: true, opsState: 'None', labels: { a: '{{.Result}}' }, annotations: { b: 'x' }, containers: [{ name: 'game', image: 'g:2' }] }]);
    const gs = gameServer([{ name: 'healthy', status: 'False' }], { containers: [{ name: 'game', image: 'g:1' }] }, { keep: 'k' });
    const input = deepFreeze({ qualities: [q], podConditions: [podCondition('True', 'r')], gameServer: gs, now: NOW });
    const d = decide(input); // strict-mode ESM: writing to a frozen object would throw
    assert.notEqual(d.gameServerPatch, null);
    assert.deepEqual(gs.metadata.labels, { keep: 'k' });
    assert.deepEqual(applyGameServerPatch(gs, d.gameServerPatch).metadata.labels, { keep: 'k', a: 'r' });
  });
});
