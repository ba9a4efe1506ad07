// The okg-sq npm package as a user gets it: `npm pack` holds the CLI and nothing of the tests, the
// programs' own code, sources or source maps; installed from the tarball it runs every command as
// `okg-sq` and as the kubectl plugin `kubectl-okg_sq`, which the real kubectl finds on PATH and runs as
// `kubectl okg-sq` against the bed; and `npx` runs it straight from the tarball.
// Dependencies come from npm's cache (`npm ci` filled it); the built dist/ is packed as it is.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { KUBECTL_PLUGIN_EXECUTABLE } from '../../../cli/args.js';
import type { Explanation } from '../../../cli/explain.js';
import { ensureKubectl } from '../../testbed/cluster-bed.js';
import { repoPath } from '../../testbed/repo-root.js';
import { explainFixture, GONE_SERVER } from './explain-fixture.js';

const run = promisify(execFile);
const NPM_TIMEOUT_MS = 300_000;
/** npm without audits, funding notes or update checks; dependencies from the cache when it has them. */
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

async function exec(file: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, [...args], { cwd: options.cwd, env: { ...process.env, npm_config_update_notifier: 'false', ...options.env }, timeout: NPM_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as Error & { code?: number | string; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('npm package', () => {
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-npm-'));
  let tarball = '';
  let bin = '';

  before(async () => {
    // dist/ is the build these tests run from: pack it without rebuilding (prepack builds for a release).
    const packed = await exec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir, ...NPM_QUIET], { cwd: repoPath() });
    assert.equal(packed.code, 0, packed.stderr);
    tarball = join(dir, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    const app = join(dir, 'app');
    const installed = await exec('npm', ['install', '--prefix', app, tarball, ...NPM_QUIET]);
    assert.equal(installed.code, 0, installed.stderr);
    bin = join(app, 'node_modules', '.bin');
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('packs the CLI, the license, the changelog and the README, nothing else', async () => {
    const listed = await exec('npm', ['pack', '--dry-run', '--ignore-scripts', '--json', ...NPM_QUIET], { cwd: repoPath() });
    const files = (JSON.parse(listed.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const f of ['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'dist/cli/main.js', 'dist/cli/local.js', 'dist/cli/explain.js']) assert.ok(files.includes(f), f);
    const unwanted = files.filter((f) => /^dist\/(test|bench|agent)\//.test(f) || /\.(ts|map)$/.test(f) || f.startsWith('test/') || f.startsWith('charts/') || f === 'dist/decider/main.js');
    assert.deepEqual(unwanted, []);
  });

  it('is publishable: not private, with its bin, engines, license and repository', () => {
    const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as Record<string, any>;
    assert.equal(pkg.private, undefined);
    assert.deepEqual(pkg.bin, { 'okg-sq': 'dist/cli/main.js', [KUBECTL_PLUGIN_EXECUTABLE]: 'dist/cli/main.js' });
    assert.ok(pkg.engines.node);
    assert.equal(pkg.license, 'Apache-2.0');
    assert.match(pkg.repository.url, /github\.com\/okg-sq\/okg-sq/);
  });

  it('installed from the tarball, runs every command (each module it loads is in the package)', async () => {
    const okgsq = join(bin, 'okg-sq');
    const check = await exec(okgsq, ['check', repoPath('examples', 'minecraft', 'gameserverset.yaml')]);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stderr, /1 GameServerSet, 0 errors/);
    const problems = await exec(okgsq, ['check', repoPath('test', 'fixtures', 'gss', 'problems.yaml')]);
    assert.equal(problems.code, 1);
    assert.match(problems.stdout, /problems\.yaml:\d+:\d+: error: /);
    for (const command of ['local', 'explain', 'eval']) {
      const help = await exec(okgsq, [command, '--help']);
      assert.equal(help.code, 0, `${command}: ${help.stderr}`);
      assert.match(help.stdout, new RegExp(`^Usage: okg-sq ${command} `));
    }
    const version = await exec(okgsq, ['--version']);
    assert.equal(version.stdout, `okg-sq ${(JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { version: string }).version}\n`);
  });

  it('installs the kubectl plugin under the name kubectl looks up for `kubectl okg-sq`, and names itself so', async () => {
    // kubectl turns the dashes of a plugin command into underscores to find its executable.
    assert.equal(KUBECTL_PLUGIN_EXECUTABLE, `kubectl-${'okg-sq'.replaceAll('-', '_')}`);
    const help = await exec(join(bin, KUBECTL_PLUGIN_EXECUTABLE), ['explain', '--help']);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage: kubectl okg-sq explain /);
    const bogus = await exec(join(bin, KUBECTL_PLUGIN_EXECUTABLE), ['help', 'bogus']);
    assert.equal(bogus.code, 2);
    assert.match(bogus.stderr, /Usage: kubectl okg-sq <command>/);
  });

  it('runs as `kubectl okg-sq` under the real kubectl, found on PATH: explain with -n and --context against the bed', async () => {
    const kubectl = ensureKubectl();
    const { namespace, kubeconfig } = await explainFixture('okgsq-plugin');
    // PATH as after `npm install -g okg-sq`: the package's bin folder and node, nothing else of this repository.
    const env = { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, KUBECONFIG: kubeconfig, HOME: dir };
    const listed = await exec(kubectl, ['plugin', 'list'], { env });
    assert.ok(listed.stdout.split('\n').includes(join(bin, KUBECTL_PLUGIN_EXECUTABLE)), `kubectl plugin list: ${listed.stdout}${listed.stderr}`);

    // -n names the namespace where the context has none.
    const json = await exec(kubectl, ['okg-sq', 'explain', '-n', namespace, 'mc-0', '--context', 'bed-default', '-o', 'json'], { env });
    assert.equal(json.code, 0, json.stderr);
    const e = JSON.parse(json.stdout) as Explanation;
    assert.deepEqual(e.gameServer, { namespace, name: 'mc-0', opsState: 'None' });
    assert.deepEqual(e.qualities.map((q) => [q.name, q.latest?.result, q.evaluation.fires]), [['idle', 'idle', true]]);
    assert.deepEqual(e.pending?.gameServerPatch, { spec: { opsState: 'WaitToBeDeleted' } });
    // Without -n: the context's namespace, else "default" (where there is no mc-0).
    const text = await exec(kubectl, ['okg-sq', 'explain', 'mc-0', '--context', 'bed'], { env });
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, new RegExp(`^GameServer ${namespace}/mc-0: opsState "None"`));
    const elsewhere = await exec(kubectl, ['okg-sq', 'explain', 'mc-0', '--context', 'bed-default'], { env });
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /GameServer default\/mc-0 not found/);
    // Without --context: the kubeconfig's current one (unreachable); kubectl hands back the plugin's exit codes.
    const current = await exec(kubectl, ['okg-sq', 'explain', '-n', namespace, 'mc-0'], { env });
    assert.equal(current.code, 1);
    assert.ok(current.stderr.includes(`cannot reach the Kubernetes API server ${GONE_SERVER}`), current.stderr);
    const usage = await exec(kubectl, ['okg-sq', 'explain'], { env });
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /Usage: kubectl okg-sq explain /);
  });

  it('runs with npx from the tarball', async () => {
    const cwd = mkdtempSync(join(dir, 'npx-'));
    const r = await exec('npx', ['--yes', ...NPM_QUIET, '--package', tarball, '--', 'okg-sq', 'check', repoPath('examples', 'idle', 'gameserverset.yaml')], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 GameServerSet, 0 errors/);
  });
});
