import { fosTsupConfig } from '@fos/tsup-config';

// The CLI and the module the demo spawns its processes from are ESM only: `import.meta.url` locates
// the process module beside the CLI, and a process module is loaded with `import()`. The test agent
// (src/internal/agent.ts → dist/internal/agent.js) is a process module too: the portable scenarios
// spawn it on every fabric, worker threads included.
export default fosTsupConfig({ entry: ['src/index.ts'], esmOnly: ['src/cli.ts', 'src/processes.ts', 'src/internal/agent.ts'] });
