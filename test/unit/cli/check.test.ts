import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoPath } from '../../testbed/repo-root.js';
import { runCli } from './run-cli.js';

const fixture = (name: string): string => repoPath('test/fixtures/gss', name);

describe('okg-sq check', () => {
  it('exits 0 on a clean file, skipping other kinds with a note', async () => {
    const r = await runCli(['check', fixture('valid.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /valid\.yaml:2:1: note: kind ConfigMap is not a GameServerSet; skipped/);
    assert.match(r.stderr, /2 GameServerSets, 0 errors, 0 warnings/); // incl. YAML 1.1 'yes' and 'off' read as booleans, as kubectl does
  });

  it('catches each listed problem with file, line:column and field path, and exits 1', async () => {
    const r = await runCli(['check', fixture('problems.yaml')]);
    assert.equal(r.code, 1);
    const file = fixture('problems.yaml');
    const expected: [string, string, string][] = [
      ['error', 'spec.serviceQualities[1].name', 'DuplicateName'],
      ['error', 'spec.serviceQualities[2].name', 'InvalidName'],
      ['error', 'spec.serviceQualities[3]', 'NoHandler'],
      ['error', 'spec.serviceQualities[4].tcpSocket', 'SeveralHandlers'],
      ['error', 'spec.serviceQualities[5].containerName', 'MissingContainerName'],
      ['error', 'spec.serviceQualities[6].containerName', 'UnknownContainer'],
      ['error', 'spec.serviceQualities[7].httpGet.port', 'UnknownPortName'],
      ['error', 'spec.serviceQualities[8].httpGet.host', 'HostRefused'],
      ['error', 'spec.serviceQualities[9].grpc.port', 'WrongType'],
      ['error', 'spec.serviceQualities[10].periodSeconds', 'NegativeValue'],
      ['warning', 'spec.serviceQualities[11].serviceQualityAction[0].result', 'NeverMatches'],
      ['warning', 'spec.serviceQualities[11].serviceQualityAction[1]', 'Shadowed'],
      ['error', 'spec.serviceQualities[11].serviceQualityAction[3].opsState', 'TemplateParse'],
      ['warning', 'spec.serviceQualities[11].serviceQualityAction[4].deletionPriority', 'PriorityNotInteger'],
      ['error', 'spec.serviceQualities[11].serviceQualityAction[5].labels["bad key!"]', 'InvalidLabelKey'],
      ['warning', 'spec.serviceQualities[12].grpc', 'KruiseRejects'],
    ];
    const lines = r.stdout.trimEnd().split('\n');
    const source = (await readFile(file, 'utf8')).split('\n');
    const secondDocument = source.indexOf('---') + 2;
    /** The 1-based line:column of `text` on the first line (from `from`) that holds `anchor`. */
    const where = (anchor: string, text: string, from = secondDocument): string => {
      const i = source.findIndex((l, n) => n + 1 >= from && l.includes(anchor));
      assert.ok(i >= 0, anchor);
      return `${i + 1}:${source[i]!.indexOf(text) + 1}`;
    };
    const at = new Map<string, string>([
      ['spec.serviceQualities[1].name', where('# [1]', 'dup')], // the value of the field
      ['spec.serviceQualities[3]', where('# [3]', 'name')], // the quality itself (no handler field to point at)
      ['spec.serviceQualities[5].containerName', where('# [5]', 'name')], // missing: its nearest enclosing field
      ['spec.serviceQualities[8].httpGet.host', where('host: 169.254.169.254', '169.254.169.254')],
    ]);
    for (const [severity, path, code] of expected) {
      const line = lines.find((l) => l.includes(`: ${severity}: ${path}: `) && l.endsWith(`[${code}]`));
      assert.ok(line, `missing: ${severity}: ${path}: … [${code}]\n${r.stdout}`);
      const m = new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+):(\\d+): `).exec(line);
      assert.ok(m, `file:LINE:COL: prefix in ${line}`);
      assert.ok(Number(m[1]) >= secondDocument, `${path} is in the second document: ${line}`);
      const want = at.get(path);
      if (want) assert.equal(`${m[1]}:${m[2]}`, want, line);
    }
    // The first document (a clean set) has no problems.
    assert.ok(!lines.some((l) => Number(/:(\d+):\d+: /.exec(l)?.[1]) < secondDocument), r.stdout);
    // The first quality is fine: nothing reported for it.
    assert.ok(!lines.some((l) => l.includes('spec.serviceQualities[0]')), r.stdout);
  });

  it('prints the same problems as JSON with --output json', async () => {
    const r = await runCli(['check', '--output', 'json', fixture('problems.yaml'), fixture('valid.yaml')]);
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as { gameServerSets: number; errors: number; warnings: number; problems: { file: string; document: number; line: number; column: number; gameServerSet: string; severity: string; code: string; path: string }[] };
    assert.equal(out.gameServerSets, 4);
    assert.equal(out.errors, out.problems.filter((p) => p.severity === 'error').length);
    assert.ok(out.errors >= 11);
    const host = out.problems.find((p) => p.code === 'HostRefused');
    const lines = (await readFile(fixture('problems.yaml'), 'utf8')).split('\n');
    const hostLine = lines.findIndex((l) => l.includes('host: 169.254.169.254')) + 1;
    const hostColumn = lines[hostLine - 1]!.indexOf('169.254.169.254') + 1;
    assert.deepEqual(
      host && { file: host.file, document: host.document, line: host.line, column: host.column, gameServerSet: host.gameServerSet, path: host.path },
      { file: fixture('problems.yaml'), document: 2, line: hostLine, column: hostColumn, gameServerSet: 'broken', path: 'spec.serviceQualities[8].httpGet.host' },
    );
    const label = out.problems.find((p) => p.code === 'InvalidLabelKey');
    assert.equal(label?.line, lines.findIndex((l) => l.includes('"bad key!": x')) + 1);
  });

  it('passes every shipped example', async () => {
    const examples = (await readdir(repoPath('examples'), { withFileTypes: true })).filter((d) => d.isDirectory());
    assert.ok(examples.length > 0);
    for (const dir of examples) {
      const file = repoPath('examples', dir.name, 'gameserverset.yaml');
      const r = await runCli(['check', file]);
      assert.equal(r.code, 0, `${file}:\n${r.stdout}${r.stderr}`);
    }
  });

  it('exits 0 with warnings only', async () => {
    const r = await runCli(['check', repoPath('examples/http/gameserverset.yaml')]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /warning: .*KruiseRejects/);
  });

  it('exits 2 with the file and line on a YAML syntax error', async () => {
    const r = await runCli(['check', fixture('bad-syntax.yaml')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /bad-syntax\.yaml:\d+:\d+: YAML syntax error/);
  });

  it('reads at most its input bound: an endless input (/dev/zero) exits 2 at once with the limit named', async () => {
    const t0 = Date.now();
    const r = await runCli(['check', '/dev/zero']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /\/dev\/zero: larger than 16777216 bytes/);
    assert.ok(Date.now() - t0 < 5_000, `took ${Date.now() - t0} ms`);
  });

  it('exits 2 on an unreadable file, no file, or an unknown option', async () => {
    const missing = await runCli(['check', fixture('does-not-exist.yaml')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /does-not-exist\.yaml: cannot read: no such file/);
    const none = await runCli(['check']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no file given/);
    const bad = await runCli(['check', '--bogus', fixture('valid.yaml')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Usage: okg-sq check/);
  });

  it('checks the items of a kind: List, as kubectl get -o yaml prints them', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'okgsq-check-'));
    try {
      const file = join(dir, 'list.json');
      const gss = (host: string) => ({
        apiVersion: 'game.kruise.io/v1alpha1',
        kind: 'GameServerSet',
        metadata: { name: `set-${host || 'ok'}` },
        spec: { gameServerTemplate: { spec: { containers: [{ name: 'game' }] } }, serviceQualities: [{ name: 'h', containerName: 'game', permanent: false, tcpSocket: { port: 80, ...(host ? { host } : {}) } }] },
      });
      await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [gss(''), gss('10.0.0.1')] }));
      const r = await runCli(['check', file]);
      assert.equal(r.code, 1);
      // One line of JSON: the column is where the host's value starts on it.
      const column = (await readFile(file, 'utf8')).indexOf('"10.0.0.1"') + 1;
      assert.match(r.stdout, new RegExp(`list\\.json:1:${column}: error: items\\[1\\]\\.spec\\.serviceQualities\\[0\\]\\.tcpSocket\\.host: .*\\[HostRefused\\]`));
      assert.match(r.stderr, /2 GameServerSets, 1 error/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('exits 1 when no GameServerSet is found', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'okgsq-check-'));
    try {
      const file = join(dir, 'cm.yaml');
      await writeFile(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
      const r = await runCli(['check', file]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /no GameServerSet found/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('okg-sq dispatcher', () => {
  it('prints help and version, and exits 2 on an unknown command or none', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /check <file\.yaml>/);
    const version = await runCli(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^okg-sq \d+\.\d+\.\d+/);
    const unknown = await runCli(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    assert.equal((await runCli([])).code, 2);
  });

  it('routes local and explain to their modules', async () => {
    for (const command of ['local', 'explain', 'eval', 'check']) {
      const r = await runCli([command, '--help']);
      assert.equal(r.code, 0, `${command}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^Usage: okg-sq ${command}`));
    }
  });
});
