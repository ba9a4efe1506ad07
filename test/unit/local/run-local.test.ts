// runLocal in-process, with the healthy example's real probe script: the stop signals, --help and
// usage errors, without spawning the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLocal, type LocalIo } from '../../../cli/local.js';
import { repoRoot } from '../../testbed/repo-root.js';

const healthyYaml = join(repoRoot(import.meta.url), 'examples', 'healthy', 'gameserverset.yaml');

class FakeIo {
  stdout = '';
  stderr = '';
  readonly signals = new EventEmitter();
  readonly #lineWaiters: { match: (line: string) => boolean; resolve: () => void }[] = [];
  constructor(readonly env: NodeJS.ProcessEnv) {}
  io(): LocalIo {
    return {
      stdout: { write: (s: string) => this.#out(s) },
      stderr: { write: (s: string) => (this.stderr += s) },
      env: this.env,
      signals: this.signals as unknown as LocalIo['signals'],
    };
  }
  #out(s: string): boolean {
    this.stdout += s;
    for (const w of [...this.#lineWaiters]) {
      if (this.stdout.split('\n').some(w.match)) {
        this.#lineWaiters.splice(this.#lineWaiters.indexOf(w), 1);
        w.resolve();
      }
    }
    return true;
  }
  waitForLine(match: (line: string) => boolean, timeoutMs = 10_000): Promise<void> {
    if (this.stdout.split('\n').some(match)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching line in:\n${this.stdout}\n${this.stderr}`)), timeoutMs);
      this.#lineWaiters.push({ match, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} ends the run with exit 0 and a final line, after the first outcomes`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'okgsq-runlocal-'));
    try {
      const fake = new FakeIo({ ...process.env, EXAMPLE_RUN_DIR: dir });
      const running = runLocal([healthyYaml, '--replicas', '1', '--output', 'json'], fake.io());
      await fake.waitForLine((l) => l.includes('"status":"True"'));
      fake.signals.emit(signal);
      assert.equal(await running, 0);
      const lines = fake.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
      const final = lines.at(-1);
      assert.equal(final.event, 'final');
      assert.equal(final.gameServers[0].metadata.name, 'demo-gs-0');
      assert.equal(final.gameServers[0].status.serviceQualitiesConditions[0].status, 'True');
      assert.equal(fake.signals.listenerCount(signal), 0, 'signal handlers removed');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test('--help prints the usage, mentions the OKG defaults, and exits 0', async () => {
  const fake = new FakeIo(process.env);
  assert.equal(await runLocal(['--help'], fake.io()), 0);
  assert.match(fake.stdout, /^Usage: okg-sq local <gameserverset.yaml>/);
  assert.match(fake.stdout, /initialDelaySeconds/);
  assert.match(fake.stdout, /delay 10, timeout 5, period 3, success 1, failure 3/);
});

test('usage errors exit 2 naming the flag; a missing workdir too', async () => {
  const fake = new FakeIo(process.env);
  assert.equal(await runLocal([healthyYaml, '--replicas', 'x'], fake.io()), 2);
  assert.match(fake.stderr, /--replicas must be a whole number .* got "x"/);
  assert.equal(await runLocal([healthyYaml, '--workdir', '/no/such/dir'], fake.io()), 2);
  assert.match(fake.stderr, /--workdir \/no\/such\/dir: not a directory/);
  assert.equal(fake.stdout, '');
});
