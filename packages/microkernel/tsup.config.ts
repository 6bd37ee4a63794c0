import { fosTsupConfig } from '@fos/tsup-config';

// The worker host is the entry of each core's worker thread: ESM only, next to index.js in dist/.
export default fosTsupConfig({ entry: ['src/index.ts', 'src/testing.ts'], esmOnly: ['src/worker-host.ts'] });
