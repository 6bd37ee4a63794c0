import { fosEslintConfig } from '@fos/eslint-config';

// src/cli.ts is the `fos` command: it keeps the process alive and prints; src/demo-machines.ts
// launches `fos start` processes and waits for them in real time, and so does the tests' cli-process.
export default fosEslintConfig({
  tsconfigRootDir: import.meta.dirname,
  realTimeFiles: ['src/cli.ts', 'src/demo-machines.ts', 'src/testing/cli-process.ts'],
});
