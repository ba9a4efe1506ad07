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
  return cache.withLock(log, () => fn({ cache, buildah: new Buildah(cache.root), log }));
}
