// The chart's documentation keeps up with its values: every value is in the README's table (itself or
// through a documented parent), the table names no value that does not exist, and every documented key
// carries a `# --` comment in values.yaml.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { chartFiles } from '../../chart/chart-files.js';

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
