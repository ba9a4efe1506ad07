// npm run release: what a release publishes, in one folder (default dist/release/, beside the build
// output and outside the Docker build context): both images as OCI archives, the chart package, an SPDX
// SBOM, release.json (names, digests) and SHA256SUMS. Pushing and signing happen elsewhere (docs/release.md):
// nothing here needs registry credentials.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, linkSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { ensureOkgsqImages, type OkgsqImageName } from '../built-images.js';
import { repoRoot } from '../repo-root.js';
import { versions } from '../versions.js';
import { cachedNodeBase } from './node-base.js';
import { ImageCache } from './image-cache.js';
import { spdxSbom } from './sbom.js';

export interface ReleaseManifest {
  version: string;
  images: Record<OkgsqImageName, { ref: string; file: string; manifestDigest: string; imageId: string }>;
  chart: { file: string; name: string; version: string; appVersion: string };
  sbom: string;
}

export interface Release {
  version: string;
  /** Every file written, relative to the release folder. */
  files: string[];
  manifest: ReleaseManifest;
}

export const RELEASE_MANIFEST = 'release.json';
export const RELEASE_CHECKSUMS = 'SHA256SUMS';

export async function writeRelease(outDir: string, log: (line: string) => void): Promise<Release> {
  const root = repoRoot();
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  const chart = parse(readFileSync(join(root, 'charts', 'okg-sq', 'Chart.yaml'), 'utf8')) as { name: string; version: string; appVersion: string };
  if (chart.version !== pkg.version || chart.appVersion !== pkg.version) {
    throw new Error(`release: charts/okg-sq/Chart.yaml version ${chart.version} / appVersion ${chart.appVersion} must both equal package.json version ${pkg.version}`);
  }
  const cache = new ImageCache();
  const images = await ensureOkgsqImages(log, cache);
  const helm = helmBinary(root, log);

  // Written beside the target and swapped in, so the folder never mixes two releases.
  mkdirSync(dirname(outDir), { recursive: true });
  const tmp = `${outDir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp);
  try {
    const imageEntries = {} as ReleaseManifest['images'];
    for (const name of ['agent', 'decider'] as const) {
      const file = `${pkg.name}-${name}-${pkg.version}.oci.tar`;
      linkOrCopy(images[name].ociArchive, join(tmp, file));
      imageEntries[name] = { ref: images[name].ref, file, manifestDigest: images[name].manifestDigest, imageId: images[name].imageId };
    }
    execFileSync(helm, ['package', join(root, 'charts', 'okg-sq'), '--destination', tmp], { stdio: ['ignore', 'ignore', 'inherit'] });
    const chartFile = `${chart.name}-${chart.version}.tgz`;

    const v = versions();
    const base = cachedNodeBase({ cache }, { node: v.NODE_VERSION, npm: v.NPM_VERSION, suite: v.DEBIAN_SUITE });
    if (!base) throw new Error('release: the Node base image left the cache while the release was written; run it again');
    const sbomFile = `${pkg.name}-${pkg.version}.spdx.json`;
    const sbom = spdxSbom({
      name: pkg.name,
      version: pkg.version,
      debianPackages: readFileSync(base.packagesFile, 'utf8').split('\n').filter(Boolean),
      debianSuite: v.DEBIAN_SUITE,
      nodeVersion: v.NODE_VERSION,
      npmVersion: v.NPM_VERSION,
      packageLock: JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Parameters<typeof spdxSbom>[0]['packageLock'],
      images: Object.values(imageEntries),
      created: new Date(),
    });
    writeFileSync(join(tmp, sbomFile), `${JSON.stringify(sbom, null, 2)}\n`);

    const manifest: ReleaseManifest = {
      version: pkg.version,
      images: imageEntries,
      chart: { file: chartFile, name: chart.name, version: chart.version, appVersion: chart.appVersion },
      sbom: sbomFile,
    };
    writeFileSync(join(tmp, RELEASE_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    const files = readdirSync(tmp).sort();
    const sums: string[] = [];
    for (const file of files) sums.push(`${await sha256File(join(tmp, file))}  ${file}`);
    writeFileSync(join(tmp, RELEASE_CHECKSUMS), `${sums.join('\n')}\n`);

    rmSync(outDir, { recursive: true, force: true });
    renameSync(tmp, outDir);
    return { version: pkg.version, files: [...files, RELEASE_CHECKSUMS].sort(), manifest };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** helm from the bed's build (scripts/build-testbed.sh helm: built once into the cache). */
function helmBinary(root: string, log: (line: string) => void): string {
  log('release: building or reusing helm (scripts/build-testbed.sh helm)');
  const out = execFileSync('bash', [join(root, 'scripts', 'build-testbed.sh'), 'helm'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const line = out.split('\n').find((l) => l.startsWith('helm='));
  if (!line) throw new Error('scripts/build-testbed.sh helm did not report helm=<path>');
  return line.slice('helm='.length);
}

/** Hard link when the cache and the release folder share a filesystem (the archives are never modified). */
function linkOrCopy(from: string, to: string): void {
  try {
    linkSync(from, to);
  } catch {
    copyFileSync(from, to);
  }
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

