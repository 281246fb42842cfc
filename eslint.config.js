// Lint: typescript-eslint's recommended rules, plus two that keep types honest where tsc cannot:
// no `any` (it switches the checker off) and no `!` (it asserts what the code should prove).
import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['node_modules/', 'data/', 'migrations/', 'dist/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-non-null-assertion': 'error',
      // A `let` that a closure reads before its one assignment (serve's stop handler) stays a `let`.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // `_name` marks a value left out on purpose (a destructured key dropped from a copy).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // Log lines and XML escape control characters on purpose: those regexes name them.
    files: ['lib/log/**', 'lib/web/xml.ts'],
    rules: { 'no-control-regex': 'off' },
  },
  {
    // Tests, benchmarks and dev scripts read API JSON, decoded bencode and regex matches whose shape they then
    // assert: a `!` or an `any` that is wrong there throws at once and fails the run, which is what
    // a test wants. In shipped code either one is an unproven claim, so the rules hold there.
    files: ['**/*.test.ts', 'test/**', 'bench/**', 'scripts/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
)
