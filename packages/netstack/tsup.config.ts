import { fosTsupConfig } from '@fos/tsup-config';

export default fosTsupConfig({ entry: ['src/index.ts'] });
