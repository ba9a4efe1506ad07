// `okg-sq explain` against the cluster bed, as a user runs it with the KUBECONFIG the bed prints, on
// GameServers the agent and decider pods moved (examples/idle, plain and permanent): for the action that
// fired it names the matching action; for actions that did not fire it names why: the edge trigger (a
// manual edit stands) and a permanent quality that already acted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Explanation } from '../../cli/explain.js';
import { runCli } from '../unit/cli/run-cli.js';
import { ClusterBed, GROUP, VERSION, idleApplied, qualityCondition } from './cluster-kit.js';

test('okg-sq explain names the action that fired, and why the others did not (edge trigger, permanent)', async () => {
  const bed = new ClusterBed();
  const explain = async (namespace: string, name: string, output: 'json' | 'text'): Promise<string> => {
    const r = await runCli(['explain', '-n', namespace, name, '-o', output], undefined, { env: { ...process.env, KUBECONFIG: bed.env.kubeconfig } });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  try {
    const { namespace, quality, plain, permanent, players } = await bed.createIdleLobbies('ct-explain');
    const applied = await bed.waitForGameServer(namespace, plain, 'WaitToBeDeleted applied', idleApplied(quality));
    await bed.waitForGameServer(namespace, permanent, 'WaitToBeDeleted applied', idleApplied(quality));

    // Fired: the idle outcome matched action 0 (state true → WaitToBeDeleted), not action 1 (state false → None).
    const fired = JSON.parse(await explain(namespace, plain, 'json')) as Explanation;
    assert.deepEqual(fired.gameServer, { namespace, name: plain, opsState: 'WaitToBeDeleted' });
    const [q] = fired.qualities;
    assert.equal(q!.name, quality);
    assert.deepEqual([q!.latest?.status, q!.latest?.result, q!.latest?.writtenBy], ['True', 'idle', 'okg-sq']);
    assert.equal(q!.previous?.lastActionTransitionTime, qualityCondition(applied, quality)!.lastActionTransitionTime, 'when the action applied');
    assert.deepEqual(q!.actions, [{ index: 0, matches: true, why: 'state true, any result' }, { index: 1, matches: false, why: 'state false ≠ true' }]);
    assert.equal(fired.pending, null, 'converged');

    // Not fired, edge trigger: a manual edit stands while the outcome is unchanged.
    await bed.custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: 'gameservers', name: plain, body: { spec: { opsState: 'Allocated' } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
    const edited = await explain(namespace, plain, 'text');
    assert.match(edited, new RegExp(`^GameServer ${namespace}/${plain}: opsState "Allocated"`));
    assert.match(edited, /evaluation now: does not fire: status and result unchanged \(edge trigger\)\n/);
    assert.match(edited, /action 0: matches: state true, any result/);
    assert.match(edited, /converged: okg-sq has nothing to write/);

    // Not fired, permanent: a player joined; action 1 matches the new outcome, but the quality acted already.
    await players(permanent, 'echo alice >>');
    await bed.waitForGameServer(namespace, permanent, 'the outcome "1 players" stored', (gs) => qualityCondition(gs, quality)?.result === '1 players');
    const once = JSON.parse(await explain(namespace, permanent, 'json')) as Explanation;
    assert.equal(once.gameServer.opsState, 'WaitToBeDeleted');
    const [p] = once.qualities;
    assert.deepEqual([p!.latest?.status, p!.latest?.result], ['False', '1 players']);
    assert.equal(p!.evaluation.fires, false);
    assert.match(p!.evaluation.why, /did not fire: permanent, an action already applied$/);
    assert.deepEqual(p!.actions.map((a) => [a.matches, a.why]), [[false, 'state true ≠ false'], [true, 'state false, any result']]);
    assert.equal(once.pending, null, 'converged');
  } finally {
    bed.close();
  }
});
