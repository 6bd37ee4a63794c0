// The README's example of `@fos/system/testing`, run as it is written there.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const readme = new URL('../../README.md', import.meta.url);
const testingEntry = fileURLToPath(new URL('../testing.ts', import.meta.url));

it('runs the README example of testing on every fabric', async () => {
  const text = await readFile(readme, 'utf8');
  const section = text.slice(text.indexOf('## Testing on every fabric'));
  const example = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
  expect(example).toContain("from '@fos/system/testing'");
  const directory = await mkdtemp(join(tmpdir(), 'fos-readme-'));
  try {
    const file = join(directory, 'example.ts');
    await writeFile(file, example!.replace("'@fos/system/testing'", JSON.stringify(testingEntry)));
    await import(/* @vite-ignore */ file);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
