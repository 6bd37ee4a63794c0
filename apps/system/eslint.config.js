import { fosEslintConfig } from '@fos/eslint-config';

// src/cli.ts is the `fos` command: it keeps the process alive and prints.
export default fosEslintConfig({ tsconfigRootDir: import.meta.dirname, realTimeFiles: ['src/cli.ts'] });
