// What every image build step gets: the cache (whose build lock the caller holds), the cache's buildah
// store and a progress log. Only withBuildContext creates one, so a build step cannot run unlocked.
import { spawnSync } from 'node:child_process';
import { Buildah } from './buildah.js';
import { ImageCache } from './image-cache.js';

export interface BuildContext {
  readonly cache: ImageCache;
  readonly buildah: Buildah;
  readonly log: (line: string) => void;
}

export async function withBuildContext<T>(cache: ImageCache, log: (line: string) => void, fn: (ctx: BuildContext) => Promise<T>): Promise<T> {
  checkBuildTools();
  return cache.withLock(log, async () => {
    // Holding the lock, no other build of this cache runs: whatever scratch and buildah working
    // containers exist were left by a build that was killed.
    cache.clearScratch();
    const buildah = new Buildah(cache.root);
    await buildah.removeWorkingContainers(cache.logFile('buildah'));
    return fn({ cache, buildah, log });
  });
}

/** The commands the builds run, and the Debian package of each (scripts/install-prereqs.sh installs them). */
const BUILD_TOOLS = { buildah: 'buildah', mmdebstrap: 'mmdebstrap', gcc: 'gcc', flock: 'util-linux', tar: 'tar', go: 'the Go toolchain (>= 1.24)', npm: 'npm' } as const;

export function checkBuildTools(): void {
  const missing = Object.entries(BUILD_TOOLS)
    .filter(([command]) => spawnSync('sh', ['-c', `command -v ${command}`]).status !== 0)
    .map(([command, pkg]) => `${command} (${pkg})`);
  if (missing.length > 0) throw new Error(`images: missing prerequisite(s): ${missing.join(', ')}; scripts/install-prereqs.sh installs the Debian packages (as root)`);
  if (process.getuid?.() !== 0) throw new Error('images: building images needs root (buildah --isolation chroot, mmdebstrap)');
}
