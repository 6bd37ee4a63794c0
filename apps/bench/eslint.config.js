import { fosEslintConfig } from '@fos/eslint-config';

// A benchmark measures real time by nature: the whole app may use it.
export default fosEslintConfig({ tsconfigRootDir: import.meta.dirname, realTimeFiles: ['src/**'] });
