// okg-sq's container images for the bed and the release, built without Docker (docs/design.md, "Images
// without Docker"): the agent and decider from the repository's unchanged Dockerfiles on a locally built
// Node base, and the pod sandbox (pause) image. Built once per content into the images cache and reused:
//   const images = await ensureBuiltImages(log);          // { agent, decider, pause }, each a BuiltImage
//   await importImages(containerdSocket, Object.values(images));
//   const manager = await ensureFilesImage({ ref, files: [{ from, to, mode }], entrypoint, user }, log);
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { checkBuildTools, withBuildContext } from './image-build/build-context.js';
import type { BuiltImage } from './image-build/built-image.js';
import { buildDockerfileImage, cachedDockerfileImage, type DockerfileImageSpec } from './image-build/dockerfile-image.js';
import { buildFilesImage, cachedFilesImage, type FilesImageSpec } from './image-build/files-image.js';
import { ImageCache } from './image-build/image-cache.js';
import { cachedNodeBase, ensureNodeBase, type NodeBaseVersions } from './image-build/node-base.js';
import { compilePause } from './image-build/pause-image.js';
import { repoRoot } from './repo-root.js';
import { versions } from './versions.js';

export type { BuiltImage } from './image-build/built-image.js';
export type { FilesImageSpec } from './image-build/files-image.js';

export type OkgsqImageName = 'agent' | 'decider';
export type BuiltImages = Record<OkgsqImageName | 'pause', BuiltImage>;

type Log = (line: string) => void;

const execFileAsync = promisify(execFile);

/**
 * The names the chart's default values pull: <values .image.repository>:<Chart appVersion>, so
 * `helm install` with default images finds the imported ones.
 */
export function okgsqImageRefs(root: string = repoRoot()): Record<OkgsqImageName, string> {
  const chartDir = join(root, 'charts', 'okg-sq');
  const chart = parse(readFileSync(join(chartDir, 'Chart.yaml'), 'utf8')) as { appVersion: string };
  const values = parse(readFileSync(join(chartDir, 'values.yaml'), 'utf8')) as Record<OkgsqImageName, { image: { repository: string } }>;
  return { agent: `${values.agent.image.repository}:${chart.appVersion}`, decider: `${values.decider.image.repository}:${chart.appVersion}` };
}

function dockerfileSpecs(root: string): Record<OkgsqImageName, DockerfileImageSpec> {
  const refs = okgsqImageRefs(root);
  return {
    agent: { name: 'okg-sq-agent', dockerfile: 'Dockerfile.agent', ref: refs.agent },
    decider: { name: 'okg-sq-decider', dockerfile: 'Dockerfile.decider', ref: refs.decider },
  };
}

function nodeBaseVersions(): NodeBaseVersions {
  const v = versions();
  return { node: v.NODE_VERSION, npm: v.NPM_VERSION, suite: v.DEBIAN_SUITE };
}

/** The agent and decider images, built from this checkout's Dockerfiles or reused from the cache. */
export async function ensureOkgsqImages(log: Log, cache: ImageCache = new ImageCache()): Promise<Record<OkgsqImageName, BuiltImage>> {
  const root = repoRoot();
  const specs = dockerfileSpecs(root);
  const base = cachedNodeBase({ cache }, nodeBaseVersions());
  if (base) {
    const agent = cachedDockerfileImage(cache, root, specs.agent, base.imageId);
    const decider = cachedDockerfileImage(cache, root, specs.decider, base.imageId);
    if (agent && decider) return { agent, decider };
  }
  return withBuildContext(cache, log, async (ctx) => {
    const ready = await ensureNodeBase(ctx, nodeBaseVersions());
    return {
      agent: await buildDockerfileImage(ctx, root, specs.agent, ready.imageId),
      decider: await buildDockerfileImage(ctx, root, specs.decider, ready.imageId),
    };
  });
}

/** The agent, decider and pause images (what a cluster bed loads into its containerd). */
export async function ensureBuiltImages(log: Log, cache: ImageCache = new ImageCache()): Promise<BuiltImages> {
  checkBuildTools();
  const okgsq = await ensureOkgsqImages(log, cache);
  const pause = await compilePause(versions().KUBE_VERSION, cache.logFile('pause'));
  try {
    return { ...okgsq, pause: await ensureFilesImage(pause.spec, log, cache) };
  } finally {
    rmSync(pause.scratchDir, { recursive: true, force: true });
  }
}

/** An image of the given files (FROM scratch, or FROM the Node base with base: 'node'), built once per content. */
export async function ensureFilesImage(spec: FilesImageSpec, log: Log, cache: ImageCache = new ImageCache()): Promise<BuiltImage> {
  const baseVersions = nodeBaseVersions();
  if (spec.base !== 'node') {
    const found = cachedFilesImage(cache, spec, undefined);
    if (found) return found;
    return withBuildContext(cache, log, (ctx) => buildFilesImage(ctx, spec));
  }
  const base = cachedNodeBase({ cache }, baseVersions);
  const found = base && cachedFilesImage(cache, spec, base.imageId);
  if (found) return found;
  return withBuildContext(cache, log, async (ctx) => buildFilesImage(ctx, spec, await ensureNodeBase(ctx, baseVersions)));
}

/**
 * Imports the images into containerd's k8s.io namespace (the CRI plugin's) under their names, and checks
 * that containerd lists each name afterwards.
 */
export async function importImages(containerdSocket: string, images: readonly BuiltImage[]): Promise<void> {
  const ctr = (...args: string[]): Promise<{ stdout: string }> => execFileAsync('ctr', ['-a', containerdSocket, '-n', 'k8s.io', ...args], { maxBuffer: 16 << 20 });
  for (const image of images) await ctr('images', 'import', image.ociArchive);
  const listed = new Set((await ctr('images', 'ls', '-q')).stdout.split('\n').map((l) => l.trim()));
  const missing = images.filter((image) => !listed.has(image.ref)).map((image) => `${image.ref} (${image.ociArchive})`);
  if (missing.length > 0) throw new Error(`containerd at ${containerdSocket} does not list imported image(s): ${missing.join(', ')}`);
}
