// npm run release writes what docs/release.md says it does: pushable OCI archives of both images under
// the names the chart pulls, with their entrypoints; the chart package at the package's version; an SBOM
// naming the images' digests; release.json and SHA256SUMS that match the files.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parse } from 'yaml';
import { okgsqImageRefs } from '../testbed/built-images.js';
import { readSingleImageArchive } from '../testbed/image-build/oci-archive.js';
import { RELEASE_CHECKSUMS, RELEASE_MANIFEST, sha256File, type ReleaseManifest } from '../testbed/image-build/release.js';
import { repoRoot } from '../testbed/repo-root.js';

const EXPECTED = {
  agent: { entrypoint: ['node', 'dist/agent/main.js'], user: '0:0' },
  decider: { entrypoint: ['node', 'dist/decider/main.js'], user: '1000:1000' },
} as const;

describe('npm run release', () => {
  const root = repoRoot();
  const out = join(mkdtempSync(join(tmpdir(), 'okgsq-release-')), 'release');
  after(() => rmSync(join(out, '..'), { recursive: true, force: true }));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  execFileSync(process.execPath, [join(root, 'dist', 'test', 'testbed', 'image-build', 'cli.js'), 'release', '--out', out], { stdio: ['ignore', 'ignore', 'inherit'] });
  const manifest = JSON.parse(readFileSync(join(out, RELEASE_MANIFEST), 'utf8')) as ReleaseManifest;

  it('lists every file in SHA256SUMS with its checksum', async () => {
    const lines = readFileSync(join(out, RELEASE_CHECKSUMS), 'utf8').trim().split('\n');
    const listed = lines.map((l) => l.split('  ')[1]);
    const expected = [manifest.images.agent.file, manifest.images.decider.file, manifest.chart.file, manifest.sbom, RELEASE_MANIFEST].sort();
    assert.deepEqual(listed, expected);
    for (const line of lines) {
      const [sum, file] = line.split('  ') as [string, string];
      assert.equal(await sha256File(join(out, file)), sum, file);
    }
  });

  for (const name of ['agent', 'decider'] as const) {
    it(`ships the ${name} as an OCI archive named as the chart pulls it, with its entrypoint and user`, async () => {
      const entry = manifest.images[name];
      assert.equal(entry.file, `okg-sq-${name}-${pkg.version}.oci.tar`);
      const image = await readSingleImageArchive(join(out, entry.file));
      assert.equal(image.ref, okgsqImageRefs()[name]);
      assert.equal(image.ref, entry.ref);
      assert.ok(image.ref.endsWith(`:${pkg.version}`), image.ref);
      assert.equal(image.manifestDigest, entry.manifestDigest);
      assert.equal(image.configDigest, entry.imageId);
      assert.deepEqual(image.config.config?.Entrypoint, EXPECTED[name].entrypoint);
      assert.equal(image.config.config?.User, EXPECTED[name].user);
      assert.equal(image.config.os, 'linux');
      assert.equal(image.config.architecture, 'amd64');
    });
  }

  it('packages the chart at the package version, its appVersion the images\' tag', () => {
    assert.equal(manifest.chart.file, `okg-sq-${pkg.version}.tgz`);
    const chart = parse(execFileSync('tar', ['-xzOf', join(out, manifest.chart.file), 'okg-sq/Chart.yaml'], { encoding: 'utf8' })) as { version: string; appVersion: string };
    assert.equal(chart.version, pkg.version);
    assert.equal(chart.appVersion, pkg.version);
    const values = parse(execFileSync('tar', ['-xzOf', join(out, manifest.chart.file), 'okg-sq/values.yaml'], { encoding: 'utf8' })) as Record<'agent' | 'decider', { image: { repository: string } }>;
    for (const name of ['agent', 'decider'] as const) assert.equal(`${values[name].image.repository}:${chart.appVersion}`, manifest.images[name].ref);
  });

  it('writes an SPDX SBOM that describes both images by digest', () => {
    const sbom = JSON.parse(readFileSync(join(out, manifest.sbom), 'utf8')) as { spdxVersion: string; packages: { name: string; checksums?: { checksumValue: string }[] }[] };
    assert.equal(sbom.spdxVersion, 'SPDX-2.3');
    for (const name of ['agent', 'decider'] as const) {
      const image = sbom.packages.find((p) => p.name === manifest.images[name].ref);
      assert.equal(image?.checksums?.[0]?.checksumValue, manifest.images[name].manifestDigest.replace('sha256:', ''));
    }
    for (const contained of ['libc6', 'node', '@grpc/grpc-js']) assert.ok(sbom.packages.some((p) => p.name === contained), contained);
  });

  it('leaves nothing but the release folder (no temporary folder beside it)', () => {
    assert.deepEqual(readdirSync(dirname(out)), ['release']);
  });
});
