// The README's example, run as it is written there.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it, vi } from 'vitest';
import { encodeBody } from './codec.js';

const readme = new URL('../README.md', import.meta.url);
const indexEntry = fileURLToPath(new URL('./index.ts', import.meta.url));

afterEach(() => {
  vi.restoreAllMocks();
});

it('runs the README example: a chosen name, a received copy and its encoded size', async () => {
  const text = await readFile(readme, 'utf8');
  const example = /## Example\n\n```ts\n([\s\S]*?)```/.exec(text)?.[1];
  expect(example).toContain("from '@fos/base'");
  const printed: unknown[][] = [];
  vi.spyOn(console, 'log').mockImplementation((...values: unknown[]) => void printed.push(values));
  const directory = await mkdtemp(join(tmpdir(), 'fos-base-readme-'));
  try {
    const file = join(directory, 'example.ts');
    await writeFile(file, example!.replace("'@fos/base'", JSON.stringify(indexEntry)));
    await import(/* @vite-ignore */ file);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
  expect(printed).toHaveLength(1);
  const [copy, encodedBytes] = printed[0] as [{ name: string; sizeBytes: bigint; data: Uint8Array }, number];
  expect(['/sys/fs/1', '/sys/fs/2']).toContain(copy.name);
  expect(copy.sizeBytes).toBe(4096n);
  expect([...copy.data]).toEqual([1, 2, 3]);
  expect(encodedBytes).toBe(encodeBody(copy).length);
});
