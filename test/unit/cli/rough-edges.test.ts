// Rough edges a first-time user meets through the CLI: each case is a message that must name the file,
// flag or server at fault, with the documented exit code (0 ok, 1 problems/failure, 2 usage).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { repoPath } from '../../testbed/repo-root.js';
import { runCli } from './run-cli.js';

const PROBLEMS = repoPath('test/fixtures/gss/problems.yaml');
const GSS = repoPath('test/fixtures/gss/eval/gameserverset.yaml');
const GS = repoPath('test/fixtures/gss/eval/gameserver.yaml');
const MINECRAFT = repoPath('examples/minecraft/gameserverset.yaml');

describe('okg-sq CLI rough edges', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'okgsq-cli-edges-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('check - reads the YAML from standard input and reports problems under the name "-"', async () => {
    const r = await runCli(['check', '-'], undefined, { input: await readFile(PROBLEMS, 'utf8') });
    assert.equal(r.code, 1, r.stderr);
    const source = (await readFile(PROBLEMS, 'utf8')).split('\n');
    const line = source.findIndex((l) => l.includes('# [1]')) + 1;
    assert.match(r.stdout, new RegExp(`^-:${line}:13: error: spec\\.serviceQualities\\[1\\]\\.name: .*\\[DuplicateName\\]$`, 'm'));
  });

  it('check on a directory says it is a directory (exit 2), not EISDIR', async () => {
    const r = await runCli(['check', dir]);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `okg-sq check: ${dir}: cannot read: is a directory (give the YAML files in it)\n`);
  });

  it('local --replicas -1 / --duration -3 name the flag and the number, not an "ambiguous" dash', async () => {
    for (const [flag, value] of [['--replicas', '-1'], ['--duration', '-3']] as const) {
      const r = await runCli(['local', MINECRAFT, flag, value]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^okg-sq local: ${flag} must be .* greater than 0 .*, got "${value}"`));
      assert.doesNotMatch(r.stderr, /ambiguous/);
    }
  });

  it('eval refuses two outcomes for the same quality instead of silently keeping the last (exit 2)', async () => {
    const r = await runCli(['eval', '--gameserverset', GSS, '--gameserver', GS, '--outcome', 'healthy=true:gate', '--outcome', 'healthy=false']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^okg-sq eval: --outcome given twice for "healthy"/);
    assert.equal(r.stdout, '');
  });

  it('explain without any kubeconfig says so and names where it looked (exit 1, no stack trace)', async () => {
    const env = { PATH: process.env['PATH'], HOME: join(dir, 'nohome') };
    const r = await runCli(['explain', 'default/minecraft-0'], undefined, { env });
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `okg-sq explain: no kubeconfig: --kubeconfig not given, KUBECONFIG unset and ${join(dir, 'nohome', '.kube', 'config')} does not exist\n`);
  });

  it('explain --kubeconfig naming a missing or broken file is a usage error naming the file', async () => {
    const missing = join(dir, 'missing-kubeconfig');
    let r = await runCli(['explain', 'default/minecraft-0', '--kubeconfig', missing]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^okg-sq explain: --kubeconfig: cannot read ${missing}: no such file\\n`));
    const broken = join(dir, 'broken-kubeconfig');
    await writeFile(broken, 'clusters: [\n');
    r = await runCli(['explain', 'default/minecraft-0', '--kubeconfig', broken]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^okg-sq explain: --kubeconfig: cannot read ${broken}: not a valid kubeconfig: `));
  });

  it('explain against an API server that is not there names the server and the kubeconfig (exit 1)', async () => {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]',
        'contexts: [{name: c, context: {cluster: c, user: u}}]',
        'current-context: c',
        'users: [{name: u, user: {token: t}}]',
        '',
      ].join('\n'),
    );
    const r = await runCli(['explain', 'default/minecraft-0'], undefined, { env: { PATH: process.env['PATH'], KUBECONFIG: kubeconfig } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^okg-sq explain: cannot reach the Kubernetes API server https://127\\.0\\.0\\.1:1 \\(from ${kubeconfig}\\): .*ECONNREFUSED`));
    assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack trace
  });
});

describe('okg-sq check with several handlers', () => {
  it('still reports a host on httpGet/tcpSocket when the quality also has several handlers', async () => {
    const yaml = [
      'apiVersion: game.kruise.io/v1alpha1',
      'kind: GameServerSet',
      'metadata: {name: hosts}',
      'spec:',
      '  gameServerTemplate: {spec: {containers: [{name: a}]}}',
      '  serviceQualities:',
      '  - name: q',
      '    permanent: false',
      '    containerName: a',
      '    exec: {command: [x]}',
      '    httpGet: {port: 80, host: metadata.internal}',
      '',
    ].join('\n');
    const r = await runCli(['check', '-'], undefined, { input: yaml });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /^-:11:14: error: spec\.serviceQualities\[0\]\.httpGet: only one probe handler may be set, found exec, httpGet \[SeveralHandlers\]$/m);
    assert.match(r.stdout, /^-:11:31: error: spec\.serviceQualities\[0\]\.httpGet\.host: host is refused: .*\[HostRefused\]$/m);
  });
});

describe('okg-sq check without a pod template', () => {
  it('warns that containerName and named ports went unchecked instead of reporting a clean set', async () => {
    const yaml = [
      'apiVersion: game.kruise.io/v1alpha1',
      'kind: GameServerSet',
      'metadata: {name: fragment}',
      'spec:',
      '  serviceQualities:',
      '  - name: q',
      '    permanent: false',
      '    containerName: game',
      '    tcpSocket: {port: web}',
      '',
    ].join('\n');
    const r = await runCli(['check', '-'], undefined, { input: yaml });
    assert.equal(r.code, 0, r.stderr); // a warning: the qualities themselves are well formed
    // No template to point at: its nearest enclosing field, spec (line 5, where its value starts).
    assert.match(r.stdout, /^-:5:3: warning: spec\.gameServerTemplate\.spec\.containers: the set has no pod template containers: containerName and named ports were not checked .*\[MissingField\]$/m);
    assert.match(r.stderr, /1 GameServerSet, 0 errors, 1 warning/);
  });
});

describe('okg-sq eval inputs as kubectl prints them', () => {
  it('takes the GameServer from a kind: List of one item (kubectl get gs -o yaml without a name)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'okgsq-eval-list-'));
    try {
      const list = join(dir, 'gs-list.json');
      await writeFile(list, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'game.kruise.io/v1alpha1', kind: 'GameServer', metadata: { name: 'minecraft-0', namespace: 'default' }, spec: { opsState: 'None' } }] }));
      const r = await runCli(['eval', '--gameserverset', GSS, '--gameserver', list, '--outcome', 'healthy=true:gate', '--now', '2026-01-01T00:00:00Z']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as { gameServerPatch: { spec?: { opsState?: string } } }).gameServerPatch.spec?.opsState, 'GateMaintaining');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a file of the wrong kind names the kinds it has (exit 2)', async () => {
    const r = await runCli(['eval', '--gameserverset', GSS, '--gameserver', GSS, '--outcome', 'healthy=true']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, `okg-sq eval: ${GSS}: expected exactly one GameServer, found 0 (the file has: GameServerSet)\n`);
  });
});

describe('usage errors exit 2 everywhere', () => {
  it('help with an unknown command, or with more than one, and --version with arguments', async () => {
    for (const args of [['help', 'bogus'], ['help', 'check', 'extra'], ['--version', 'extra'], ['bogus']]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stdout, '', args.join(' '));
      assert.match(r.stderr, /^okg-sq( help)?: (unknown command|help takes one command)/, args.join(' '));
    }
  });

  it('every subcommand: an unknown flag', async () => {
    for (const command of ['check', 'eval', 'local', 'explain']) {
      const r = await runCli([command, '--bogus']);
      assert.equal(r.code, 2, `${command}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`Usage: okg-sq ${command} |Run \`okg-sq ${command} --help\` for usage`), command);
    }
  });
});

describe('okg-sq help <command>', () => {
  it('prints that command\'s help (exit 0), like <command> --help', async () => {
    for (const command of ['check', 'eval', 'local', 'explain']) {
      const [viaHelp, viaFlag] = await Promise.all([runCli(['help', command]), runCli([command, '--help'])]);
      assert.equal(viaHelp.code, 0, viaHelp.stderr);
      assert.match(viaHelp.stdout, new RegExp(`^Usage: okg-sq ${command} `));
      assert.equal(viaHelp.stdout, viaFlag.stdout);
    }
  });
});
