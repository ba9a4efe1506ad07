// Enforces the module boundaries the design depends on (see README "Layout"):
//  - decider/rules/ is pure: it imports only other pure modules (decider/rules, a few common files);
//  - common/ never imports agent/ or decider/;  - agent/ never imports decider/.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Files under common/ that the pure core may use: they do no I/O either. */
const PURE_COMMON = new Set([
  'common/service-quality.ts',
  'common/okg-defaults.ts',
  'common/probe-result.ts',
  'common/outcome.ts',
  'common/thresholds.ts',
  'common/probe/types.ts', // types only
]);

function* tsFiles(dir) {
  let entries;
  try { entries = readdirSync(join(root, dir)); } catch { return; }
  for (const name of entries) {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) yield* tsFiles(path);
    else if (name.endsWith('.ts')) yield path;
  }
}

const problems = [];
for (const top of ['common', 'agent', 'decider', 'cli']) {
  for (const file of tsFiles(top)) {
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2];
      const target = spec.startsWith('.') ? relative(root, resolve(root, dirname(file), spec)).replace(/\.js$/, '.ts') : spec;
      if (file.startsWith('decider/rules/')) {
        const ok = target.startsWith('decider/rules/') || PURE_COMMON.has(target);
        if (!ok) problems.push(`${file}: the pure core may not import '${spec}'`);
      }
      if (file.startsWith('common/') && /^(agent|decider|cli)\//.test(target)) problems.push(`${file}: common/ may not import '${spec}'`);
      if (file.startsWith('agent/') && /^(decider|cli)\//.test(target)) problems.push(`${file}: the agent may not import '${spec}'`);
    }
  }
}
if (problems.length > 0) {
  console.error(`check-boundaries: ${problems.length} violation(s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('check-boundaries: ok');
