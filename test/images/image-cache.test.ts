// The images cache's two promises: one build at a time per cache (also against other processes, which
// take the same flock), and an entry that is either whole or absent.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
});
