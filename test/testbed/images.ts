// The bed's container images, built without a registry: a docker-archive tarball whose one layer holds the
// static busybox from the host with its applets and /etc/passwd, imported into containerd with `ctr`.
// The "pause" (sandbox) image is the same layer with `sleep infinity` as its command.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync, copyFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';

export const TEST_IMAGES = {
  /** The default image of FakeKubelet containers: busybox with all applets (sh, httpd, nc, wget, sleep…). */
  busybox: 'docker.io/okgsq/busybox:test',
  /** containerd's sandbox_image. */
  pause: 'docker.io/okgsq/pause:test',
} as const;

const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'] as const;
const PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function findStaticBusybox(): string {
  for (const candidate of BUSYBOX_CANDIDATES) {
    try {
      if (isStaticElf(readFileSync(candidate))) return candidate;
    } catch {
      // not there; try the next one
    }
  }
  throw new Error('missing prerequisite: a statically linked busybox (Debian package busybox-static; scripts/install-prereqs.sh installs it)');
}

const ELF_MAGIC = 0x464c457f; // "\x7fELF" little-endian
const ELF_CLASS_64 = 2;
const PT_INTERP = 3;

/** A 64-bit ELF without a PT_INTERP program header needs no dynamic loader: it runs in an empty image. */
function isStaticElf(bytes: Buffer): boolean {
  if (bytes.length < 64 || bytes.readUInt32LE(0) !== ELF_MAGIC || bytes[4] !== ELF_CLASS_64) return false;
  const phoff = Number(bytes.readBigUInt64LE(0x20));
  const phentsize = bytes.readUInt16LE(0x36);
  const phnum = bytes.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (bytes.readUInt32LE(phoff + i * phentsize) === PT_INTERP) return false;
  }
  return true;
}

/** Writes the image tarball into `dir` and returns its path. Deterministic: same host busybox, same digests. */
export function buildImageArchive(dir: string): string {
  const busybox = findStaticBusybox();
  const rootfs = join(dir, 'rootfs');
  for (const sub of ['bin', 'etc', 'tmp', 'www', 'root']) mkdirSync(join(rootfs, sub), { recursive: true });
  chmodSync(join(rootfs, 'tmp'), 0o1777);
  copyFileSync(busybox, join(rootfs, 'bin', 'busybox'));
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755);
  const applets = execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n').filter((a) => a && a !== 'busybox');
  for (const applet of applets) symlinkSync('busybox', join(rootfs, 'bin', applet));
  writeFileSync(join(rootfs, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  writeFileSync(join(rootfs, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');

  const archive = join(dir, 'archive');
  mkdirSync(archive, { recursive: true });
  const layerTmp = join(dir, 'layer.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '--owner=0', '--group=0', '-C', rootfs, '-cf', layerTmp, '.']);
  const layerBytes = readFileSync(layerTmp);
  const layerDigest = createHash('sha256').update(layerBytes).digest('hex');
  mkdirSync(join(archive, layerDigest), { recursive: true });
  writeFileSync(join(archive, layerDigest, 'layer.tar'), layerBytes);

  const manifest = [
    imageEntry(archive, layerDigest, TEST_IMAGES.busybox, ['sh']),
    imageEntry(archive, layerDigest, TEST_IMAGES.pause, ['sleep', 'infinity']),
  ];
  writeFileSync(join(archive, 'manifest.json'), JSON.stringify(manifest));
  const tarball = join(dir, 'okgsq-test-images.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--numeric-owner', '--owner=0', '--group=0', '-C', archive, '-cf', tarball, '.']);
  return tarball;
}

function imageEntry(archive: string, layerDigest: string, ref: string, cmd: string[]): { Config: string; RepoTags: string[]; Layers: string[] } {
  const config = JSON.stringify({
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: { Env: [PATH_ENV], Cmd: cmd, WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'okg-sq test bed (test/testbed/images.ts)' }],
  });
  const configName = `${createHash('sha256').update(config).digest('hex')}.json`;
  writeFileSync(join(archive, configName), config);
  return { Config: configName, RepoTags: [ref.replace(/^docker\.io\//, '')], Layers: [`${layerDigest}/layer.tar`] };
}

/** Imports the tarball into containerd's k8s.io namespace (the one the CRI plugin uses). */
export function importImages(socket: string, tarball: string): void {
  execFileSync('ctr', ['-a', socket, '-n', 'k8s.io', 'images', 'import', tarball], { stdio: ['ignore', 'ignore', 'pipe'] });
}
