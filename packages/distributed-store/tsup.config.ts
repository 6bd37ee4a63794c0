import { fosTsupConfig } from '@fos/tsup-config';

// The sweep (`pnpm sim`) is a program, built ESM only beside the library.
export default fosTsupConfig({ entry: ['src/index.ts'], esmOnly: ['src/sweep.ts'] });
