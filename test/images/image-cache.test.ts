// The images cache's two promises: one build at a time per cache (also against other processes, which
// take the same flock), and an entry that is either whole or absent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ImageCache } from '../testbed/image-build/image-cache.js';

describe('ImageCache', () => {
  const root = mkdtempSync(join(tmpdir(), 'okgsq-image-cache-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const cache = new ImageCache(root);

  it('runs one build at a time: a second run waits, says so, and runs after the first', async () => {
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstMayFinish = new Promise<void>((resolve) => (releaseFirst = resolve));
    let firstEntered!: () => void;
    const firstHolds = new Promise<void>((resolve) => (firstEntered = resolve));
    const first = cache.withLock(() => {}, async () => {
      order.push('first starts');
      firstEntered();
      await firstMayFinish;
      order.push('first ends');
    });
    await firstHolds;

    // Another process taking the lock file's flock, as scripts in bash would, is refused while it is held.
    const other = spawnSync('flock', ['--nonblock', join(root, '.lock'), 'true']);
    assert.equal(other.status, 1, 'flock(1) on images/.lock fails while a build holds it');

    let secondWaits!: () => void;
    const waiting = new Promise<void>((resolve) => (secondWaits = resolve));
    const second = cache.withLock(
      (line) => {
        if (line.includes('waiting for another build')) secondWaits();
      },
      async () => {
        order.push('second');
      },
    );
    await waiting;
    assert.deepEqual(order, ['first starts']);
    releaseFirst();
    await Promise.all([first, second]);
    assert.deepEqual(order, ['first starts', 'first ends', 'second']);
    assert.equal(spawnSync('flock', ['--nonblock', join(root, '.lock'), 'true']).status, 0, 'released');
  });

  it('publishes an entry whole or not at all', async () => {
    await assert.rejects(
      cache.publish('thing', 'k1'.padEnd(64, '0'), async (dir) => {
        writeFileSync(join(dir, 'half'), 'x');
        throw new Error('build failed');
      }),
      /build failed/,
    );
    assert.equal(cache.read('thing', 'k1'.padEnd(64, '0')), undefined);
    assert.deepEqual(readdirSync(join(root, 'tmp')), [], 'no scratch left behind');

    const key = 'k2'.padEnd(64, '0');
    const published = await cache.publish('thing', key, async (dir) => {
      writeFileSync(join(dir, 'payload'), 'ok');
      return { size: 2 };
    });
    assert.ok(existsSync(join(published.dir, 'payload')));
    assert.deepEqual(cache.read('thing', key)?.meta, { size: 2, key });
    assert.equal(cache.read('thing', 'k3'.padEnd(64, '0')), undefined, 'another key is another entry');
  });

  it('prunes entries of a name unused for a day when it publishes one, but keeps the three most recently used', async () => {
    const key = (n: number): string => `${n}`.padEnd(64, 'a');
    const dayAgo = (days: number): Date => new Date(Date.now() - days * 24 * 3600_000 - 60_000);
    for (let n = 1; n <= 5; n++) await cache.publish('pruned', key(n), async () => ({ n }));
    // Unused for 5, 4, 2 and 3 days, and just used. Publishing 6 keeps 6 and the two most recently used
    // others (5, and 3 although unused for two days); 4, 2 and 1 go.
    for (const [n, days] of [[1, 5], [2, 4], [3, 2], [4, 3], [5, 0]] as const) utimesSync(join(cache.entryDir('pruned', key(n)), 'entry.json'), dayAgo(days), dayAgo(days));
    await cache.publish('pruned', key(6), async () => ({ n: 6 }));
    const left = [1, 2, 3, 4, 5, 6].filter((n) => existsSync(cache.entryDir('pruned', key(n))));
    assert.deepEqual(left, [3, 5, 6]);
    assert.ok(cache.read('thing', 'k2'.padEnd(64, '0')), 'entries of other names are left alone');
  });
});
