import { fosTsupConfig } from '@fos/tsup-config';

// The CLI and the modules processes are spawned from are ESM only: `import.meta.url` locates a
// process module beside the module that spawns it, and a process module is loaded with `import()`.
// The agent (src/testing/agent.ts → dist/testing/agent.js) is the process module of the
// `@fos/system/testing` entry: tests spawn it on every fabric, worker threads included.
export default fosTsupConfig({
  entry: ['src/index.ts', 'src/testing.ts'],
  esmOnly: ['src/cli.ts', 'src/processes.ts', 'src/testing/agent.ts'],
});
