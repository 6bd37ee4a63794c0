import { fosTsupConfig } from '@fos/tsup-config';

// The harness is a library (ESM + CJS + .d.ts) other packages' benchmarks can use; the command and the
// process module the messaging benchmark spawns on worker cores and the memory benchmark's child are ESM only.
export default fosTsupConfig({
  entry: ['src/index.ts'],
  esmOnly: ['src/cli.ts', 'src/worker-processes.ts', 'src/memory-child.ts'],
});
