// Mutations of real GNU tar images (gnu and pax formats of a small generated tree): the parser must
// resolve on each (never throw, never hang, never read past the image), the index must build, and
// every file the index lists must either open within the image or fail with an fs errno.
//
// Each case is one seed; a failure names it as `seed=N`. Replay one case with FUZZ_SEED=N (or
// SIM_SEED=N); SIM_SEEDS and SIM_SEED_START choose another range; FOS_TEST_TIER=long runs ten times more.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SeededRandom, seedsFromEnv, tierCount } from '@fos/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoOf } from './errors.js';
import { ImageIndex } from './image-index.js';
import { scanTar, tarBlockBytes, type ReadAt } from './tar.js';
import { generateTree, readAtOf, tarDirectory } from './testing/images.js';
import { mutatedImage, pick, type BaseImage } from './testing/mutations.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fos-tar-fuzz-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** Cases in the default tier, split over {@link parts} tests so that each stays well inside its timeout. */
const casesDefault = tierCount({ fast: 10_000, long: 100_000 });
const parts = 4;

function fuzzSeeds(): number[] {
  const replay = process.env.FUZZ_SEED?.trim();
  if (replay !== undefined && replay !== '') {
    const seed = Number(replay);
    if (!Number.isSafeInteger(seed)) throw new Error(`FUZZ_SEED must be an integer, got ${JSON.stringify(replay)}`);
    return [seed];
  }
  return seedsFromEnv({ seeds: casesDefault }).seeds;
}

/** Runs one case; throws (naming nothing: the caller adds the seed) when an invariant breaks. */
async function runCase(seed: number, bases: readonly BaseImage[]): Promise<void> {
  const random = new SeededRandom(seed);
  const base = pick(random, bases);
  const image = mutatedImage(random, base);
  const imageBytes = image.length;
  // Every header read is one call, every extended header a few: a bound that only a loop would pass.
  const readsMax = 4 * Math.ceil(imageBytes / tarBlockBytes) + 64;
  let reads = 0;
  const inner = readAtOf(image);
  const readAt: ReadAt = async (offset, length) => {
    if (++reads > readsMax) throw new Error(`runaway scan: more than ${readsMax} reads`);
    if (!(offset >= 0 && length >= 0 && offset + length <= imageBytes))
      throw new Error(`read of ${length} bytes at ${offset} is outside the image of ${imageBytes} bytes`);
    return inner(offset, length);
  };
  const scan = await scanTar(readAt, imageBytes);
  for (const entry of scan.entries) {
    if (entry.dataOffset + entry.size > imageBytes) throw new Error(`entry ${entry.path} runs past the image`);
    if (entry.path.split('/').some((part) => part === '' || part === '.' || part === '..'))
      throw new Error(`entry path ${JSON.stringify(entry.path)} is not normalized`);
  }
  const fatal = scan.problems.filter((problem) => problem.fatal);
  if (fatal.length > 1 || (fatal.length === 1 && scan.problems.at(-1) !== fatal[0]))
    throw new Error('a fatal problem is not the last one');
  const index = ImageIndex.fromScan(scan);
  const expectFsErrorOr = (call: () => void): void => {
    try {
      call();
    } catch (error) {
      if (errnoOf(error) === undefined) throw error;
    }
  };
  for (const file of index.allFiles()) {
    expectFsErrorOr(() => {
      const opened = index.openFile(file);
      if (opened.dataOffset + opened.size > imageBytes) throw new Error(`${file} opens past the end of the image`);
    });
  }
  for (const entry of scan.entries) expectFsErrorOr(() => index.readdir(entry.path, undefined, 4));
  for (const problem of scan.problems) if (problem.path !== undefined) expectFsErrorOr(() => index.stat(problem.path!));
}

describe('scanTar and ImageIndex over mutated images', () => {
  const bases: BaseImage[] = [];
  const seeds = fuzzSeeds();
  beforeAll(async () => {
    const dir = path.join(root, 'tree');
    fs.mkdirSync(dir);
    generateTree(dir, { seed: 5, bigFileBytes: 0 });
    for (const format of ['gnu', 'pax'] as const) {
      const bytes = tarDirectory(dir, path.join(root, `${format}.tar`), format);
      const scan = await scanTar(readAtOf(bytes), bytes.length);
      expect(scan.problems).toEqual([]);
      const headers = new Set(scan.entries.flatMap((entry) => [entry.headerOffset, entry.dataOffset - tarBlockBytes]));
      bases.push({ bytes, headers: [...headers].sort((a, b) => a - b) });
    }
  });

  const chunk = Math.ceil(seeds.length / parts);
  for (let part = 0; part < parts; part++) {
    const mine = seeds.slice(part * chunk, (part + 1) * chunk);
    if (mine.length === 0) continue;
    it(`never throws, hangs or reads past the image: seeds ${mine[0]}..${mine.at(-1)}`, async () => {
      for (const seed of mine) {
        try {
          await runCase(seed, bases);
        } catch (error) {
          const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
          throw new Error(`seed=${seed} (replay: FUZZ_SEED=${seed}): ${message}`);
        }
      }
    });
  }
});
