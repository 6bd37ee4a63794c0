// Shared flat config: typescript-eslint's type-aware recommended rules plus the house rules that
// keep the determinism promise of DESIGN section 8 (no ambient time or randomness in protocol code).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** @param {{ tsconfigRootDir: string }} options */
export function fosEslintConfig({ tsconfigRootDir }) {
  return tseslint.config(
    { ignores: ['dist/**', 'coverage/**', '*.config.*', 'results/**'] },
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
        'no-restricted-properties': [
          'error',
          { object: 'Math', property: 'random', message: 'Take randomness from the injected RandomSource (DESIGN section 8).' },
          { object: 'Date', property: 'now', message: 'Take time from the injected Clock (DESIGN section 8).' },
        ],
      },
    },
    // Plain JavaScript (process modules a worker thread loads as they are) is outside the TypeScript project.
    { files: ['**/*.mjs'], ...tseslint.configs.disableTypeChecked },
    {
      files: ['**/*.test.ts'],
      rules: {
        '@typescript-eslint/no-non-null-assertion': 'off',
        '@typescript-eslint/unbound-method': 'off',
      },
    },
  );
}
