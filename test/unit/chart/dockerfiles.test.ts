// The images cannot be built here (no Docker), so this checks what a build would trip over: every
// path the Dockerfiles COPY exists and is not excluded by .dockerignore, everything the entrypoint
// imports is copied into the build stage, and `npm run build` (tsc with the repo's tsconfig) emits the
// entrypoint the image runs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';
import { repoRoot } from '../../chart/chart-files.js';
import { versions } from '../../testbed/versions.js';

const root = repoRoot();

interface Stage {
  name: string;
  from: string;
  /** COPY instructions: sources relative to the context (or to another stage with `from`). */
  copies: { from?: string; sources: string[]; dest: string }[];
  runs: string[];
  user?: string;
  entrypoint?: string[];
}

interface ParsedDockerfile {
  args: Record<string, string>;
  stages: Stage[];
  instructions: string[];
}

function parseDockerfile(file: string): ParsedDockerfile {
  const text = readFileSync(join(root, file), 'utf8');
  // Join continuation lines, drop comments and blank lines.
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const [instruction = '', ...rest] = line.split(/\s+/);
    const body = rest.join(' ');
    const stage = stages[stages.length - 1];
    switch (instruction.toUpperCase()) {
      case 'ARG': {
        const [k = '', v = ''] = body.split('=');
        if (!stage) args[k] = v;
        break;
      }
      case 'FROM': {
        const m = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(body);
        assert.ok(m, `${file}: FROM ${body}`);
        const from = m[1]!.replace(/\$\{(\w+)\}/g, (_, n: string) => args[n] ?? '');
        stages.push({ name: m[2] ?? String(stages.length), from, copies: [], runs: [] });
        break;
      }
      case 'COPY': {
        assert.ok(stage, `${file}: COPY before FROM`);
        const parts = rest.filter((p) => !p.startsWith('--') || p.startsWith('--from='));
        const fromFlag = parts.find((p) => p.startsWith('--from='));
        const paths = parts.filter((p) => !p.startsWith('--'));
        const dest = paths.pop() ?? '';
        stage.copies.push({ ...(fromFlag ? { from: fromFlag.slice('--from='.length) } : {}), sources: paths, dest });
        break;
      }
      case 'RUN':
        stage?.runs.push(body);
        break;
      case 'USER':
        if (stage) stage.user = body;
        break;
      case 'ENTRYPOINT':
        if (stage) stage.entrypoint = JSON.parse(body) as string[];
        break;
    }
  }
  return { args, stages, instructions: lines.map((l) => l.split(/\s+/)[0]!.toUpperCase()) };
}

function dockerignorePatterns(): string[] {
  return readFileSync(join(root, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
}

/** True when .dockerignore excludes the path (top-level names and `*` globs, as used in it). */
function ignored(path: string, patterns: readonly string[]): boolean {
  const first = normalize(path).split('/')[0]!;
  return patterns.some((p) => {
    const re = new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    return re.test(normalize(path)) || re.test(first);
  });
}

function parsedTsconfig(): ts.ParsedCommandLine {
  const configPath = join(root, 'tsconfig.json');
  const config = ts.readConfigFile(configPath, ts.sys.readFile);
  assert.equal(config.error, undefined);
  return ts.parseJsonConfigFileContent(config.config, ts.sys, root, undefined, configPath);
}

/** Value imports (not `import type`) of packages. */
const BARE_IMPORT = /^(?:import|export)\s+(?!type\b)[^'"]*?from\s*['"]([^'"]+)['"]|^import\s*['"]([^'"]+)['"]/gm;

const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

/** Every repo file the entrypoint reaches through relative imports (.js specifiers → .ts sources). */
function importClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(join(root, file), 'utf8');
    for (const m of source.matchAll(RELATIVE_IMPORT)) {
      const target = relative(root, resolve(root, dirname(file), m[1]!)).replace(/\.js$/, '.ts');
      assert.ok(existsSync(join(root, target)), `${file} imports ${m[1]}, but ${target} does not exist`);
      queue.push(target);
    }
  }
  return seen;
}

const IMAGES = [
  { dockerfile: 'Dockerfile.agent', program: 'agent', root: true },
  { dockerfile: 'Dockerfile.decider', program: 'decider', root: false },
] as const;

for (const image of IMAGES) {
  describe(image.dockerfile, () => {
    const parsed = parseDockerfile(image.dockerfile);
    const final = parsed.stages[parsed.stages.length - 1]!;
    const build = parsed.stages.find((s) => s.runs.some((r) => r.includes('npm run build')));

    it('builds on a pinned slim Node LTS (22 or 24) base, in several stages, with no HEALTHCHECK', () => {
      assert.ok(parsed.stages.length >= 2, 'multi-stage');
      for (const stage of parsed.stages) {
        assert.match(stage.from, /^node:(22|24)\.\d+\.\d+-(bookworm|trixie)-slim(@sha256:[a-f0-9]{64})?$/, `stage ${stage.name} base ${stage.from}`);
      }
      assert.ok(!parsed.instructions.includes('HEALTHCHECK'), 'Kubernetes probes, no HEALTHCHECK');
    });

    it('defaults NODE_IMAGE to the Node of scripts/versions.env (the base npm run images builds locally)', () => {
      const { NODE_VERSION, DEBIAN_SUITE } = versions();
      const nodeImage = parsed.args.NODE_IMAGE?.replace(/@sha256:[a-f0-9]{64}$/, '');
      assert.equal(nodeImage, `node:${NODE_VERSION}-${DEBIAN_SUITE}-slim`, `${image.dockerfile} ARG NODE_IMAGE vs scripts/versions.env NODE_VERSION/DEBIAN_SUITE`);
      for (const stage of parsed.stages) assert.equal(stage.from, parsed.args.NODE_IMAGE, `stage ${stage.name} builds FROM \${NODE_IMAGE}`);
    });

    it('installs with npm ci, builds with npm run build, and ships production dependencies only', () => {
      assert.ok(build, 'a stage runs npm run build');
      const buildCi = build.runs.findIndex((r) => /\bnpm ci\b/.test(r) && !r.includes('--omit=dev'));
      assert.ok(buildCi >= 0 && buildCi < build.runs.findIndex((r) => r.includes('npm run build')), 'npm ci before the build');
      const modules = final.copies.find((c) => c.sources.some((s) => s.endsWith('node_modules')));
      assert.ok(modules?.from, 'node_modules come from another stage');
      const depsStage = parsed.stages.find((s) => s.name === modules.from);
      assert.ok(depsStage?.runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), `stage ${modules.from} runs npm ci --omit=dev`);
      assert.ok(final.copies.some((c) => c.sources.includes('package.json')), 'package.json ("type": "module") in the runtime image');
    });

    it('COPYs only paths that exist and that .dockerignore lets through', () => {
      const patterns = dockerignorePatterns();
      for (const stage of parsed.stages) {
        for (const copy of stage.copies) {
          if (copy.from) continue;
          for (const source of copy.sources) {
            assert.ok(existsSync(join(root, source)), `${image.dockerfile}: COPY ${source}: no such path in the repository`);
            assert.ok(!ignored(source, patterns), `${image.dockerfile}: COPY ${source} is excluded by .dockerignore`);
          }
        }
      }
    });

    it(`copies everything ${image.program}/main.ts imports into the build stage, and the build emits the entrypoint`, () => {
      assert.deepEqual(final.entrypoint, ['node', `dist/${image.program}/main.js`]);
      const entrySource = `${image.program}/main.ts`;
      assert.ok(existsSync(join(root, entrySource)), `${entrySource} does not exist yet: the image would have no entrypoint`);
      assert.ok(build);
      const copied = build.copies.filter((c) => !c.from).flatMap((c) => c.sources);
      for (const file of importClosure(entrySource)) {
        assert.ok(
          copied.some((src) => file === src || file.startsWith(`${src.replace(/\/$/, '')}/`)),
          `${image.dockerfile}: ${file} (imported by ${entrySource}) is not copied into the build stage`,
        );
      }
      const config = parsedTsconfig();
      const entryAbs = join(root, entrySource);
      assert.ok(config.fileNames.includes(entryAbs), `tsconfig.json include does not cover ${entrySource}`);
      const outputs = ts.getOutputFileNames(config, entryAbs, false);
      assert.ok(outputs.includes(join(root, 'dist', image.program, 'main.js')), `npm run build emits ${outputs.join(', ')}`);
      // The runtime stage copies the compiled dirs the entrypoint's closure lives in.
      const shipped = final.copies.filter((c) => c.from === build.name).flatMap((c) => c.sources.map((s) => relative('/src', s)));
      for (const file of importClosure(entrySource)) {
        const out = join('dist', file.replace(/\.ts$/, '.js'));
        assert.ok(shipped.some((dir) => out.startsWith(`${dir}/`)), `${out} is not copied into the runtime image`);
      }
    });

    it(`needs only production dependencies at run time (npm ci --omit=dev is enough)`, () => {
      const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      const runtimeDeps = new Set(Object.keys(pkg.dependencies ?? {}));
      const missing = new Set<string>();
      for (const file of importClosure(`${image.program}/main.ts`)) {
        const source = readFileSync(join(root, file), 'utf8');
        for (const m of source.matchAll(BARE_IMPORT)) {
          const spec = (m[1] ?? m[2])!;
          if (spec.startsWith('node:') || spec.startsWith('.')) continue;
          const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!;
          if (!runtimeDeps.has(name)) missing.add(`${name} (imported by ${file})`);
        }
      }
      assert.deepEqual([...missing], [], 'imported at run time but not in package.json dependencies');
    });

    it(image.root ? 'runs as root, and says why (the CRI socket)' : 'runs as a numeric non-root user', () => {
      const user = final.user ?? '0';
      const uid = Number(user.split(':')[0]);
      assert.ok(Number.isInteger(uid), `USER ${user} is numeric (runAsNonRoot can check it)`);
      if (image.root) {
        assert.equal(uid, 0);
        assert.match(readFileSync(join(root, image.dockerfile), 'utf8'), /root[\s\S]*CRI socket|CRI socket[\s\S]*root/);
      } else {
        assert.ok(uid > 0, 'non-root');
      }
    });
  });
}

describe('.dockerignore', () => {
  it('keeps local state and build output out of the context', () => {
    const patterns = dockerignorePatterns();
    for (const path of ['node_modules', 'dist', 'dist-chart', '.git', 'test']) assert.ok(ignored(path, patterns), path);
    assert.ok(statSync(join(root, '.dockerignore')).isFile());
  });
});
