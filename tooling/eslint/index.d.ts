import type { Linter } from 'eslint';
export function fosEslintConfig(options: { tsconfigRootDir: string }): Linter.Config[];
