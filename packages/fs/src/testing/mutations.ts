// Mutations of real tar images, for the fuzz tests of the parser (tar-fuzz.test.ts) and of a running
// fleet (live-fuzz.test.ts): flipped bits, garbage in numeric fields, unsafe names, odd pax records,
// truncations and spliced blocks, each chosen by a seeded random source so that a seed replays a case.
import type { SeededRandom } from '@fos/sim';
import { tarBlockBytes } from '../tar.js';
import { concatBytes, paxMember } from './images.js';

/** A real image and the offsets of its headers (where mutations aim). */
export interface BaseImage {
  readonly bytes: Uint8Array;
  /** Offsets of every header of the original image (extended headers included). */
  readonly headers: readonly number[];
}

/** `base` mutated 1 to 3 times, as case `random` says (a fresh copy; the base is left as it was). */
export function mutatedImage(random: SeededRandom, base: BaseImage): Uint8Array {
  let image: Uint8Array = base.bytes.slice();
  for (let count = 1 + random.nextInt(3), n = 0; n < count; n++) image = mutate(image, random, base.headers);
  return image;
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

export function pick<T>(random: SeededRandom, values: readonly T[]): T {
  return values[random.nextInt(values.length)]!;
}

/** One mutation of `image` (which it may change in place), returning the image mutated. */
function mutate(image: Uint8Array, random: SeededRandom, headers: readonly number[]): Uint8Array {
  const header = pick(random, headers);
  const fix = random.nextInt(5) !== 0;
  const blocks = Math.max(1, Math.floor(image.length / tarBlockBytes));
  const kind = random.nextInt(11);
  if (kind >= 5) return mutateField(image, random, header, fix, kind);
  switch (kind) {
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
    default: {
      // splice: insert a copy of some blocks, or delete some
      const from = random.nextInt(blocks) * tarBlockBytes;
      const to = random.nextInt(blocks) * tarBlockBytes;
      const length = (1 + random.nextInt(4)) * tarBlockBytes;
      if (random.nextInt(2) === 0)
        return concatBytes(image.subarray(0, to), image.slice(from, from + length), image.subarray(to));
      return concatBytes(image.subarray(0, to), image.subarray(Math.min(image.length, to + length)));
    }
  }
}

/** A mutation of one field of the header at `header` (kinds 5..10 of {@link mutate}). */
function mutateField(image: Uint8Array, random: SeededRandom, header: number, fix: boolean, kind: number): Uint8Array {
  const at = (offset: number, bytes: Uint8Array): void => {
    if (header + offset + bytes.length <= image.length) image.set(bytes, header + offset);
    if (fix) writeChecksum(image, header);
  };
  switch (kind) {
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
