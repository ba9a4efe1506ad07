// What `RUN npm ci` inside a build needs from the machine, as bind mounts (never committed to a layer):
// the machine's npm registry, proxy and CA settings as /root/.npmrc (the build stages run npm as root),
// the CA bundle itself, and an npm cache at /root/.npm.
// The cache is a scratch copy per build, never the machine's own cache: the Dockerfiles' deps stage runs
// `npm cache clean --force`, which would wipe a mounted shared cache. The copy is seeded from the
// machine's cache cheaply: content files are immutable and content-addressed, so they are hard-linked;
// the index files are appended to in place, so they are copied.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCaptured, runLogged } from './run-logged.js';

const IN_BUILD = { npmrc: '/root/.npmrc', ca: '/root/.npm-build-ca.crt', cache: '/root/.npm' } as const;

/** buildah -v arguments for the build; everything lives under scratchDir (the caller removes it). */
export async function npmBuildVolumes(scratchDir: string, logFile: string): Promise<string[]> {
  const keys = ['registry', 'cafile', 'proxy', 'https-proxy', 'strict-ssl', 'cache'] as const;
  const out = await runCaptured('npm', ['config', 'get', ...keys], { logFile, cwd: scratchDir });
  const config = new Map(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const set = (key: string): string | undefined => {
    const value = config.get(key);
    return value && value !== 'null' && value !== 'undefined' ? value : undefined;
  };
  const volumes: string[] = [];
  const npmrc = [`registry=${set('registry') ?? 'https://registry.npmjs.org/'}`, 'fund=false', 'audit=false', 'update-notifier=false'];
  for (const key of ['proxy', 'https-proxy'] as const) if (set(key)) npmrc.push(`${key}=${set(key)}`);
  if (set('strict-ssl') === 'false') npmrc.push('strict-ssl=false');
  const ca = set('cafile') ?? process.env.NODE_EXTRA_CA_CERTS;
  if (ca && existsSync(ca)) {
    npmrc.push(`cafile=${IN_BUILD.ca}`);
    volumes.push(`${ca}:${IN_BUILD.ca}:ro`);
  }
  const npmrcFile = join(scratchDir, 'npmrc');
  writeFileSync(npmrcFile, `${npmrc.join('\n')}\n`);
  volumes.push(`${npmrcFile}:${IN_BUILD.npmrc}:ro`);

  const cache = join(scratchDir, 'npm-cache');
  mkdirSync(join(cache, '_cacache'), { recursive: true });
  const machineCache = set('cache') && join(set('cache')!, '_cacache');
  if (machineCache && existsSync(join(machineCache, 'content-v2')) && existsSync(join(machineCache, 'index-v5'))) {
    try {
      await runLogged('cp', ['-al', join(machineCache, 'content-v2'), join(cache, '_cacache', 'content-v2')], { logFile });
      await runLogged('cp', ['-r', join(machineCache, 'index-v5'), join(cache, '_cacache', 'index-v5')], { logFile });
    } catch {
      // Another filesystem (no hard links) or a cache being rewritten: build with an empty cache instead.
    }
  }
  volumes.push(`${cache}:${IN_BUILD.cache}`);
  return volumes;
}
