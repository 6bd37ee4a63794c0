import { fosEslintConfig } from '@fos/eslint-config';

// Real time and the console where the host is: the host's TCP (wire.ts), netif's log lines
// (host-log.ts), and the tests' host-side clients.
export default fosEslintConfig({
  tsconfigRootDir: import.meta.dirname,
  realTimeFiles: ['src/wire.ts', 'src/host-log.ts', 'src/testing/clients.ts'],
});
