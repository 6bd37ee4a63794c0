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
import { concatBytes, generateTree, paxMember, readAtOf, tarDirectory } from './testing/images.js';

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

interface BaseImage {
  readonly bytes: Uint8Array;
  /** Offsets of every header of the original image (extended headers included). */
  readonly headers: readonly number[];
}

const encoder = new TextEncoder();

function writeChecksum(image: Uint8Array, at: number): void {
  if (at + tarBlockBytes > image.length) return;
  image.fill(0x20, at + 148, at + 156);
  let sum = 0;
  for (let index = at; index < at + tarBlockBytes; index++) sum += image[index]!;
  image.set(encoder.encode(`${(sum & 0o777777).toString(8).padStart(6, '0')}\0 `), at + 148);
}

/** Garbage for a numeric field of `width` bytes: octal too large, non-octal, base-256 of any sign, spaces. */
function numericGarbage(random: SeededRandom, width: number): Uint8Array {
  const field = new Uint8Array(width);
  switch (random.nextInt(6)) {
    case 0:
      field.set(encoder.encode('7'.repeat(width - 1)));
      break;
    case 1:
      field.set(encoder.encode(`${random.nextInt(1000)}89x`.slice(0, width)));
      break;
    case 2:
      field.fill(0xff); // base-256 -1
      break;
    case 3:
      random.fillBytes(field);
      field[0] = 0x80 | (field[0]! & 0x3f); // base-256, positive, usually huge
      break;
    case 4:
      field.fill(0x20);
      break;
    default:
      random.fillBytes(field);
  }
  return field;
}

const unsafeNames = ['../x', '/abs', '', '.', './', 'a/../../b', 'x'.repeat(100), 'dir/', '日本/../..'];
const paxKeys = ['path', 'linkpath', 'size', 'mtime', 'GNU.sparse.major', 'uid', 'comment'];
const paxValues = ['9000000000', '-1', '1.5.5', '', 'x\0y', '../../etc', '/abs', '123', 'ok/name', '1e9'];

function pick<T>(random: SeededRandom, values: readonly T[]): T {
  return values[random.nextInt(values.length)]!;
}

/** One mutation of `image` (which it may change in place), returning the image mutated. */
function mutate(image: Uint8Array, random: SeededRandom, headers: readonly number[]): Uint8Array {
  const header = pick(random, headers);
  const fix = random.nextInt(5) !== 0;
  const blocks = Math.max(1, Math.floor(image.length / tarBlockBytes));
  const at = (offset: number, bytes: Uint8Array): void => {
    if (header + offset + bytes.length <= image.length) image.set(bytes, header + offset);
    if (fix) writeChecksum(image, header);
  };
  switch (random.nextInt(11)) {
    case 0: // flip bits in a header (or the block after it: a pax record, a long name)
      for (let flips = 1 + random.nextInt(4), n = 0; n < flips; n++) {
        const where = header + random.nextInt(2 * tarBlockBytes);
        if (where < image.length) image[where]! ^= 1 << random.nextInt(8);
      }
      if (fix) writeChecksum(image, header);
      return image;
    case 1: // random bytes anywhere
      for (let count = 1 + random.nextInt(8), n = 0; n < count; n++)
        image[random.nextInt(image.length)] = random.nextInt(256);
      return image;
    case 2: // truncate, on a block boundary or anywhere
      return image.subarray(
        0,
        random.nextInt(2) === 0 ? random.nextInt(blocks) * tarBlockBytes : random.nextInt(image.length),
      );
    case 3: {
      // duplicate blocks over others
      const from = random.nextInt(blocks) * tarBlockBytes;
      const to = random.nextInt(blocks) * tarBlockBytes;
      const length = Math.min((1 + random.nextInt(4)) * tarBlockBytes, image.length - from, image.length - to);
      image.copyWithin(to, from, from + length);
      return image;
    }
    case 4: {
      // splice: insert a copy of some blocks, or delete some
      const from = random.nextInt(blocks) * tarBlockBytes;
      const to = random.nextInt(blocks) * tarBlockBytes;
      const length = (1 + random.nextInt(4)) * tarBlockBytes;
      if (random.nextInt(2) === 0)
        return concatBytes(image.subarray(0, to), image.slice(from, from + length), image.subarray(to));
      return concatBytes(image.subarray(0, to), image.subarray(Math.min(image.length, to + length)));
    }
    case 5: // the size field
      at(124, numericGarbage(random, 12));
      return image;
    case 6: // the type flag
      at(
        156,
        Uint8Array.of(
          random.nextInt(2) === 0 ? random.nextInt(256) : pick(random, [...encoder.encode('0125673SMVxgLK')]),
        ),
      );
      return image;
    case 7: {
      // the name field
      const name = new Uint8Array(100);
      name.set(encoder.encode(pick(random, unsafeNames)).subarray(0, 100));
      at(0, name);
      return image;
    }
    case 8: // the mode or the mtime field, or the magic
      if (random.nextInt(3) === 0)
        at(257, encoder.encode(pick(random, ['ustar\u000000', 'ustar  \0', '\0\0\0\0\0\0\0\0'])));
      else if (random.nextInt(2) === 0) at(100, numericGarbage(random, 8));
      else at(136, numericGarbage(random, 12));
      return image;
    case 9: {
      // a pax header of odd records before a member
      const records: Record<string, string> = {};
      for (let count = 1 + random.nextInt(3), n = 0; n < count; n++)
        records[pick(random, paxKeys)] = pick(random, paxValues);
      const pax = paxMember(records, random.nextInt(4) === 0 ? 'g' : 'x');
      return concatBytes(image.subarray(0, header), pax, image.subarray(header));
    }
    default: // a malformed pax record length
      at(tarBlockBytes, encoder.encode(pick(random, ['99999 ', '0 ', '5 a=b\n', 'x ', '3 =\n'])));
      return image;
  }
}

/** Runs one case; throws (naming nothing: the caller adds the seed) when an invariant breaks. */
async function runCase(seed: number, bases: readonly BaseImage[]): Promise<void> {
  const random = new SeededRandom(seed);
  const base = pick(random, bases);
  let image: Uint8Array = base.bytes.slice();
  for (let count = 1 + random.nextInt(3), n = 0; n < count; n++) image = mutate(image, random, base.headers);
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
