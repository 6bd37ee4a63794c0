import { fosEslintConfig } from '@fos/eslint-config';

// src/real.ts is the one file of library code that touches real time, real scheduling and stderr.
export default fosEslintConfig({ tsconfigRootDir: import.meta.dirname, realTimeFiles: ['src/real.ts'] });
