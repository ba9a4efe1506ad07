// Reads and checks an OCI image archive (a tar of an OCI image layout: oci-layout, index.json, blobs/):
// every blob the index reaches exists with the digest and size its descriptor claims. Used on every image
// the build writes and by the release tests, so an archive that a registry would refuse never leaves here.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const OCI_REF_NAME = 'org.opencontainers.image.ref.name';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface OciImageConfig {
  architecture: string;
  os: string;
  config?: {
    Entrypoint?: string[];
    Cmd?: string[];
    User?: string;
    Env?: string[];
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
  };
  rootfs: { type: string; diff_ids: string[] };
}

export interface OciArchiveImage {
  /** The index's org.opencontainers.image.ref.name: the name `ctr images import` and skopeo give it. */
  ref: string | undefined;
  manifestDigest: string;
  /** sha256:<config digest>: the image ID buildah, containerd and docker show. */
  configDigest: string;
  config: OciImageConfig;
  layers: Descriptor[];
}

export async function readOciArchive(file: string): Promise<OciArchiveImage[]> {
  const dir = mkdtempSync(join(tmpdir(), 'okgsq-oci-'));
  try {
    execFileSync('tar', ['-xf', file, '-C', dir]);
    const layout = readJson<{ imageLayoutVersion?: string }>(dir, 'oci-layout', file);
    if (layout.imageLayoutVersion !== '1.0.0') throw new Error(`${file}: oci-layout imageLayoutVersion is ${layout.imageLayoutVersion}, not 1.0.0`);
    const index = readJson<{ schemaVersion: number; manifests?: Descriptor[] }>(dir, 'index.json', file);
    if (index.schemaVersion !== 2 || !index.manifests?.length) throw new Error(`${file}: index.json lists no manifests`);
    const images: OciArchiveImage[] = [];
    for (const descriptor of index.manifests) {
      if (descriptor.mediaType !== OCI_MANIFEST) throw new Error(`${file}: index entry ${descriptor.digest} is ${descriptor.mediaType}, not an OCI image manifest`);
      await checkBlob(dir, descriptor, file);
      const manifest = JSON.parse(readFileSync(blobPath(dir, descriptor.digest), 'utf8')) as { config: Descriptor; layers: Descriptor[] };
      if (manifest.config.mediaType !== OCI_CONFIG) throw new Error(`${file}: manifest ${descriptor.digest} has config type ${manifest.config.mediaType}`);
      await checkBlob(dir, manifest.config, file);
      for (const layer of manifest.layers) await checkBlob(dir, layer, file);
      const config = JSON.parse(readFileSync(blobPath(dir, manifest.config.digest), 'utf8')) as OciImageConfig;
      if (config.rootfs.diff_ids.length !== manifest.layers.length) throw new Error(`${file}: config lists ${config.rootfs.diff_ids.length} layers, manifest ${manifest.layers.length}`);
      images.push({ ref: descriptor.annotations?.[OCI_REF_NAME], manifestDigest: descriptor.digest, configDigest: manifest.config.digest, config, layers: manifest.layers });
    }
    return images;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The archive's one image; throws when it holds several or none. */
export async function readSingleImageArchive(file: string): Promise<OciArchiveImage> {
  const images = await readOciArchive(file);
  if (images.length !== 1) throw new Error(`${file}: ${images.length} images, expected 1`);
  return images[0]!;
}

function readJson<T>(dir: string, name: string, archive: string): T {
  const path = join(dir, name);
  if (!existsSync(path)) throw new Error(`${archive}: no ${name}: not an OCI image layout`);
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function blobPath(dir: string, digest: string): string {
  const m = /^sha256:([a-f0-9]{64})$/.exec(digest);
  if (!m) throw new Error(`unsupported digest ${digest}`);
  return join(dir, 'blobs', 'sha256', m[1]!);
}

async function checkBlob(dir: string, descriptor: Descriptor, archive: string): Promise<void> {
  const path = blobPath(dir, descriptor.digest);
  if (!existsSync(path)) throw new Error(`${archive}: blob ${descriptor.digest} is missing`);
  const size = statSync(path).size;
  if (size !== descriptor.size) throw new Error(`${archive}: blob ${descriptor.digest} has ${size} bytes, its descriptor says ${descriptor.size}`);
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  const actual = `sha256:${hash.digest('hex')}`;
  if (actual !== descriptor.digest) throw new Error(`${archive}: blob ${descriptor.digest} hashes to ${actual}`);
}
