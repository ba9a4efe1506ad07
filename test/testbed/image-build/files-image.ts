// A small image from files and binaries (static Go controllers, the pause binary, test helpers): the files
// at the paths given, on an empty base (FROM scratch) or on the Node base. Built with a fixed timestamp,
// so the same files give the same image digest; keyed by the spec and every file's content.
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { BuildContext } from './build-context.js';
import { cachedImage, publishImage, type BuiltImage } from './built-image.js';
import { inputKey, type ImageCache } from './image-cache.js';

export interface FilesImageSpec {
  /** Full name, e.g. docker.io/okgsq/kruise-manager:v1.8.2. */
  ref: string;
  /** Host files to put in the image; mode defaults to the host file's. */
  files: readonly { from: string; to: string; mode?: number }[];
  /** Empty directories, e.g. { path: '/tmp', mode: 0o1777 }. */
  dirs?: readonly { path: string; mode: number }[];
  entrypoint: readonly string[];
  cmd?: readonly string[];
  /** uid:gid (numeric, so runAsNonRoot can check it). */
  user?: string;
  env?: Readonly<Record<string, string>>;
  workdir?: string;
  /** 'scratch' (default): nothing but the files. 'node': the Node base image (Debian, node, npm). */
  base?: 'scratch' | 'node';
  /** scratch only: /etc/passwd and /etc/group with root, nobody and the image's user. */
  passwd?: boolean;
  /** The machine's CA bundle at /etc/ssl/certs/ca-certificates.crt. For test images: it is this machine's trust, not Debian's. */
  caCertificates?: boolean;
}

const HOST_CA_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';
/** 1970-01-01: the files' mtimes and the image's created time, for reproducible digests. */
const FIXED_TIMESTAMP = 0;

export function filesImageName(ref: string): string {
  return `files-${ref.replace(/[^A-Za-z0-9._-]+/g, '_')}`;
}

export function filesImageKey(spec: FilesImageSpec, baseImageId: string | undefined): string {
  check(spec);
  const { files, ...rest } = spec;
  const fileParts = files.flatMap((f) => [f.to, String(f.mode ?? statSync(f.from).mode & 0o7777), readFileSync(f.from)]);
  const ca = spec.caCertificates ? [readFileSync(HOST_CA_BUNDLE)] : [];
  return inputKey('files-image/1', JSON.stringify(rest), baseImageId ?? 'scratch', ...fileParts, ...ca);
}

export function cachedFilesImage(cache: ImageCache, spec: FilesImageSpec, baseImageId: string | undefined): BuiltImage | undefined {
  return cachedImage(cache, filesImageName(spec.ref), filesImageKey(spec, baseImageId));
}

/** Call with the build lock held (and, for base 'node', the base in the store under baseRef). */
export async function buildFilesImage(ctx: BuildContext, spec: FilesImageSpec, base?: { ref: string; imageId: string }): Promise<BuiltImage> {
  const name = filesImageName(spec.ref);
  const key = filesImageKey(spec, base?.imageId);
  const cached = cachedImage(ctx.cache, name, key);
  if (cached) return cached;
  const logFile = ctx.cache.logFile(name);
  return publishImage(ctx, name, key, spec.ref, async () => {
    ctx.log(`images: building ${spec.ref} from ${spec.files.length} file(s)`);
    const context = ctx.cache.scratchDir(name);
    try {
      const rootfs = join(context, 'rootfs');
      mkdirSync(rootfs, { mode: 0o755 });
      for (const dir of spec.dirs ?? []) {
        mkdirSync(join(rootfs, dir.path), { recursive: true });
        chmodSync(join(rootfs, dir.path), dir.mode);
      }
      for (const file of spec.files) {
        const target = join(rootfs, file.to);
        mkdirSync(dirname(target), { recursive: true });
        copyFileSync(file.from, target);
        chmodSync(target, file.mode ?? statSync(file.from).mode & 0o7777);
      }
      if (spec.passwd) writeAccounts(rootfs, spec.user);
      if (spec.caCertificates) {
        mkdirSync(join(rootfs, 'etc', 'ssl', 'certs'), { recursive: true });
        copyFileSync(HOST_CA_BUNDLE, join(rootfs, 'etc', 'ssl', 'certs', 'ca-certificates.crt'));
      }
      writeFileSync(join(context, 'Containerfile'), containerfile(spec, base?.ref));
      return await ctx.buildah.bud({ containerfile: join(context, 'Containerfile'), context, tag: spec.ref, logFile, timestamp: FIXED_TIMESTAMP });
    } finally {
      rmSync(context, { recursive: true, force: true });
    }
  });
}

function check(spec: FilesImageSpec): void {
  for (const path of [...spec.files.map((f) => f.to), ...(spec.dirs ?? []).map((d) => d.path)]) {
    if (!posix.isAbsolute(path) || posix.normalize(path) !== path) throw new Error(`image ${spec.ref}: ${path} is not a normalized absolute path`);
  }
  if (spec.user !== undefined && !/^\d+(:\d+)?$/.test(spec.user)) throw new Error(`image ${spec.ref}: user ${spec.user} is not numeric uid[:gid]`);
  if (spec.passwd && spec.base === 'node') throw new Error(`image ${spec.ref}: passwd is for scratch images (the Node base has its own accounts)`);
}

function containerfile(spec: FilesImageSpec, baseRef: string | undefined): string {
  const lines = [`FROM ${spec.base === 'node' ? baseRef : 'scratch'}`, 'COPY rootfs/ /'];
  for (const [k, v] of Object.entries(spec.env ?? {})) lines.push(`ENV ${k}=${JSON.stringify(v)}`);
  if (spec.workdir) lines.push(`WORKDIR ${spec.workdir}`);
  if (spec.user) lines.push(`USER ${spec.user}`);
  lines.push(`ENTRYPOINT ${JSON.stringify(spec.entrypoint)}`);
  if (spec.cmd) lines.push(`CMD ${JSON.stringify(spec.cmd)}`);
  return `${lines.join('\n')}\n`;
}

function writeAccounts(rootfs: string, user: string | undefined): void {
  const [uid = '0', gid = uid] = (user ?? '0').split(':');
  const passwd = ['root:x:0:0:root:/root:/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin'];
  const group = ['root:x:0:', 'nogroup:x:65534:'];
  if (uid !== '0' && uid !== '65534') passwd.push(`app:x:${uid}:${gid}:app:/nonexistent:/sbin/nologin`);
  if (gid !== '0' && gid !== '65534') group.push(`app:x:${gid}:`);
  mkdirSync(join(rootfs, 'etc'), { recursive: true });
  writeFileSync(join(rootfs, 'etc', 'passwd'), `${passwd.join('\n')}\n`);
  writeFileSync(join(rootfs, 'etc', 'group'), `${group.join('\n')}\n`);
}
