// The chart's documentation keeps up with its values: every value is in the README's table (itself or
// through a documented parent), the table names no value that does not exist, and every documented key
// carries a `# --` comment in values.yaml.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { chartFiles, repoRoot } from '../../chart/chart-files.js';

const valuesText = readFileSync(join(chartFiles.chartDir(), 'values.yaml'), 'utf8');
const values = parseYaml(valuesText) as Record<string, unknown>;
const readme = readFileSync(join(chartFiles.chartDir(), 'README.md'), 'utf8');
/** The keys of the table under "## Values". */
const valuesSection = readme.split(/^## Values$/m)[1]?.split(/^## /m)[0] ?? '';
const documented = [...valuesSection.matchAll(/^\| `([A-Za-z0-9_.]+)` \|/gm)].map((m) => m[1]!);

function leaves(value: unknown, path: string[] = []): string[] {
  if (value && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length > 0) {
    return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => leaves(v, [...path, k]));
  }
  return [path.join('.')];
}

function has(path: string): boolean {
  let v: unknown = values;
  for (const k of path.split('.')) {
    if (!v || typeof v !== 'object' || !(k in v)) return false;
    v = (v as Record<string, unknown>)[k];
  }
  return true;
}

/** Keys preceded by a `# --` comment block in values.yaml, as dotted paths. */
function commentedKeys(): Set<string> {
  const out = new Set<string>();
  const stack: { indent: number; key: string }[] = [];
  let pending = false;
  for (const line of valuesText.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    if (trimmed.startsWith('# --')) {
      pending = true;
      continue;
    }
    if (trimmed.startsWith('#')) continue;
    const m = /^(\s*)([A-Za-z0-9_]+):/.exec(line);
    if (!m) continue;
    const indent = m[1]!.length;
    while (stack.length > 0 && stack[stack.length - 1]!.indent >= indent) stack.pop();
    const path = [...stack.map((s) => s.key), m[2]!].join('.');
    if (pending) out.add(path);
    pending = false;
    stack.push({ indent, key: m[2]! });
  }
  return out;
}

describe('chart README and values.yaml comments', () => {
  it('document every value', () => {
    assert.ok(documented.length > 50, `the README has a Values table (${documented.length} rows)`);
    const undocumented = leaves(values).filter((leaf) => !documented.some((d) => leaf === d || leaf.startsWith(`${d}.`)));
    assert.deepEqual(undocumented, []);
  });

  it('document no value that does not exist', () => {
    assert.deepEqual(documented.filter((d) => !has(d)), []);
  });

  it('comment every documented value in values.yaml', () => {
    const commented = commentedKeys();
    assert.deepEqual(documented.filter((d) => !commented.has(d)), []);
  });
});

/** Where an operator reads metric and variable names. */
const DOCS = ['README.md', 'docs/operations.md', 'docs/security.md', 'charts/okg-sq/README.md', 'charts/okg-sq/values.yaml', 'charts/okg-sq/templates/NOTES.txt', 'charts/okg-sq/rules/okg-sq-alerts.yaml'];
const source = (file: string): string => readFileSync(join(repoRoot(), file), 'utf8');

describe('names in the docs', () => {
  it('every okgsq_ metric they name is one the decider or the agent exports', () => {
    const exported = new Set(['decider/metrics.ts', 'agent/metrics.ts'].flatMap((f) => [...source(f).matchAll(/\bname(?::| =) '(okgsq_\w+)'/g)].map((m) => m[1]!)));
    const unknown = DOCS.flatMap((doc) =>
      [...source(doc).matchAll(/\bokgsq_[a-z_]*[a-z]\b/g)]
        .map((m) => m[0])
        .filter((name) => !exported.has(name) && !exported.has(name.replace(/_(bucket|sum|count)$/, '')) && name !== 'okgsq_agent')
        .map((name) => `${doc}: ${name}`),
    );
    assert.deepEqual([...new Set(unknown)], []);
  });

  it('every OKGSQ_ variable they name is one a program reads', () => {
    const readers = ['decider/options.ts', 'agent/options.ts', 'cli/local.ts'].map(source).join('\n');
    const unread = DOCS.flatMap((doc) => [...source(doc).matchAll(/\bOKGSQ_[A-Z_]*[A-Z]\b/g)].map((m) => m[0]).filter((v) => !readers.includes(`'${v}'`) && !readers.includes(`.${v}`)).map((v) => `${doc}: ${v}`));
    assert.deepEqual([...new Set(unread)], []);
  });
});
