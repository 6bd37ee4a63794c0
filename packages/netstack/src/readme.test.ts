// The README's example, run as it is written there (against the built package, as a user gets it).
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it, vi } from 'vitest';

const readme = new URL('../README.md', import.meta.url);
const built = fileURLToPath(new URL('../dist/index.js', import.meta.url));
// Inside the package, so that the example's other imports resolve as they would for a user.
const scratch = new URL('../.vitest/readme-example/', import.meta.url);

afterEach(() => {
  vi.restoreAllMocks();
});

it('runs the README example: an HTTP answer from node:http on fos sockets', async () => {
  const text = await readFile(readme, 'utf8');
  const example = /## Example\n\n```ts\n([\s\S]*?)```/.exec(text)?.[1];
  expect(example).toContain("from '@fos/netstack'");
  const printed: unknown[][] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => void printed.push(values));
  await mkdir(scratch, { recursive: true });
  const file = new URL('example.ts', scratch);
  try {
    await writeFile(file, example!.replace("'@fos/netstack'", JSON.stringify(built)));
    await import(/* @vite-ignore */ fileURLToPath(file));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  expect(printed).toEqual([['hello from fos, 127.0.0.1']]);
});
