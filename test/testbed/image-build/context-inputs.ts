// What a Dockerfile takes from its build context, and a hash of it: the sources of every COPY/ADD that
// does not copy from another stage, walked recursively (path, mode and content of each file, target of
// each symlink). The hash keys the cached image, so any change to a copied file rebuilds it, and nothing
// else does.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, normalize } from 'node:path';

/** The context paths a Dockerfile copies (relative to the context), in order of appearance. */
export function dockerfileContextSources(dockerfileText: string): string[] {
  const sources: string[] = [];
  const lines = dockerfileText.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim());
  for (const line of lines) {
    const m = /^(COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const words = m[2]!.trim().startsWith('[') ? (JSON.parse(m[2]!) as string[]) : m[2]!.split(/\s+/);
    if (words.some((w) => w.startsWith('--from='))) continue;
    const paths = words.filter((w) => !w.startsWith('--'));
    paths.pop(); // the destination
    for (const path of paths) sources.push(normalize(path).replace(/\/$/, ''));
  }
  return sources;
}

/** sha256 over every file under the given context paths. Throws naming a path that does not exist. */
export function contextHash(contextDir: string, sources: readonly string[]): string {
  const hash = createHash('sha256');
  const visit = (path: string): void => {
    const full = join(contextDir, path);
    const stat = lstatSync(full, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${full}: copied by the Dockerfile but missing from the build context`);
    if (stat.isSymbolicLink()) {
      hash.update(`L ${path} ${readlinkSync(full)}\n`);
    } else if (stat.isDirectory()) {
      hash.update(`D ${path} ${(stat.mode & 0o7777).toString(8)}\n`);
      for (const name of readdirSync(full).sort()) visit(join(path, name));
    } else {
      const digest = createHash('sha256').update(readFileSync(full)).digest('hex');
      hash.update(`F ${path} ${(stat.mode & 0o7777).toString(8)} ${digest}\n`);
    }
  };
  for (const source of [...new Set(sources)].sort()) visit(source);
  return hash.digest('hex');
}
