import { fosTsupConfig } from '@fos/tsup-config';

// `./testing` (checker, simulation, planted bugs) is a library entry of its own; the sweep (`pnpm sim`)
// is a program, built ESM only beside them.
export default fosTsupConfig({ entry: ['src/index.ts', 'src/testing.ts'], esmOnly: ['src/sweep.ts'] });
