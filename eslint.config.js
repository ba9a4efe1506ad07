// ESLint (part of `npm run lint` and `npm test`): type-aware rules that catch lost promises, plus the
// project's module boundaries (scripts/eslint/module-boundaries.mjs). Warnings fail the run.
import tseslint from 'typescript-eslint';
import { moduleBoundaries } from './scripts/eslint/module-boundaries.mjs';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'proto/gen/**', '**/*.js', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parser: tseslint.parser,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: {
      '@typescript-eslint': tseslint.plugin,
      okgsq: { rules: { 'module-boundaries': moduleBoundaries } },
    },
    rules: {
      'okgsq/module-boundaries': 'error',
      // node:test's test()/describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/prefer-promise-reject-errors': 'error',
      '@typescript-eslint/only-throw-error': 'error',
    },
  },
  {
    // One way to hide a member in product code: TypeScript's `private` (the majority's), not `#private`.
    files: ['agent/**/*.ts', 'decider/**/*.ts', 'cli/**/*.ts', 'common/**/*.ts', 'bench/**/*.ts'],
    rules: {
      'no-restricted-syntax': ['error', { selector: 'PrivateIdentifier', message: "Use TypeScript's `private`, not `#private` (one convention in product code)." }],
    },
  },
);
