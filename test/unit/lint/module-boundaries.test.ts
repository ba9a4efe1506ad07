// The module-boundaries lint rule (scripts/eslint/module-boundaries.mjs) on real source text: it must see
// every form of import the code can use, and only real imports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { repoPath } from '../../testbed/repo-root.js';

const { moduleBoundaries } = (await import(pathToFileURL(repoPath('scripts', 'eslint', 'module-boundaries.mjs')).href)) as { moduleBoundaries: import('eslint').Rule.RuleModule };

function violations(file: string, code: string): string[] {
  const linter = new Linter({ cwd: repoPath() });
  const messages = linter.verify(
    code,
    [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser as Linter.Parser }, plugins: { okgsq: { rules: { 'module-boundaries': moduleBoundaries } } }, rules: { 'okgsq/module-boundaries': 'error' } }],
    { filename: repoPath(file) },
  );
  for (const m of messages) if (m.fatal) throw new Error(m.message);
  return messages.map((m) => m.message);
}

test('the pure core may import itself and the pure common files only', () => {
  const file = 'rules/evaluate.ts';
  assert.deepEqual(violations(file, "import { x } from './template.js';\nimport type { Y } from '../common/service-quality.js';"), []);
  for (const spec of ['node:fs', 'pino', '../decider/kube/kube-client.js', '../common/clock.js']) {
    assert.equal(violations(file, `import { x } from '${spec}';`).length, 1, spec);
  }
});

test('every import form counts: multi-line, re-exports, export *, dynamic import', () => {
  const file = 'rules/x.ts';
  assert.equal(violations(file, "import {\n  a,\n  b,\n} from\n  'node:http';").length, 1);
  assert.equal(violations(file, "export { a } from 'node:http';").length, 1);
  assert.equal(violations(file, "export * from 'node:http';").length, 1);
  assert.equal(violations(file, "const m = await import('node:http');").length, 1);
});

test('comments and strings that look like imports are not imports', () => {
  assert.deepEqual(violations('rules/x.ts', "// import x from 'node:fs'\nconst s = \"import y from 'node:http'\";"), []);
});

test('common/ imports neither program nor the core; the agent imports neither the decider nor the core', () => {
  assert.equal(violations('common/probe/x.ts', "import { a } from '../../decider/metrics.js';").length, 1);
  assert.equal(violations('common/probe/x.ts', "import { a } from '../../agent/main.js';").length, 1);
  assert.equal(violations('common/probe/x.ts', "import { a } from '../../rules/evaluate.js';").length, 1);
  assert.equal(violations('agent/report/x.ts', "import { a } from '../../decider/ingest/ports.js';").length, 1);
  assert.equal(violations('agent/report/x.ts', "import { a } from '../../rules/plan.js';").length, 1);
  assert.deepEqual(violations('decider/pipeline/x.ts', "import { a } from '../../rules/evaluate.js';"), []);
  assert.deepEqual(violations('agent/report/x.ts', "import { a } from '../../common/clock.js';"), []);
  assert.deepEqual(violations('decider/kube/x.ts', "import { a } from '../../common/clock.js';\nimport http from 'node:http';"), []);
});
