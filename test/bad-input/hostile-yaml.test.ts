// `okg-sq check` (the built CLI, as a game developer or a CI job on an untrusted pull request runs it) on
// hostile YAML: every case ends with a clear message, in bounded time, within a small heap (the process
// runs with --max-old-space-size, so unbounded memory would crash it instead of exiting 0/1/2).
// Lower-level proofs this tier does not repeat: test/unit/cli/check.test.ts (messages, exit codes,
// /dev/zero), test/unit/rules/schema.test.ts (every problem code, the per-object cap).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN } from './bad-kit.js';

const HEAP_MIB = 256;
const TIME_LIMIT_MS = 15_000;
const MAX_PROBLEMS_SHOWN = 101; // 100 per object + the line saying more were cut

function gss(qualities: unknown[]): string {
  return JSON.stringify({
    apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServerSet', metadata: { name: 'hostile' },
    spec: { replicas: 1, gameServerTemplate: { spec: { containers: [{ name: 'game', image: 'busybox' }] } }, serviceQualities: qualities },
  });
}

describe('okg-sq check on hostile YAML', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'okgsq-bad-yaml-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function check(name: string, content: string | Buffer): { code: number | null; stdout: string; stderr: string; ms: number } {
    const file = join(dir, name);
    writeFileSync(file, content);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, CLI_MAIN, 'check', file], { encoding: 'utf8', timeout: TIME_LIMIT_MS * 2, maxBuffer: 64 * 1024 * 1024 });
    const ms = Date.now() - t0;
    assert.ok(ms < TIME_LIMIT_MS, `${name}: took ${ms} ms`);
    assert.equal(r.signal, null, `${name}: killed by ${r.signal}: ${r.stderr.slice(-1000)}`);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms };
  }

  it('10,000 valid actions: checked (exit 0), warnings capped', () => {
    const actions = Array.from({ length: 10_000 }, (_, i) => ({ state: true, annotations: { n: String(i) } }));
    const r = check('many.json', gss([{ name: 'q', containerName: 'game', permanent: false, exec: { command: ['true'] }, serviceQualityAction: actions }]));
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.trimEnd().split('\n').length <= MAX_PROBLEMS_SHOWN, `${r.stdout.split('\n').length} lines`);
    assert.match(r.stderr, /1 GameServerSet, 0 errors/);
  });

  it('10,000 invalid actions: exit 1, each error names the file and the field, capped at 100 per object', () => {
    const actions = Array.from({ length: 10_000 }, (_, i) => ({ state: true, labels: { [`bad key ${i}`]: 'v' } }));
    const r = check('many-bad.json', gss([{ name: 'q', containerName: 'game', permanent: false, exec: { command: ['true'] }, serviceQualityAction: actions }]));
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.ok(lines.length <= MAX_PROBLEMS_SHOWN, `${lines.length} lines`);
    assert.match(lines[0]!, /many-bad\.json:1:\d+: error: spec\.serviceQualities\[0\]\.serviceQualityAction\[0\]\.labels\["bad key 0"\]: "bad key 0" is not a valid label key/);
  });

  it('a 1 MB quality name and 1,000 bad qualities: messages quote a bounded excerpt', () => {
    const qualities = [
      { name: 'n'.repeat(1_000_000), containerName: 'game', permanent: false, exec: { command: ['true'] } },
      ...Array.from({ length: 1_000 }, (_, i) => ({ name: `bad name ${i}`, containerName: 'game', permanent: 'yes', exec: { command: ['true'] } })),
    ];
    const r = check('names.json', gss(qualities));
    assert.equal(r.code, 1);
    const lines = r.stdout.trimEnd().split('\n');
    assert.ok(lines.length <= MAX_PROBLEMS_SHOWN, `${lines.length} lines`);
    assert.ok(lines.every((l) => l.length < 1_000), `longest line ${Math.max(...lines.map((l) => l.length))} characters`);
    assert.match(r.stdout, /spec\.serviceQualities\[0\]\.name: "n{10,}…/);
  });

  it('binary garbage: exit 2, a YAML syntax error with file, line and column', () => {
    const r = check('garbage.yaml', randomBytes(1 << 20));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /garbage\.yaml:\d+:\d+: YAML syntax error: /);
  });

  it('a 50 MB file: exit 2, refused by size before parsing', () => {
    const r = check('big.yaml', `kind: GameServerSet\n# ${'x'.repeat(50 * 1024 * 1024)}\n`);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /big\.yaml: larger than 16777216 bytes/);
    assert.ok(r.ms < 5_000, `${r.ms} ms`);
  });

  it('a YAML alias bomb (billion laughs): exit 2, named as such, at once', () => {
    let yaml = 'kind: GameServerSet\nl0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
    for (let i = 1; i <= 9; i++) yaml += `l${i}: &l${i} [${Array(9).fill(`*l${i - 1}`).join(', ')}]\n`;
    const r = check('bomb.yaml', yaml);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bomb\.yaml: document 1: Excessive alias count/);
    assert.ok(r.ms < 5_000, `${r.ms} ms`);
  });

  it('100,000 levels of nesting: exit 2 with the position, no crash', () => {
    const r = check('deep.yaml', `kind: GameServerSet\nspec: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    assert.equal(r.code, 2, r.stderr.slice(-500));
    assert.match(r.stderr, /deep\.yaml:\d+:\d+: YAML syntax error: /);
  });
});
