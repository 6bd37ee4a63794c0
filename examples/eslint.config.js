import { fosEslintConfig } from '@fos/eslint-config';

// Each example's main.ts is a command-line front end: it prints what happened (console).
export default fosEslintConfig({ tsconfigRootDir: import.meta.dirname, realTimeFiles: ['src/*/main.ts'] });
