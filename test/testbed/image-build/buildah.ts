// buildah with a store of our own under the images cache (images/buildah/), so builds depend neither on
// the machine's global container storage and registries configuration nor on other tools using it.
// Builds run with chroot isolation (no runtime, no user namespaces: works as root inside a VM or a CI
// container) and never pull: every base image is built locally first.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCaptured, runLogged } from './run-logged.js';

export interface BudOptions {
  containerfile: string;
  context: string;
  tag: string;
  logFile: string;
  /** Reuse the layers of earlier builds with the same instructions (the npm ci steps). */
  layers?: boolean;
  /** host:container[:options] bind mounts for RUN steps (never committed to the image). */
  volumes?: readonly string[];
  /** Seconds since the epoch for the created time and every file's mtime: same inputs, same digest. */
  timestamp?: number;
}

export class Buildah {
  private readonly env: NodeJS.ProcessEnv;
  private readonly dir: string;

  constructor(cacheRoot: string) {
    this.dir = join(cacheRoot, 'buildah');
    mkdirSync(this.dir, { recursive: true });
    const storageConf = writeIfChanged(
      join(this.dir, 'storage.conf'),
      `[storage]\ndriver = "overlay"\ngraphroot = "${join(this.dir, 'root')}"\nrunroot = "${join(this.dir, 'run')}"\n`,
    );
    // Only fully qualified names are ever looked up, and only in the local store (--pull=never).
    const registriesConf = writeIfChanged(join(this.dir, 'registries.conf'), 'unqualified-search-registries = ["docker.io"]\nshort-name-mode = "permissive"\n');
    const containersConf = writeIfChanged(join(this.dir, 'containers.conf'), '# okg-sq image builds: the defaults, not the machine\'s containers.conf\n');
    this.env = {
      ...process.env,
      CONTAINERS_STORAGE_CONF: storageConf,
      CONTAINERS_REGISTRIES_CONF: registriesConf,
      CONTAINERS_CONF: containersConf,
      BUILDAH_ISOLATION: 'chroot',
    };
  }

  /** Builds and returns the image ID (sha256:<config digest>). */
  async bud(options: BudOptions): Promise<string> {
    const iidDir = mkdtempSync(join(tmpdir(), 'okgsq-iid-'));
    const iidFile = join(iidDir, 'iid');
    const args = ['bud', '--isolation', 'chroot', '--pull=never', '--iidfile', iidFile, '-f', options.containerfile, '-t', options.tag];
    if (options.layers) args.push('--layers');
    if (options.timestamp !== undefined) args.push('--timestamp', String(options.timestamp));
    for (const volume of options.volumes ?? []) args.push('-v', volume);
    args.push(options.context);
    try {
      await runLogged('buildah', args, { logFile: options.logFile, env: this.env });
      return readFileSync(iidFile, 'utf8').trim();
    } finally {
      rmSync(iidDir, { recursive: true, force: true });
    }
  }

  /** Writes the image as an OCI archive whose index names it `ref` (org.opencontainers.image.ref.name). */
  async pushOciArchive(image: string, file: string, ref: string, logFile: string): Promise<void> {
    await runLogged('buildah', ['push', '--quiet', image, `oci-archive:${file}:${ref}`], { logFile, env: this.env });
  }

  async tag(image: string, ref: string, logFile: string): Promise<void> {
    await runLogged('buildah', ['tag', image, ref], { logFile, env: this.env });
  }

  /** Removes the working containers of builds that were killed (bud removes its own when it finishes). */
  async removeWorkingContainers(logFile: string): Promise<void> {
    await runLogged('buildah', ['rm', '--all'], { logFile, env: this.env });
  }

  /** True when the store holds an image with this ID. */
  async hasImage(id: string, logFile: string): Promise<boolean> {
    const out = await runCaptured('buildah', ['images', '--no-trunc', '--quiet'], { logFile, env: this.env });
    return out.split('\n').some((line) => line.trim() === id || `sha256:${line.trim()}` === id);
  }
}

function writeIfChanged(file: string, content: string): string {
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== content) writeFileSync(file, content);
  return file;
}
