// A built image as the cache holds it: an OCI archive a user could push (`skopeo copy oci-archive:…`) and
// containerd can import under its name (`ctr images import` reads the index's ref.name annotation),
// plus its metadata.
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from './build-context.js';
import type { ImageCache } from './image-cache.js';
import { readSingleImageArchive } from './oci-archive.js';

export interface BuiltImage {
  /** The name the image carries in the archive and after `ctr images import`, e.g. ghcr.io/okg-sq/okg-sq-agent:0.1.0. */
  ref: string;
  /** Path of the OCI archive (tar of an OCI image layout) in the cache. */
  ociArchive: string;
  /** sha256 of the image config: the image ID containerd and buildah show. */
  imageId: string;
  /** sha256 of the manifest: the digest a registry serves it under once pushed (layers stay as built). */
  manifestDigest: string;
  /** Hash of the build's inputs (the cache key). */
  key: string;
  sizeBytes: number;
}

type BuiltImageMeta = Omit<BuiltImage, 'ociArchive'>;
const ARCHIVE = 'image.oci.tar';

export function cachedImage(cache: ImageCache, name: string, key: string): BuiltImage | undefined {
  const entry = cache.read<BuiltImageMeta>(name, key);
  return entry && { ...entry.meta, ociArchive: join(entry.dir, ARCHIVE) };
}

/** Builds with `build` (which returns the image ID in the store), writes and checks the archive, publishes. */
export async function publishImage(ctx: BuildContext, name: string, key: string, ref: string, build: () => Promise<string>): Promise<BuiltImage> {
  const logFile = ctx.cache.logFile(name);
  const entry = await ctx.cache.publish(name, key, async (dir) => {
    const imageId = await build();
    const archive = join(dir, ARCHIVE);
    await ctx.buildah.pushOciArchive(imageId, archive, ref, logFile);
    const image = await readSingleImageArchive(archive);
    if (image.ref !== ref) throw new Error(`${archive}: names ${image.ref}, expected ${ref}`);
    if (image.configDigest !== imageId) throw new Error(`${archive}: holds image ${image.configDigest}, buildah built ${imageId}`);
    return { ref, imageId, manifestDigest: image.manifestDigest, sizeBytes: statSync(archive).size } satisfies Omit<BuiltImageMeta, 'key'>;
  });
  return { ...entry.meta, ociArchive: join(entry.dir, ARCHIVE) };
}
