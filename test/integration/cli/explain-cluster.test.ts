// `okg-sq explain` against the bed's API server as a user calls it: the namespace from -n or from the
// kubeconfig context, --context choosing another context than the current one, and -o json's shape.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type { Explanation } from '../../../cli/explain.js';
import { runCli } from '../../unit/cli/run-cli.js';
import { explainFixture } from './explain-fixture.js';

describe('okg-sq explain on a cluster', () => {
  let ns = '';
  let kubeconfig = '';

  before(async () => {
    ({ namespace: ns, kubeconfig } = await explainFixture('okgsq-explain'));
  });

  it('--context picks the context, and its namespace is the default (kubectl\'s rule); -o json has the documented shape', async () => {
    const r = await runCli(['explain', 'mc-0', '--context', 'bed', '--kubeconfig', kubeconfig, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const e = JSON.parse(r.stdout) as Explanation;
    assert.equal(e.version, 1);
    assert.deepEqual(e.gameServer, { namespace: ns, name: 'mc-0', opsState: 'None' });
    assert.equal(e.gameServerSet, 'mc');
    assert.equal(e.qualities.length, 1);
    const [q] = e.qualities;
    assert.equal(q!.latest?.writtenBy, 'okg-sq');
    assert.equal(q!.latest?.result, 'idle');
    assert.equal(q!.previous, null);
    assert.equal(q!.evaluation.fires, true);
    assert.deepEqual(q!.actions.map((a) => a.matches), [true]);
    assert.deepEqual(e.pending?.gameServerPatch, { spec: { opsState: 'WaitToBeDeleted' } });
    assert.deepEqual(Object.keys(e).sort(), ['gameServer', 'gameServerSet', 'invalidQualities', 'pending', 'qualities', 'staleReports', 'version']);
  });

  it('-n names the namespace; the text output is the same explanation', async () => {
    const r = await runCli(['explain', 'mc-0', '-n', ns, '--context', 'bed', '--kubeconfig', kubeconfig]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^GameServer ${ns}/mc-0: opsState "None"`));
    assert.match(r.stdout, /pending writes: GameServer patch \{"spec":\{"opsState":"WaitToBeDeleted"\}\}/);
  });

  it('without --context it uses the current context (here unreachable: exit 1 naming it); an unknown context is a usage error', async () => {
    const current = await runCli(['explain', `${ns}/mc-0`, '--kubeconfig', kubeconfig]);
    assert.equal(current.code, 1);
    assert.match(current.stderr, /cannot reach the Kubernetes API server https:\/\/127\.0\.0\.1:1/);
    const unknown = await runCli(['explain', `${ns}/mc-0`, '--context', 'nope', '--kubeconfig', kubeconfig]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--context "nope": no such context in .*kubeconfig \(it has: bed, bed-default, gone\)/);
  });

  it('a namespace given twice, differently, is a usage error', async () => {
    const r = await runCli(['explain', `${ns}/mc-0`, '-n', 'other', '--context', 'bed', '--kubeconfig', kubeconfig]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`"${ns}/mc-0" and -n other name different namespaces`));
  });
});
