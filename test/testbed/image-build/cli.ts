// npm run images / npm run release.
//   images [--json]          build or reuse the agent, decider and pause images; print where they are
//   release [--out DIR]      the release artifacts (default dist/release): see docs/release.md
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { ensureBuiltImages } from '../built-images.js';
import { repoRoot } from '../repo-root.js';
import { writeRelease } from './release.js';
import { join } from 'node:path';

const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function mib(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const started = Date.now();
  if (command === 'images' || command === 'release') {
    // As the bed does: install the Debian packages the build needs when they are missing (root only).
    const install = spawnSync('bash', [join(repoRoot(), 'scripts', 'install-prereqs.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (install.status !== 0) throw new Error('missing prerequisites: scripts/install-prereqs.sh failed (see above)');
  }
  if (command === 'images') {
    const { values } = parseArgs({ args: rest, options: { json: { type: 'boolean', default: false } } });
    const images = await ensureBuiltImages(log);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(images, null, 2)}\n`);
    } else {
      for (const image of Object.values(images)) {
        process.stdout.write(`${image.ref}\n  archive  ${image.ociArchive} (${mib(image.sizeBytes)})\n  manifest ${image.manifestDigest}\n`);
      }
    }
    log(`images: ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return 0;
  }
  if (command === 'release') {
    const { values } = parseArgs({ args: rest, options: { out: { type: 'string' } } });
    const out = values.out ?? join(repoRoot(), 'dist', 'release');
    const release = await writeRelease(out, log);
    for (const file of release.files) process.stdout.write(`${file}\n`);
    log(`release: ${release.version} in ${out} (${((Date.now() - started) / 1000).toFixed(1)} s); push and sign: docs/release.md`);
    return 0;
  }
  process.stderr.write('usage: cli.js images [--json] | release [--out DIR]\n');
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
