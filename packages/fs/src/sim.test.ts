import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSeeds, tierCount } from '@fos/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { filesOf, generateTree, tarDirectory } from './testing/images.js';
import { fsTestMachine } from './testing/machine.js';

// The oracle under simulation: the image is served from memory (a host read would let real time in),
// every file read through fos equals what node:fs reads from the extracted tree, for every seed.
let work: string;
let imageBytes: Uint8Array;
let extracted: string;
let files: string[];
const expected = new Map<string, Buffer>();

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fos-fs-sim-'));
  const tree = join(work, 'tree');
  // Deep directories, long and non-ASCII names, empty files, files of 0..3 blocks, one of 5 MiB, links.
  generateTree(tree, { seed: 5 });
  const image = join(work, 'tree.tar');
  imageBytes = tarDirectory(tree, image, 'pax');
  extracted = join(work, 'extracted');
  mkdirSync(extracted);
  execFileSync('tar', ['-xf', image, '-C', extracted]);
  files = filesOf(extracted);
  for (const path of files) expected.set(path, readFileSync(join(extracted, path)));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** One seeded run: 2 members, 2 clients reading every file concurrently; what it saw, for replay checks. */
async function run(seed: number): Promise<string> {
  const fos = await fsTestMachine('sim', { image: imageBytes, members: 2 }, { seed, cores: 4 });
  try {
    const clients = await Promise.all([fos.client(2), fos.client(3)]);
    const seen: string[] = [];
    await Promise.all(
      clients.map(async ({ fs }, index) => {
        for (const path of files) {
          const bytes = await fs.readFile(path);
          expect(Buffer.from(bytes).equals(expected.get(path)!), `seed=${seed} ${path}`).toBe(true);
        }
        expect(await fs.readdir('/')).toEqual(readdirSync(extracted).sort());
        seen.push(`${index}:${JSON.stringify(fs.stats().byMember)}`);
      }),
    );
    await Promise.all(clients.map(({ libfos }) => libfos.close()));
    return seen.sort().join(' ');
  } finally {
    await fos.shutdown();
  }
}

describe('the file-system fleet under simulation', () => {
  it('reads every file as node:fs does, for every seed', async () => {
    await runSeeds(async (seed) => void (await run(seed)), {
      seeds: tierCount({ fast: 50, long: 500 }),
      seedStart: 1,
    });
  }, 600_000);

  it('replays a seed exactly: the same members answer the same opens', async () => {
    expect(await run(7)).toBe(await run(7));
  });
});
