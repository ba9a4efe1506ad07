// An ESLint rule for the module boundaries the design depends on (README "Layout", docs/design.md §3):
//  - rules/ is pure: it imports only rules/ and the few common/ files that do no I/O;
//  - common/ imports neither program, the CLI nor the core;  - agent/ never imports decider/, cli/ or rules/.
// It reads real import/export declarations and dynamic imports from the AST, so comments, strings and
// multi-line imports cannot fool it.
import { dirname, relative, resolve } from 'node:path';

/** Files under common/ that the pure core may use: they do no I/O either. */
export const PURE_COMMON = new Set([
  'common/service-quality.ts',
  'common/okg-defaults.ts',
  'common/probe-result.ts',
  'common/outcome.ts',
  'common/thresholds.ts',
  'common/probe/types.ts', // types only
]);

/** The repository-relative .ts path an import resolves to, or the bare specifier for packages. */
function target(root, file, spec) {
  if (!spec.startsWith('.')) return spec;
  return relative(root, resolve(dirname(file), spec)).replace(/\.js$/, '.ts');
}

/** Why `from` may not import `to`, or undefined when it may. Both repository-relative. */
export function boundaryViolation(from, to) {
  if (from.startsWith('rules/') && !(to.startsWith('rules/') || PURE_COMMON.has(to))) return 'the pure core (rules/) may import only itself and pure common/ files';
  if (from.startsWith('common/') && /^(agent|decider|cli|rules)\//.test(to)) return 'common/ may not import either program, the CLI or the core';
  if (from.startsWith('agent/') && /^(decider|cli|rules)\//.test(to)) return 'the agent may not import the decider, the CLI or the core';
  return undefined;
}

export const moduleBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'Enforce okg-sq module boundaries (pure core, common/, agent/).' },
    schema: [],
    messages: { crossed: "'{{spec}}': {{why}}" },
  },
  create(context) {
    const root = context.cwd;
    const from = relative(root, context.filename);
    const check = (node, source) => {
      if (!source || typeof source.value !== 'string') return;
      const why = boundaryViolation(from, target(root, context.filename, source.value));
      if (why) context.report({ node, messageId: 'crossed', data: { spec: source.value, why } });
    };
    return {
      ImportDeclaration: (node) => check(node, node.source),
      ExportNamedDeclaration: (node) => check(node, node.source),
      ExportAllDeclaration: (node) => check(node, node.source),
      ImportExpression: (node) => check(node, node.source.type === 'Literal' ? node.source : undefined),
    };
  },
};
