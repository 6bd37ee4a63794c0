import { fosEslintConfig } from '@fos/eslint-config';

export default fosEslintConfig({ tsconfigRootDir: import.meta.dirname });
