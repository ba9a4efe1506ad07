// The image builds' cache: ${OKGSQ_CACHE:-~/.cache/okg-sq}/images. Every output is an entry directory named
// after what it holds and the hash of its inputs (out/<name>-<key>/, with its metadata in entry.json),
// filled in a temporary directory and renamed into place, so a reader sees a whole entry or none. Builds
// run under one flock on images/.lock (shared by every worktree and CI job using this cache), so two
// runs never build the same thing at once; a run that waited re-checks the cache and usually finds the
// other run's result.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const ENTRY_META = 'entry.json';
/** Entries of one name unused for this long are pruned when a newer one is published... */
const PRUNE_UNUSED_MS = 24 * 3600_000;
/** ...but the newest few always stay: other worktrees sharing the cache may be using them. */
const KEEP_NEWEST_ENTRIES = 3;
const KEY_CHARS_IN_DIR_NAME = 16;

export function defaultImagesCacheDir(): string {
  return join(process.env.OKGSQ_CACHE || join(homedir(), '.cache', 'okg-sq'), 'images');
}

/** Hex sha256 of the given parts, each length-prefixed so that ("ab","c") and ("a","bc") differ. */
export function inputKey(...parts: (string | Buffer)[]): string {
  const hash = createHash('sha256');
  for (const part of parts) {
    const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    hash.update(`${bytes.length}:`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

export interface CacheEntry<T> {
  dir: string;
  meta: T;
}

export class ImageCache {
  readonly root: string;

  constructor(root: string = defaultImagesCacheDir()) {
    this.root = root;
    for (const sub of ['out', 'logs', 'tmp']) mkdirSync(join(root, sub), { recursive: true });
  }

  entryDir(name: string, key: string): string {
    return join(this.root, 'out', `${name}-${key.slice(0, KEY_CHARS_IN_DIR_NAME)}`);
  }

  /** The entry's metadata, or undefined when it was never built. Marks the entry as used (for pruning). */
  read<T>(name: string, key: string): CacheEntry<T> | undefined {
    const dir = this.entryDir(name, key);
    const metaFile = join(dir, ENTRY_META);
    if (!existsSync(metaFile)) return undefined;
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as T & { key?: string };
    if (meta.key !== key) return undefined; // a 16-character prefix collision: treat as not built
    const now = new Date();
    utimesSync(metaFile, now, now);
    return { dir, meta };
  }

  /**
   * Fills a fresh directory with `fill` (which returns the metadata), then renames it into place. Call it
   * under withLock, after read() found nothing.
   */
  async publish<T extends object>(name: string, key: string, fill: (dir: string) => Promise<T>): Promise<CacheEntry<T & { key: string }>> {
    const dir = this.entryDir(name, key);
    const tmp = mkdtempSync(join(this.root, 'tmp', `${name}-`));
    try {
      const meta = { ...(await fill(tmp)), key };
      writeFileSync(join(tmp, ENTRY_META), `${JSON.stringify(meta, null, 2)}\n`);
      rmSync(dir, { recursive: true, force: true }); // a stale entry with a colliding prefix, or a half-deleted one
      renameSync(tmp, dir);
      this.prune(name, dir);
      return { dir, meta };
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  logFile(name: string): string {
    return join(this.root, 'logs', `${name}.log`);
  }

  /** Removes every scratch directory: call holding the lock (only builds under the lock create them). */
  clearScratch(): void {
    const tmp = join(this.root, 'tmp');
    for (const name of readdirSync(tmp)) rmSync(join(tmp, name), { recursive: true, force: true });
  }

  /** A scratch directory under the cache (same filesystem as the entries, so renames and hard links work). */
  scratchDir(prefix: string): string {
    return mkdtempSync(join(this.root, 'tmp', `${prefix}-`));
  }

  /** Runs fn holding the cache's build lock (flock(2) on images/.lock, the lock `flock` in bash takes too). */
  async withLock<T>(log: (line: string) => void, fn: () => Promise<T>): Promise<T> {
    const lockFile = join(this.root, '.lock');
    const fd = openSync(lockFile, 'a');
    try {
      // flock(2) locks belong to the open file description: the child locks the one this process holds
      // open on fd, and the lock stays after the child exits until this process closes the fd.
      if (!(await flockOn(fd, true))) {
        log(`images: waiting for another build to release ${lockFile}`);
        if (!(await flockOn(fd, false))) throw new Error(`images: could not lock ${lockFile} (flock failed)`);
      }
      return await fn();
    } finally {
      closeSync(fd);
    }
  }

  /** Removes older entries of the same name that nobody used lately, keeping the newest few. */
  private prune(name: string, keep: string): void {
    const out = join(this.root, 'out');
    const prefix = `${name}-`;
    const siblings = readdirSync(out)
      .filter((d) => d.startsWith(prefix) && d.length === prefix.length + KEY_CHARS_IN_DIR_NAME)
      .map((d) => join(out, d))
      .filter((d) => d !== keep)
      .map((d) => ({ dir: d, used: lastUsed(d) }))
      .sort((a, b) => b.used - a.used);
    const now = Date.now();
    for (const sibling of siblings.slice(KEEP_NEWEST_ENTRIES - 1)) {
      if (now - sibling.used > PRUNE_UNUSED_MS) rmSync(sibling.dir, { recursive: true, force: true });
    }
  }
}

function lastUsed(dir: string): number {
  try {
    return statSync(join(dir, ENTRY_META)).mtimeMs;
  } catch {
    return 0; // half-written or half-deleted: first to go
  }
}

async function flockOn(fd: number, nonBlocking: boolean): Promise<boolean> {
  const args = nonBlocking ? ['--exclusive', '--nonblock', '3'] : ['--exclusive', '3'];
  return new Promise((resolve, reject) => {
    const child = spawn('flock', args, { stdio: ['ignore', 'ignore', 'inherit', fd] });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code === 0));
  });
}
