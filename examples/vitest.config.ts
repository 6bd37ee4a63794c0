import { fosVitestConfig } from '@fos/vitest-config';

// Each test boots instances (worker threads among them) or runs a built example as a child process:
// seconds, more on a busy machine. The timeout bounds a hang only.
export default fosVitestConfig({ testTimeout: 120_000 });
