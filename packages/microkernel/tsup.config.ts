import { fosTsupConfig } from '@fos/tsup-config';

// The worker host is the entry of each core's worker thread: ESM only, next to index.js in dist/. The
// ring is built on its own (ESM only, outside the exports map) for the test that writes into one from
// a second thread: the channel ring is not part of the package's API.
export default fosTsupConfig({ entry: ['src/index.ts'], esmOnly: ['src/worker-host.ts', 'src/ring.ts'] });
