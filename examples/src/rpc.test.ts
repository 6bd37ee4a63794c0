// Runs the rpc example (rpc/main.ts) as its README says and checks what it prints, and that the
// committed stubs are what fos-rpcgen makes from the interface file.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { runBuiltExample } from './built.js';

it('calls the key-value service by name through the generated client', async () => {
  expect(await runBuiltExample('rpc')).toEqual([
    'rpc: the key-value service on core 1 registered /demo/kv',
    "rpc: put('colour', 'blue') → null",
    "rpc: put('colour', 'green') → \"blue\"",
    "rpc: put('size', 'large') → null",
    'rpc: get(\'colour\') → "green"',
    'rpc: list() → [{"key":"colour","value":"green"},{"key":"size","value":"large"}]',
    "rpc: get('weight') → NO_SUCH_NAME (a FosError)",
    'rpc: get(42), by hand → BAD_REQUEST (a FosError)',
  ]);
});

it('has stubs that match the interface file (what `pnpm check-generated` checks)', async () => {
  const cli = fileURLToPath(new URL('../node_modules/@fos/rpc-gen/dist/cli.js', import.meta.url));
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [cli, 'src/rpc/kv-api.ts', '--out', 'src/rpc/generated', '--check'],
    { cwd: fileURLToPath(new URL('..', import.meta.url)) },
  );
  expect(stdout).not.toMatch(/missing|stale/);
});
