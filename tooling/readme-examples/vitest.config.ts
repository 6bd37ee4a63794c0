import { fosVitestConfig } from '@fos/vitest-config';

// Type-checking every README's examples is one TypeScript program: seconds, more on a busy machine.
export default fosVitestConfig({ testTimeout: 180_000 });
