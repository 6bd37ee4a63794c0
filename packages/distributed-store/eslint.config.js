import { fosEslintConfig } from '@fos/eslint-config';

// src/sweep.ts is a command (the long seed sweep): it times itself and prints.
export default fosEslintConfig({ tsconfigRootDir: import.meta.dirname, realTimeFiles: ['src/sweep.ts'] });
