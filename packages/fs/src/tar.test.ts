import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  scanTar,
  tarBlockBytes,
  tarEntriesMax,
  tarPaxHeaderBytesMax,
  type ReadAt,
  type TarEntry,
  type TarScan,
} from './tar.js';
import {
  concatBytes,
  endOfArchive,
  generateTree,
  listTree,
  longNameMember,
  paxMember,
  readAtOf,
  sha256,
  tarDirectory,
  tarHeader,
  tarMember,
  type TarFormat,
} from './testing/images.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fos-tar-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const text = (value: string): Uint8Array => new TextEncoder().encode(value);

async function scanBytes(bytes: Uint8Array): Promise<TarScan> {
  return scanTar(readAtOf(bytes), bytes.length);
}

/** The file entry a hardlink names (as the scan lists it), or the entry itself. */
function fileOf(scan: TarScan, entry: TarEntry): TarEntry {
  if (entry.type !== 'hardlink') return entry;
  const target = scan.entries.find((other) => other.path === entry.linkTarget && other.type === 'file');
  expect(target, `hardlink ${entry.path} -> ${entry.linkTarget}`).toBeDefined();
  return target!;
}

/** Checks that `scan` of `image` lists exactly the tree under `dir`, with each file's bytes in place. */
function expectTree(scan: TarScan, image: Uint8Array, dir: string, format: TarFormat): void {
  expect(scan.problems).toEqual([]);
  const listing = listTree(dir);
  const entries = [...scan.entries].sort((a, b) => (a.path < b.path ? -1 : 1));
  expect(entries.map((entry) => entry.path)).toEqual(listing.map((entry) => entry.path));
  for (const [index, expected] of listing.entries()) {
    const entry = entries[index]!;
    const file = fileOf(scan, entry);
    const type = entry.type === 'hardlink' ? 'file' : entry.type;
    expect({ path: entry.path, type, size: file.size, link: entry.linkTarget, mode: entry.mode }).toEqual({
      path: expected.path,
      type: expected.type,
      size: expected.size,
      link: entry.type === 'hardlink' ? entry.linkTarget : expected.linkTarget,
      mode: expected.mode,
    });
    // pax keeps the nanoseconds; gnu and ustar keep whole seconds.
    if (format === 'pax') expect(Math.abs(file.mtimeMs - expected.mtimeMs)).toBeLessThan(0.01);
    else expect(file.mtimeMs).toBe(Math.floor(expected.mtimeMs / 1000) * 1000);
    if (type === 'file') {
      const bytes = image.subarray(file.dataOffset, file.dataOffset + file.size);
      expect(sha256(bytes), expected.path).toBe(sha256(fs.readFileSync(path.join(dir, expected.path))));
    }
  }
}

describe('scanTar over GNU tar images of a generated tree', () => {
  const full = path.join(root, 'full');
  const safe = path.join(root, 'safe');
  const images = new Map<TarFormat, Uint8Array>();
  beforeAll(() => {
    fs.mkdirSync(full);
    fs.mkdirSync(safe);
    generateTree(full, { seed: 7 });
    generateTree(safe, { seed: 7, ustarSafe: true });
    images.set('gnu', tarDirectory(full, path.join(root, 'full-gnu.tar'), 'gnu'));
    images.set('pax', tarDirectory(full, path.join(root, 'full-pax.tar'), 'pax'));
    images.set('ustar', tarDirectory(safe, path.join(root, 'safe-ustar.tar'), 'ustar'));
  });

  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`lists every path of the tree, with its type, size, link, mode, time and bytes (${format})`, async () => {
      const image = images.get(format)!;
      const scan = await scanBytes(image);
      expectTree(scan, image, format === 'ustar' ? safe : full, format);
      expect(scan.imageBytes).toBe(image.length);
    });
  }

  it('reads headers only: no read touches a file byte, and reads are at most a few blocks', async () => {
    const image = images.get('pax')!;
    const reads: Array<[number, number]> = [];
    const readAt: ReadAt = async (offset, length) => {
      reads.push([offset, length]);
      return image.subarray(offset, offset + length);
    };
    const scan = await scanTar(readAt, image.length);
    for (const entry of scan.entries.filter((one) => one.type === 'file' && one.size > 0))
      for (const [offset, length] of reads)
        expect(offset + length <= entry.dataOffset || offset >= entry.dataOffset + entry.size).toBe(true);
    expect(Math.max(...reads.map(([, length]) => length))).toBeLessThanOrEqual(32 * 1024);
  });

  it('keeps the long names of GNU LongLink and pax path records, and the prefix of ustar', async () => {
    const long = (await scanBytes(images.get('gnu')!)).entries.filter((entry) => entry.path.startsWith('long/'));
    expect(long.map((entry) => entry.type).sort()).toEqual(['directory', 'file', 'hardlink', 'symlink']);
    expect(Math.max(...long.map((entry) => Buffer.byteLength(entry.path)))).toBeGreaterThan(255);
    expect(long.find((entry) => entry.type === 'symlink')?.linkTarget?.length).toBeGreaterThan(255);
    const paxLong = (await scanBytes(images.get('pax')!)).entries.filter((entry) => entry.path.startsWith('long/'));
    expect(paxLong.map(({ path: where, type }) => [where, type])).toEqual(
      long.map(({ path: where, type }) => [where, type]),
    );
    const prefixed = (await scanBytes(images.get('ustar')!)).entries.find((entry) => entry.path.endsWith('q.txt'));
    expect(prefixed?.path).toBe(`prefix/${'p'.repeat(90)}/${'q'.repeat(90)}.txt`);
  });

  it('answers a GNU sparse member (old GNU and pax formats) with ENOTSUP at its path, the rest intact', async () => {
    const dir = path.join(root, 'sparse');
    fs.mkdirSync(dir);
    const handle = fs.openSync(path.join(dir, 'holes.bin'), 'w');
    for (let chunk = 0; chunk < 10; chunk++) fs.writeSync(handle, 'x'.repeat(10), chunk * 100_000);
    fs.closeSync(handle);
    fs.writeFileSync(path.join(dir, 'z-after.txt'), 'after');
    for (const format of ['gnu', 'pax'] as const) {
      const image = new Uint8Array(
        execFileSync('tar', [`--format=${format}`, '--sparse', '--sort=name', '-cf', '-', '-C', dir, '.']),
      );
      const scan = await scanBytes(image);
      expect(scan.entries.map((entry) => entry.path)).toEqual(['z-after.txt']);
      expect(scan.problems).toEqual([
        expect.objectContaining({ entry: './holes.bin', path: 'holes.bin', errno: 'ENOTSUP', fatal: false }),
      ]);
    }
  });
});

describe('scanTar over hand-built images', () => {
  const file = (name: string, data = 'data'): Uint8Array => tarMember({ name }, text(data));

  it('reads a pax size past 8 GiB exactly, and refuses it as truncated over a short image', async () => {
    const size = 9_000_000_000;
    const head = concatBytes(paxMember({ size: String(size) }), tarHeader({ name: 'huge.bin' }));
    // A virtual image as long as the size needs: zeros past the bytes given.
    const imageBytes = head.length + size + 4 * tarBlockBytes;
    const virtual: ReadAt = async (offset, length) => {
      const out = new Uint8Array(Math.max(0, Math.min(length, imageBytes - offset)));
      out.set(head.subarray(Math.min(offset, head.length), Math.min(offset + out.length, head.length)));
      return out;
    };
    const scan = await scanTar(virtual, imageBytes);
    expect(scan.problems).toEqual([]);
    expect(scan.entries).toEqual([expect.objectContaining({ path: 'huge.bin', size, dataOffset: head.length })]);

    const short = concatBytes(file('before.txt'), head, new Uint8Array(4096), endOfArchive());
    const truncated = await scanBytes(short);
    expect(truncated.entries.map((entry) => entry.path)).toEqual(['before.txt']);
    expect(truncated.problems).toEqual([
      expect.objectContaining({ entry: 'huge.bin', path: 'huge.bin', errno: 'EIO', fatal: true, offset: 1024 }),
    ]);
    expect(truncated.problems[0]!.reason).toMatch(/truncated/);
  });

  it('reads base-256 sizes and times, and refuses a negative base-256 size', async () => {
    const sizeField = new Uint8Array(12);
    sizeField[0] = 0x80;
    sizeField[11] = 5;
    const positive = await scanBytes(
      concatBytes(tarMember({ name: 'b256', sizeField }, text('12345')), endOfArchive()),
    );
    expect(positive.entries).toEqual([expect.objectContaining({ path: 'b256', size: 5 })]);
    const negative = new Uint8Array(12).fill(0xff);
    const scan = await scanBytes(
      concatBytes(file('ok'), tarMember({ name: 'neg', sizeField: negative }), file('after'), endOfArchive()),
    );
    expect(scan.entries.map((entry) => entry.path)).toEqual(['ok']);
    expect(scan.problems).toEqual([expect.objectContaining({ entry: 'neg', errno: 'EIO', fatal: true })]);
    expect(scan.problems[0]!.reason).toMatch(/negative/);
  });

  it('stops at a bad checksum with a fatal problem naming the offset, keeping the members before', async () => {
    const image = concatBytes(
      file('a'),
      tarMember({ name: 'b', checksum: 'bad' }, text('b')),
      file('c'),
      endOfArchive(),
    );
    const scan = await scanBytes(image);
    expect(scan.entries.map((entry) => entry.path)).toEqual(['a']);
    expect(scan.problems).toEqual([
      {
        entry: 'at offset 1024',
        offset: 1024,
        errno: 'EIO',
        fatal: true,
        reason: expect.stringMatching(/1024.*checksum/) as unknown,
      },
    ]);
  });

  it('accepts a signed checksum, as GNU tar does', async () => {
    const scan = await scanBytes(concatBytes(tarMember({ name: 'héllo', checksum: 'signed' }), endOfArchive()));
    expect(scan.entries.map((entry) => entry.path)).toEqual(['héllo']);
    expect(scan.problems).toEqual([]);
  });

  it('refuses a size field of garbage, and an extended header past tarPaxHeaderBytesMax, as fatal', async () => {
    const garbage = await scanBytes(
      concatBytes(file('a'), tarMember({ name: 'g', sizeField: text('12x4') }), endOfArchive()),
    );
    expect(garbage.entries.map((entry) => entry.path)).toEqual(['a']);
    expect(garbage.problems).toEqual([expect.objectContaining({ entry: 'g', errno: 'EIO', fatal: true })]);
    const big = tarHeader({ name: 'PaxHeaders/x', type: 'x', size: tarPaxHeaderBytesMax + 1 });
    const scan = await scanBytes(concatBytes(file('a'), big, new Uint8Array(tarPaxHeaderBytesMax + 1024)));
    expect(scan.entries.map((entry) => entry.path)).toEqual(['a']);
    expect(scan.problems).toEqual([expect.objectContaining({ errno: 'EIO', fatal: true, offset: 1024 })]);
  });

  it('answers unsafe names with EINVAL and unsupported types with ENOTSUP, keeping the others', async () => {
    const image = concatBytes(
      file('first'),
      file('/etc/passwd'),
      file('../evil'),
      file('a/../../b'),
      tarMember({ name: 'sparse', type: 'S' }, text('sparse data')),
      tarMember({ name: 'tty', type: '3' }),
      tarMember({ name: 'disk', type: '4' }),
      tarMember({ name: 'fifo', type: '6' }),
      tarMember({ name: 'odd', type: 'Z' }, text('zzz')),
      tarMember({ name: 'dot', type: '0' }),
      file('.'),
      tarMember({ name: './', type: '5' }),
      file('last'),
      endOfArchive(),
    );
    const scan = await scanBytes(image);
    expect(scan.entries.map((entry) => entry.path)).toEqual(['first', 'dot', 'last']);
    const problems = scan.problems.map(({ entry, path: where, errno, fatal }) => ({
      entry,
      path: where,
      errno,
      fatal,
    }));
    expect(problems).toEqual([
      { entry: '/etc/passwd', path: 'etc/passwd', errno: 'EINVAL', fatal: false },
      { entry: '../evil', path: 'evil', errno: 'EINVAL', fatal: false },
      { entry: 'a/../../b', path: 'b', errno: 'EINVAL', fatal: false },
      { entry: 'sparse', path: 'sparse', errno: 'ENOTSUP', fatal: false },
      { entry: 'tty', path: 'tty', errno: 'ENOTSUP', fatal: false },
      { entry: 'disk', path: 'disk', errno: 'ENOTSUP', fatal: false },
      { entry: 'fifo', path: 'fifo', errno: 'ENOTSUP', fatal: false },
      { entry: 'odd', path: 'odd', errno: 'ENOTSUP', fatal: false },
      { entry: '.', path: undefined, errno: 'EINVAL', fatal: false },
    ]);
    for (const problem of scan.problems) {
      expect(Object.keys(problem).sort()).toEqual(
        ['entry', 'errno', 'fatal', 'offset', ...(problem.path === undefined ? [] : ['path']), 'reason'].sort(),
      );
      expect(problem.reason.length).toBeGreaterThan(10);
    }
  });

  it('reads every name and link source: ustar prefix, v7, GNU L and K, pax path and linkpath, normalized', async () => {
    const longName = `${'x'.repeat(150)}/${'y'.repeat(150)}`;
    const image = concatBytes(
      tarMember({ name: 'name.txt', prefix: 'pre/fix' }, text('p')),
      tarMember({ name: './v7//file/', magic: 'v7', type: '\0' }, text('v7')),
      tarMember({ name: 'contiguous', type: '7' }, text('c')),
      longNameMember(longName),
      tarMember({ name: 'truncated-name', magic: 'gnu' }, text('L')),
      longNameMember(`../${longName}`, 'K'),
      tarMember({ name: 'klink', type: '2', magic: 'gnu' }),
      paxMember({ path: 'pax/日本語.txt', mtime: '1234567890.5' }),
      tarMember({ name: 'ignored' }, text('x')),
      paxMember({ linkpath: './pax/日本語.txt' }),
      tarMember({ name: 'hard', type: '1', linkname: 'ignored' }),
      tarMember({ name: 'dir/', type: '5', size: 4096, mode: 0o700 }),
      tarMember({ name: 'dir/in' }, text('in')),
      endOfArchive(),
    );
    const scan = await scanBytes(image);
    expect(scan.problems).toEqual([]);
    const shown = scan.entries.map(({ path: where, type, size, linkTarget }) => [where, type, size, linkTarget]);
    expect(shown).toEqual([
      ['pre/fix/name.txt', 'file', 1, undefined],
      ['v7/file', 'file', 2, undefined],
      ['contiguous', 'file', 1, undefined],
      [longName, 'file', 1, undefined],
      ['klink', 'symlink', 0, `../${longName}`],
      ['pax/日本語.txt', 'file', 1, undefined],
      ['hard', 'hardlink', 0, 'pax/日本語.txt'],
      ['dir', 'directory', 0, undefined],
      ['dir/in', 'file', 2, undefined],
    ]);
    expect(scan.entries[5]!.mtimeMs).toBe(1_234_567_890_500);
    expect(scan.entries[5]!.headerOffset).toBe(scan.entries[4]!.dataOffset);
    expect(scan.entries[7]!.mode).toBe(0o700);
    // The directory's size field (4096) is not data: the member after it is read right after its header.
    expect(scan.entries[8]!.headerOffset).toBe(scan.entries[7]!.dataOffset);
  });

  it('applies pax global headers, and answers a malformed pax header as EIO on its member only', async () => {
    const malformed = tarMember({ name: 'PaxHeaders/bad', type: 'x' }, text('99 path=broken\n'));
    const image = concatBytes(
      paxMember({ mtime: '1000' }, 'g'),
      file('timed'),
      malformed,
      file('victim'),
      file('after'),
      endOfArchive(),
    );
    const scan = await scanBytes(image);
    expect(scan.entries.map((entry) => [entry.path, entry.mtimeMs])).toEqual([
      ['timed', 1_000_000],
      ['after', 1_000_000],
    ]);
    expect(scan.problems).toEqual([
      expect.objectContaining({ entry: 'victim', path: 'victim', errno: 'EIO', fatal: false }),
    ]);
  });

  it('answers a truncated image with a fatal EIO naming the member, earlier members intact', async () => {
    const dir = path.join(root, 'cut');
    fs.mkdirSync(dir);
    generateTree(dir, { seed: 3, bigFileBytes: 100_000 });
    for (const format of ['gnu', 'pax'] as const) {
      const image = tarDirectory(dir, path.join(root, `cut-${format}.tar`), format);
      const whole = await scanBytes(image);
      const big = whole.entries.find((entry) => entry.path === 'big.bin')!;
      const cuts = [
        big.headerOffset + 100, // mid-header
        big.dataOffset + 5000, // mid-data
        big.dataOffset - tarBlockBytes + 1,
        whole.entries[3]!.headerOffset, // exactly on a header boundary: no problem
        big.dataOffset + big.size, // data complete, the padding and the rest gone
        100,
      ];
      for (const cut of cuts) {
        const scan = await scanBytes(image.subarray(0, cut));
        const complete = whole.entries.filter(
          (entry) => entry.dataOffset + (entry.type === 'file' ? entry.size : 0) <= cut,
        );
        expect(scan.entries, `${format} cut at ${cut}`).toEqual(complete);
        const fatal = scan.problems.filter((problem) => problem.fatal);
        expect(scan.problems).toEqual(fatal);
        // An image that ends on a header boundary, or right after a member's data, ends the archive there.
        if (cut === whole.entries[3]!.headerOffset || cut === big.dataOffset + big.size)
          expect(scan.problems).toEqual([]);
        else expect(fatal, `${format} cut at ${cut}`).toEqual([expect.objectContaining({ errno: 'EIO', fatal: true })]);
        if (cut > big.dataOffset && cut < big.dataOffset + big.size)
          expect(fatal[0]).toMatchObject({
            entry: './big.bin',
            path: 'big.bin',
            reason: expect.stringMatching(/truncated/) as unknown,
          });
      }
    }
  });

  it('lists nothing, with no problem, for an empty image, zero blocks, or a single zero block', async () => {
    for (const bytes of [new Uint8Array(0), new Uint8Array(10240), new Uint8Array(512)])
      expect(await scanBytes(bytes)).toEqual({ entries: [], problems: [], imageBytes: bytes.length });
    const noEnd = await scanBytes(file('only'));
    expect([noEnd.entries.length, noEnd.problems]).toEqual([1, []]);
  });

  it('rejects with the error of readAt, unchanged', async () => {
    const failure = new Error('the block device went away');
    await expect(scanTar(() => Promise.reject(failure), 4096)).rejects.toBe(failure);
  });

  it(`stops past tarEntriesMax (${tarEntriesMax}) members with a fatal problem`, async () => {
    // A virtual image of the root's own member ('./', skipped) over and over: members, no entries kept.
    const block = tarHeader({ name: './', type: '5' });
    const scan = await scanTar(async () => block, (tarEntriesMax + 10) * tarBlockBytes);
    expect(scan.entries.length).toBe(0);
    expect(scan.problems).toEqual([
      expect.objectContaining({ errno: 'EIO', fatal: true, offset: tarEntriesMax * tarBlockBytes }),
    ]);
  });
});
