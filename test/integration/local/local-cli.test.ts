// The "done when" for `okg-sq local`, through the built CLI and the examples as shipped:
// real probe processes, a real HTTP server, the real engine and evaluation core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import { repoRoot } from '../../testbed/repo-root.js';
import { BUILT_CLI, CliRun, healthyCondition, type CliEvent, type GameServerJson } from './cli-run.js';

const run = promisify(execFile);
const root = repoRoot(import.meta.url);
const example = (name: string, file: string) => join(root, 'examples', name, file);
/** Long enough never to end a test by itself; the tests stop the CLI with SIGTERM. */
const RUN_UNTIL_STOPPED = ['--duration', '300'];
/** No --duration at all: runs until a signal, as users run it. */
const RUN_FOREVER: string[] = [];

async function withRunDir(fn: (env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'okgsq-local-'));
  try {
    await fn({ ...process.env, EXAMPLE_RUN_DIR: dir, OKGSQ_LOG_LEVEL: 'warn' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const opsState = (gs: GameServerJson) => gs.spec?.opsState;

async function stopAndCollectFinal(cli: CliRun): Promise<GameServerJson[]> {
  cli.child.kill('SIGTERM');
  const { event } = await cli.waitFor('the final line', (e) => e.event === 'final');
  const { code } = await cli.exited;
  assert.equal(code, 0, `exit status after SIGTERM\n${cli.describe()}`);
  return (event as Extract<CliEvent, { event: 'final' }>).gameServers;
}

test('minecraft: a killed gate process makes the GameServer GateMaintaining, a killed data process DataMaintaining, a restart None', async () => {
  await withRunDir(async (env) => {
    const ctl = (...args: string[]) => run('/bin/sh', [example('minecraft', 'ctl.sh'), ...args], { env });
    await ctl('start', 'minecraft-0', 'minecraft-1', 'minecraft-2');
    const cli = new CliRun(['local', example('minecraft', 'gameserverset.yaml'), '--replicas', '3', '--output', 'json', ...RUN_FOREVER], { cwd: root, env });
    try {
      // Everything running: each probe exits 1 (state false) and the `state: false` action sets None.
      for (const name of ['minecraft-0', 'minecraft-1', 'minecraft-2']) {
        await cli.waitForGameServer(name, 'first outcome, all processes up', (gs) => healthyCondition(gs, 'healthy')?.status === 'False' && opsState(gs) === 'None');
      }

      let mark = cli.events.length;
      await ctl('kill-gate', 'minecraft-0');
      const gate = await cli.waitForGameServer('minecraft-0', 'GateMaintaining', (gs) => opsState(gs) === 'GateMaintaining', { from: mark });
      const gateCondition = healthyCondition((gate.event as Extract<CliEvent, { event: 'update' }>).gameServer, 'healthy');
      assert.equal(gateCondition?.status, 'True');
      assert.equal(gateCondition?.result, 'gate');
      assert.match(String(gateCondition?.lastActionTransitionTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

      mark = cli.events.length;
      await ctl('start', 'minecraft-0');
      await cli.waitForGameServer('minecraft-0', 'back to None', (gs) => opsState(gs) === 'None', { from: mark });

      mark = cli.events.length;
      await ctl('kill-data', 'minecraft-1');
      await cli.waitForGameServer('minecraft-1', 'DataMaintaining', (gs) => opsState(gs) === 'DataMaintaining' && healthyCondition(gs, 'healthy')?.result === 'data', { from: mark });
      mark = cli.events.length;
      await ctl('start', 'minecraft-1');
      await cli.waitForGameServer('minecraft-1', 'back to None', (gs) => opsState(gs) === 'None', { from: mark });

      const final = await stopAndCollectFinal(cli);
      assert.deepEqual(final.map((gs) => [gs.metadata.name, opsState(gs)]), [
        ['minecraft-0', 'None'],
        ['minecraft-1', 'None'],
        ['minecraft-2', 'None'],
      ]);
      const touched = cli.events.filter((e) => e.event === 'update' && e.gameServer.metadata.name === 'minecraft-2' && opsState(e.gameServer) !== 'None');
      assert.deepEqual(touched, [], 'minecraft-2 was never touched');
      assert.equal(final[0]?.metadata.labels?.['game.kruise.io/owner-gss'], 'minecraft');
    } finally {
      await cli.kill();
      await ctl('stop-all');
    }
  });
});

test('http: the response body becomes the opsState; a stopped server fails the probe and the last opsState stands', async () => {
  await withRunDir(async (env) => {
    const ctl = (...args: string[]) => run('/bin/sh', [example('http', 'ctl.sh'), ...args], { env });
    const server = spawn(process.execPath, [example('http', 'server.mjs')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let serverStderr = '';
    server.stderr!.setEncoding('utf8').on('data', (s: string) => (serverStderr += s));
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`examples/http/server.mjs did not start in 10 s\n${serverStderr}`)), 10_000);
      server.stdout!.once('data', () => (clearTimeout(timer), resolve()));
      server.once('exit', (code) => (clearTimeout(timer), reject(new Error(`examples/http/server.mjs exited (${code}): port 18080 taken?\n${serverStderr}`))));
    });
    const cli = new CliRun(['local', example('http', 'gameserverset.yaml'), '--output', 'json', ...RUN_UNTIL_STOPPED], { cwd: root, env });
    try {
      await listening;
      await cli.waitForGameServer('arena-0', 'first answer "None"', (gs) => healthyCondition(gs, 'opsstate')?.status === 'True' && healthyCondition(gs, 'opsstate')?.result === 'None');

      let mark = cli.events.length;
      await ctl('set', 'Allocated');
      await cli.waitForGameServer('arena-0', 'Allocated', (gs) => opsState(gs) === 'Allocated', { from: mark });
      mark = cli.events.length;
      await ctl('set', 'WaitToBeDeleted');
      await cli.waitForGameServer('arena-0', 'WaitToBeDeleted', (gs) => opsState(gs) === 'WaitToBeDeleted', { from: mark });

      mark = cli.events.length;
      const exited = once(server, 'exit');
      server.kill('SIGTERM');
      await exited;
      const down = await cli.waitForGameServer('arena-0', 'probe failing', (gs) => healthyCondition(gs, 'opsstate')?.status === 'False', { from: mark });
      assert.equal(opsState((down.event as Extract<CliEvent, { event: 'update' }>).gameServer), 'WaitToBeDeleted', 'no state:false action: opsState stays');

      const final = await stopAndCollectFinal(cli);
      assert.equal(final.length, 1, 'replicas from spec.replicas');
    } finally {
      server.kill('SIGKILL');
      await cli.kill();
    }
  });
});

test('idle and healthy: --duration ends the run by itself with exit 0; the table output has no escape codes', async () => {
  await withRunDir(async (env) => {
    await run('/bin/sh', [example('idle', 'ctl.sh'), 'join', 'lobby-1', 'alice'], { env });
    await run('/bin/sh', [example('healthy', 'ctl.sh'), 'break', 'demo-gs-1', 'lost db'], { env });
    const idle = new CliRun(['local', example('idle', 'gameserverset.yaml'), '--replicas', '2', '--output', 'json', '--duration', '6'], { cwd: root, env });
    const healthy = new CliRun(['local', example('healthy', 'gameserverset.yaml'), '--replicas', '2', '--duration', '7'], { cwd: root, env });
    try {
      const [idleExit, healthyExit] = await Promise.all([idle.exited, healthy.exited]);
      assert.equal(idleExit.code, 0, idle.describe());
      assert.equal(healthyExit.code, 0, healthy.describe());

      const final = idle.events.at(-1);
      assert.equal(final?.event, 'final', idle.describe());
      const states = (final as Extract<CliEvent, { event: 'final' }>).gameServers.map((gs) => [gs.metadata.name, opsState(gs)]);
      assert.deepEqual(states, [['lobby-0', 'WaitToBeDeleted'], ['lobby-1', 'None']]);

      const text = healthy.stdoutOther;
      assert.ok(!text.includes('\u001b'), 'no ANSI codes when stdout is not a terminal');
      const tables = text.split(/^--- \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m).filter((t) => t.trim() !== '');
      const last = tables.at(-1) ?? '';
      assert.match(last, /^NAME\s+STATE\s+OPSSTATE\s+DP\s+UP\s+NET-DISABLED\s+HEALTHY$/m);
      assert.match(last, /^demo-gs-0\s+Ready\s+None\s+0\s+0\s+false\s+true$/m);
      assert.match(last, /^demo-gs-1\s+Ready\s+Maintaining\s+0\s+0\s+false\s+false\/lost db$/m);
    } finally {
      await idle.kill();
      await healthy.kill();
    }
  });
});

test('bad input: a clear message naming the file or flag, exit 2 for usage and 1 for an invalid set', async () => {
  await withRunDir(async (env) => {
    const dir = env.EXAMPLE_RUN_DIR!;
    const cli = async (...args: string[]) => {
      const c = new CliRun(['local', ...args], { cwd: dir, env });
      const { code } = await c.exited;
      return { code, stderr: c.stderr };
    };
    let r = await cli(join(dir, 'missing.yaml'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /missing\.yaml: cannot read: no such file/);

    r = await cli(example('minecraft', 'gameserverset.yaml'), '--output', 'yaml');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--output must be one of table, json, got "yaml"/);

    await writeFile(join(dir, 'broken.yaml'), 'kind: GameServerSet\nspec: [unclosed\n');
    r = await cli(join(dir, 'broken.yaml'));
    assert.equal(r.code, 2, 'unreadable input is a usage error, as for okg-sq check');
    assert.match(r.stderr, /broken\.yaml:\d+:\d+: YAML syntax error/);

    await writeFile(join(dir, 'pod.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n');
    r = await cli(join(dir, 'pod.yaml'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /pod\.yaml: no document of kind GameServerSet/);

    await writeFile(
      join(dir, 'invalid.yaml'),
      [
        'apiVersion: game.kruise.io/v1alpha1',
        'kind: GameServerSet',
        'metadata: {name: bad}',
        'spec:',
        '  gameServerTemplate: {spec: {containers: [{name: game, image: x}]}}',
        '  serviceQualities:',
        '    - name: healthy',
        '      serviceQualityAction: [{state: true, opsState: None}]',
        '',
      ].join('\n'),
    );
    r = await cli(join(dir, 'invalid.yaml'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /invalid\.yaml:7:7: error: spec\.serviceQualities\[0\]/); // the quality, as `okg-sq check` prints it
  });
});

test('minecraft demo.sh: starts the fake servers, runs okg-sq local, and stops them when it ends', async () => {
  await withRunDir(async (env) => {
    const cliCommand = `${process.execPath} ${BUILT_CLI}`;
    const { stdout } = await run('/bin/sh', [example('minecraft', 'demo.sh'), '--output', 'json', '--duration', '4'], {
      env: { ...env, OKGSQ: cliCommand },
    });
    const final = JSON.parse(stdout.trimEnd().split('\n').at(-1)!) as Extract<CliEvent, { event: 'final' }>;
    assert.equal(final.event, 'final');
    assert.deepEqual(
      final.gameServers.map((gs) => [gs.metadata.name, opsState(gs), healthyCondition(gs, 'healthy')?.status]),
      [['minecraft-0', 'None', 'False'], ['minecraft-1', 'None', 'False'], ['minecraft-2', 'None', 'False']],
      'all processes were up while it ran',
    );
    const { stdout: status } = await run('/bin/sh', [example('minecraft', 'ctl.sh'), 'status'], { env });
    assert.deepEqual(status.trim().split('\n').filter((l) => l.includes('running')), [], 'nothing left running');
  });
});
