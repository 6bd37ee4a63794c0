// Shared flat config: typescript-eslint's type-aware recommended rules plus the house rules: no
// ambient time, scheduling, randomness or console output in library code (they come from the host,
// so that a simulation replays a run: docs/rules.md, "Determinism"), and the size limits of
// docs/rules.md, "Code conventions" (files up to 600 lines, functions up to 70).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Library code that reaches for real time, real scheduling, real chance or the console. */
const ambientProperties = [
  { object: 'Math', property: 'random', message: 'Take randomness from the injected RandomSource.' },
  { object: 'Date', property: 'now', message: 'Take time from the injected Clock.' },
  { object: 'performance', property: 'now', message: 'Take time from the injected Clock.' },
];
const ambientGlobals = ['setTimeout', 'setInterval', 'setImmediate'].map((name) => ({
  name,
  message: `Take timers from the injected Clock (or a turn from @fos/base's nextTurn), not ${name}.`,
}));
const ambientSyntax = [
  {
    selector: "NewExpression[callee.name='Date'][arguments.length=0]",
    message: 'Take time from the injected Clock, not new Date().',
  },
];

/**
 * @param {{ tsconfigRootDir: string, realTimeFiles?: string[] }} options
 *   realTimeFiles: globs of the files that may use real time, scheduling and the console (the real
 *   clock's own file, command-line front ends, benchmarks); tests always may.
 */
export function fosEslintConfig({ tsconfigRootDir, realTimeFiles = [] }) {
  return tseslint.config(
    { ignores: ['dist/**', 'coverage/**', '.vitest/**', '*.config.*', 'results/**'] },
    js.configs.recommended,
    ...tseslint.configs.recommendedTypeChecked,
    {
      languageOptions: {
        parserOptions: { projectService: true, tsconfigRootDir },
      },
      rules: {
        '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
        '@typescript-eslint/consistent-type-imports': 'error',
        '@typescript-eslint/no-floating-promises': 'error',
        '@typescript-eslint/require-await': 'off',
        'no-restricted-properties': ['error', ...ambientProperties],
        'no-restricted-globals': ['error', ...ambientGlobals],
        'no-restricted-syntax': ['error', ...ambientSyntax],
        'no-console': 'error',
        'max-lines': ['error', { max: 600 }],
        'max-lines-per-function': ['error', { max: 70 }],
      },
    },
    // Plain JavaScript (process modules a worker thread loads as they are) is outside the TypeScript project.
    { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
    // Generated code is as long as its interface file makes it.
    { files: ['**/generated/**'], rules: { 'max-lines': 'off', 'max-lines-per-function': 'off' } },
    // Real time where it belongs: the files a package names, and tests, fixtures and scripts, which run
    // on the real machine by nature. Randomness stays injected everywhere.
    {
      files: [...realTimeFiles, '**/*.test.ts', '**/fixtures/**', '**/*.mjs'],
      rules: {
        'no-restricted-properties': ['error', ambientProperties[0]],
        'no-restricted-globals': 'off',
        'no-restricted-syntax': 'off',
        'no-console': 'off',
      },
    },
    {
      files: ['**/*.test.ts'],
      rules: {
        '@typescript-eslint/no-non-null-assertion': 'off',
        '@typescript-eslint/unbound-method': 'off',
        // A test file is a list of cases under one describe: its length is its coverage.
        'max-lines': 'off',
        'max-lines-per-function': 'off',
      },
    },
  );
}
