// What every image build step gets: the cache (whose build lock the caller holds), the cache's buildah
// store and a progress log. Only withBuildContext creates one, so a build step cannot run unlocked.
import { Buildah } from './buildah.js';
import { ImageCache } from './image-cache.js';

export interface BuildContext {
  readonly cache: ImageCache;
  readonly buildah: Buildah;
  readonly log: (line: string) => void;
}

export async function withBuildContext<T>(cache: ImageCache, log: (line: string) => void, fn: (ctx: BuildContext) => Promise<T>): Promise<T> {
  return cache.withLock(log, async () => {
    // Holding the lock, no other build of this cache runs: whatever scratch and buildah working
    // containers exist were left by a build that was killed.
    cache.clearScratch();
    const buildah = new Buildah(cache.root);
    await buildah.removeWorkingContainers(cache.logFile('buildah'));
    return fn({ cache, buildah, log });
  });
}
