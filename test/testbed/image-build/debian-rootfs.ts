// The Debian root filesystem under the Node base image: `mmdebstrap --variant=minbase <suite>` without
// docs (copyright files stay: the image is redistributed), man pages, info pages and locales, with merged
// /usr and no device nodes, like Debian's own -slim images. The slow part of a cold build (~80-100 s on
// 2 cores), so it is its own cache entry, keyed by the suite, the mirror and the exact mmdebstrap
// arguments. The mirror is not a snapshot (snapshot.debian.org is not reachable from the build machines):
// a rebuild picks up the suite's current packages, and packages.txt records which ones went in.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from './build-context.js';
import { inputKey } from './image-cache.js';
import { runCaptured, runLogged } from './run-logged.js';

export interface DebianRootfs {
  /** The root filesystem as a tar archive (what `ADD rootfs.tar /` unpacks). */
  tar: string;
  /** One `name version architecture` line per installed package. */
  packagesFile: string;
  packages: string[];
  key: string;
}

/** OKGSQ_DEBIAN_MIRROR overrides it (the security suite is expected at <mirror>-security, as on deb.debian.org). */
const DEFAULT_MIRROR = 'http://deb.debian.org/debian';

/** The mmdebstrap arguments for a suite; the cache key hashes them, so any change rebuilds. */
function mmdebstrapArgs(suite: string, mirror: string, tarFile: string): string[] {
  const dpkgPaths = [
    'path-exclude=/usr/share/doc/*',
    'path-include=/usr/share/doc/*/copyright',
    'path-exclude=/usr/share/man/*',
    'path-exclude=/usr/share/info/*',
    'path-exclude=/usr/share/locale/*',
    'path-include=/usr/share/locale/locale.alias',
  ];
  return [
    '--variant=minbase',
    '--format=tar',
    '--skip=output/dev',
    '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr',
    ...dpkgPaths.map((p) => `--dpkgopt=${p}`),
    suite,
    tarFile,
    `deb ${mirror} ${suite} main`,
    `deb ${mirror} ${suite}-updates main`,
    `deb ${mirror}-security ${suite}-security main`,
  ];
}

function debianMirror(): string {
  return process.env.OKGSQ_DEBIAN_MIRROR || DEFAULT_MIRROR;
}

export function debianRootfsKey(suite: string): string {
  return inputKey('debian-rootfs/1', ...mmdebstrapArgs(suite, debianMirror(), 'OUT'));
}

export async function ensureDebianRootfs(ctx: BuildContext, suite: string): Promise<DebianRootfs> {
  const name = `debian-${suite}`;
  const key = debianRootfsKey(suite);
  const found = ctx.cache.read<{ packages: string[] }>(name, key);
  const entry =
    found ??
    (await ctx.cache.publish(name, key, async (dir) => {
      const mirror = debianMirror();
      const logFile = ctx.cache.logFile(name);
      ctx.log(`images: building the Debian ${suite} root filesystem (mmdebstrap from ${mirror}; log: ${logFile})`);
      const started = Date.now();
      await runLogged('mmdebstrap', mmdebstrapArgs(suite, mirror, join(dir, 'rootfs.tar')), { logFile });
      const status = await runCaptured('tar', ['-xOf', join(dir, 'rootfs.tar'), './var/lib/dpkg/status'], { logFile });
      const packages = installedPackages(status);
      ctx.log(`images: Debian ${suite} root filesystem built in ${Math.round((Date.now() - started) / 1000)} s (${packages.length} packages)`);
      writeFileSync(join(dir, 'packages.txt'), `${packages.join('\n')}\n`);
      return { packages };
    }));
  return { tar: join(entry.dir, 'rootfs.tar'), packagesFile: join(entry.dir, 'packages.txt'), packages: entry.meta.packages, key };
}

/** `name version architecture` of every installed package in a dpkg status file. */
export function installedPackages(status: string): string[] {
  const packages: string[] = [];
  for (const stanza of status.split(/\n\n+/)) {
    const field = (name: string): string | undefined => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1];
    if (!field('Status')?.endsWith(' installed')) continue;
    packages.push(`${field('Package')} ${field('Version')} ${field('Architecture')}`);
  }
  return packages.sort();
}
