// Mutated real tar images served by a running fleet (on SimFabric: a seed replays a case exactly):
// the members start whatever the damage, and every open, read, stat and readdir of every path of the
// original tree answers bytes or a FosError with a POSIX code, never a crash or a hang.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isFosError } from '@fos/base';
import { runSeeds, SeededRandom, tierCount } from '@fos/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoOf } from './errors.js';
import { scanTar, tarBlockBytes } from './tar.js';
import { filesOf, generateTree, readAtOf, tarDirectory } from './testing/images.js';
import { fsTestMachine } from './testing/machine.js';
import { mutatedImage, pick, type BaseImage } from './testing/mutations.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fos-fs-live-fuzz-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const bases: BaseImage[] = [];
let paths: string[] = [];

beforeAll(async () => {
  const tree = path.join(root, 'tree');
  generateTree(tree, { seed: 9, bigFileBytes: 0 });
  paths = [...filesOf(tree), 'nope', 'links', ''];
  for (const format of ['gnu', 'pax'] as const) {
    const bytes = tarDirectory(tree, path.join(root, `${format}.tar`), format);
    const scan = await scanTar(readAtOf(bytes), bytes.length);
    const headers = new Set(scan.entries.flatMap((entry) => [entry.headerOffset, entry.dataOffset - tarBlockBytes]));
    bases.push({ bytes, headers: [...headers].sort((a, b) => a - b) });
  }
});

/** Answers bytes (as long as the file says it is) or a FosError with a POSIX code; anything else throws. */
async function answers(call: () => Promise<unknown>): Promise<string> {
  try {
    await call();
    return 'ok';
  } catch (error) {
    if (!isFosError(error) || errnoOf(error) === undefined) throw error;
    return errnoOf(error)!;
  }
}

describe('a running fleet over mutated images', () => {
  it('answers every path of the tree with bytes or a POSIX code, for every seed', async () => {
    const seen = new Set<string>();
    await runSeeds(
      async (seed) => {
        const image = mutatedImage(new SeededRandom(seed), pick(new SeededRandom(seed + 1), bases));
        const fos = await fsTestMachine('sim', { image, members: 1 }, { seed, cores: 3 });
        try {
          const { fs: files, libfos } = await fos.client(2);
          for (const each of paths) {
            seen.add(
              await answers(async () => {
                const bytes = await files.readFile(each);
                const stat = await files.stat(each);
                expect(bytes.length, `seed=${seed} ${each}`).toBe(stat.size);
              }),
            );
            seen.add(await answers(() => files.readdir(each)));
            seen.add(await answers(() => files.lstat(each)));
          }
          expect(files.openFiles).toBe(0);
          await libfos.close();
        } finally {
          await fos.shutdown();
        }
      },
      { seeds: tierCount({ fast: 100, long: 2_000 }), seedStart: 1 },
    );
    // The cases reached both sides: files served, and damage refused.
    expect(seen.has('ok')).toBe(true);
    expect([...seen].some((code) => code === 'EIO' || code === 'ENOENT')).toBe(true);
  }, 300_000);
});
