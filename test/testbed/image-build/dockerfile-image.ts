// An image from one of the repository's Dockerfiles, built unchanged by buildah on the locally built Node
// base (tagged with the name the Dockerfile's default NODE_IMAGE names). Keyed by the Dockerfile, the
// .dockerignore, every file it copies from the context and the base image's ID.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from './build-context.js';
import { cachedImage, publishImage, type BuiltImage } from './built-image.js';
import { contextHash, dockerfileContextSources } from './context-inputs.js';
import { inputKey, type ImageCache } from './image-cache.js';
import { npmBuildVolumes } from './npm-in-build.js';

export interface DockerfileImageSpec {
  /** Cache entry and log name, e.g. okg-sq-agent. */
  name: string;
  /** Path relative to the context (the repository root). */
  dockerfile: string;
  ref: string;
}

export function dockerfileImageKey(contextDir: string, spec: DockerfileImageSpec, baseImageId: string): string {
  const dockerfile = readFileSync(join(contextDir, spec.dockerfile), 'utf8');
  const ignoreFile = join(contextDir, '.dockerignore');
  const ignore = existsSync(ignoreFile) ? readFileSync(ignoreFile, 'utf8') : '';
  return inputKey('dockerfile-image/1', spec.ref, dockerfile, ignore, contextHash(contextDir, dockerfileContextSources(dockerfile)), baseImageId);
}

export function cachedDockerfileImage(cache: ImageCache, contextDir: string, spec: DockerfileImageSpec, baseImageId: string): BuiltImage | undefined {
  return cachedImage(cache, spec.name, dockerfileImageKey(contextDir, spec, baseImageId));
}

/** Call with the base in the store (ensureNodeBase) and the build lock held. */
export async function buildDockerfileImage(ctx: BuildContext, contextDir: string, spec: DockerfileImageSpec, baseImageId: string): Promise<BuiltImage> {
  const key = dockerfileImageKey(contextDir, spec, baseImageId);
  const cached = cachedImage(ctx.cache, spec.name, key);
  if (cached) return cached;
  const logFile = ctx.cache.logFile(spec.name);
  return publishImage(ctx, spec.name, key, spec.ref, async () => {
    ctx.log(`images: building ${spec.ref} from ${spec.dockerfile} (log: ${logFile})`);
    const started = Date.now();
    const scratch = ctx.cache.scratchDir(spec.name);
    try {
      const volumes = await npmBuildVolumes(scratch, logFile);
      const imageId = await ctx.buildah.bud({ containerfile: join(contextDir, spec.dockerfile), context: contextDir, tag: spec.ref, logFile, layers: true, volumes });
      ctx.log(`images: built ${spec.ref} in ${Math.round((Date.now() - started) / 1000)} s`);
      return imageId;
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
}
