import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { applyGameServerPatch } from '../../../rules/gameserver-patch.js';
import type { GameServerPatch, GameServerView, PodCondition, ServiceQualityCondition } from '../../../rules/types.js';
import { repoPath } from '../../testbed/repo-root.js';
import { runCli } from './run-cli.js';

const GSS = repoPath('test/fixtures/gss/eval/gameserverset.yaml');
const GS = repoPath('test/fixtures/gss/eval/gameserver.yaml');
const POD = repoPath('test/fixtures/gss/eval/pod.yaml');

interface EvalOutput {
  podConditions: PodCondition[];
  gameServerPatch: GameServerPatch | null;
  serviceQualitiesConditions: ServiceQualityCondition[];
}

async function evalJson(args: string[]): Promise<EvalOutput> {
  const r = await runCli(['eval', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as EvalOutput;
}

describe('okg-sq eval', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'okgsq-eval-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the pod conditions, the merge patch and the new conditions for the outcomes', async () => {
    const out = await evalJson(['--gameserverset', GSS, '--gameserver', GS, '--pod', POD, '--outcome', 'healthy=true:gate', '--outcome', 'idle=true:12|', '--now', '2026-11-25T20:00:00Z']);
    assert.deepEqual(out.podConditions.map((c) => [c.type, c.status, c.message]), [
      ['Ready', 'True', undefined],
      ['game.kruise.io/healthy', 'True', 'gate'],
      ['game.kruise.io/idle', 'True', '12'], // normalised like a probe's output
    ]);
    assert.deepEqual(out.gameServerPatch, { spec: { opsState: 'WaitToBeDeleted', deletionPriority: 12 }, metadata: { labels: { broken: 'gate' } } });
    assert.deepEqual(out.serviceQualitiesConditions[0], {
      name: 'healthy', status: 'True', result: 'gate',
      lastProbeTime: '2026-11-25T20:00:00Z', lastTransitionTime: '2026-11-25T20:00:00Z', lastActionTransitionTime: '2026-11-25T20:00:00Z',
    });
  });

  it('fed its own output back, gives a null patch and the same conditions', async () => {
    const outcomes = ['--outcome', 'healthy=false', '--outcome', 'idle=true:3'];
    const first = await evalJson(['--gameserverset', GSS, '--gameserver', GS, ...outcomes, '--now', '2026-11-25T20:00:00Z']);
    assert.notEqual(first.gameServerPatch, null);

    const gs = parse(await readFile(GS, 'utf8')) as GameServerView;
    const written = { ...applyGameServerPatch(gs, first.gameServerPatch), status: { serviceQualitiesConditions: first.serviceQualitiesConditions } };
    const gsFile = join(dir, 'gs.json');
    const podFile = join(dir, 'pod.json');
    await writeFile(gsFile, JSON.stringify({ apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', ...written }));
    await writeFile(podFile, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'minecraft-0' }, status: { conditions: first.podConditions } }));

    const second = await evalJson(['--gameserverset', GSS, '--gameserver', gsFile, '--pod', podFile, ...outcomes, '--now', '2026-11-25T20:07:00Z']);
    assert.equal(second.gameServerPatch, null);
    assert.deepEqual(second.serviceQualitiesConditions, first.serviceQualitiesConditions);
    assert.deepEqual(second.podConditions, first.podConditions);
  });

  it('a quality not in the set is a usage error naming it', async () => {
    const r = await runCli(['eval', '--gameserverset', GSS, '--gameserver', GS, '--outcome', 'nosuch=true']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /"nosuch"/);
  });

  it('rejects malformed outcomes, times and missing files with usage errors', async () => {
    const badOutcome = await runCli(['eval', '--gameserverset', GSS, '--gameserver', GS, '--outcome', 'healthy=yes']);
    assert.equal(badOutcome.code, 2);
    assert.match(badOutcome.stderr, /QUALITY=true\|false\[:RESULT\]/);
    const badNow = await runCli(['eval', '--gameserverset', GSS, '--gameserver', GS, '--now', 'yesterday']);
    assert.equal(badNow.code, 2);
    assert.match(badNow.stderr, /--now "yesterday"/);
    const noGs = await runCli(['eval', '--gameserverset', GSS]);
    assert.equal(noGs.code, 2);
    assert.match(noGs.stderr, /--gameserver is required/);
    const missing = await runCli(['eval', '--gameserverset', GSS, '--gameserver', join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.yaml: cannot read/);
  });
});
