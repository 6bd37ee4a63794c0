// The correctness oracle over real images: trees with deep directories, long and non-ASCII names,
// empty files, files of 0..3 blocks and one of 5 MiB, links; tarred by the system tar in each format,
// extracted again. Every file read through fos equals what node:fs reads from the extracted tree,
// every directory lists as node:fs lists it, and damaged images fail file by file, naming the entry.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isFosError } from '@fos/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoOf } from './errors.js';
import { fsTestMachine } from './testing/machine.js';
import { generateTree, listTree, tarDirectory, type TarFormat } from './testing/images.js';

let work: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fos-fs-oracle-'));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A generated tree tarred in `format` and extracted again: the image's path and the extracted root. */
function imageOf(format: TarFormat, seed: number): { image: string; extracted: string } {
  const tree = join(work, `${format}-tree`);
  generateTree(tree, { seed, ustarSafe: format === 'ustar' });
  const image = join(work, `${format}.tar`);
  tarDirectory(tree, image, format);
  const extracted = join(work, `${format}-extracted`);
  mkdirSync(extracted);
  execFileSync('tar', ['-xf', image, '-C', extracted]);
  return { image, extracted };
}

describe('every file of real images, as node:fs reads it (local fabric, 2 members)', () => {
  for (const format of ['gnu', 'pax', 'ustar'] as const) {
    it(`${format}`, async () => {
      const { image, extracted } = imageOf(format, 3);
      const listing = listTree(extracted);
      const fos = await fsTestMachine('local', { image, members: 2 });
      try {
        const { fs, libfos } = await fos.client(3);
        let files = 0;
        let bigFiles = 0;
        for (const entry of listing) {
          const onHost = join(extracted, entry.path);
          if (entry.type === 'directory') {
            expect(await fs.readdir(entry.path), entry.path).toEqual(readdirSync(onHost).sort());
          } else if (entry.type === 'file') {
            const bytes = await fs.readFile(entry.path);
            expect(Buffer.from(bytes).equals(readFileSync(onHost)), entry.path).toBe(true);
            expect((await fs.stat(entry.path)).size).toBe(statSync(onHost).size);
            files++;
            if (bytes.length >= 5 * 1024 * 1024) bigFiles++;
          } else {
            expect((await fs.lstat(entry.path)).type, entry.path).toBe('symlink');
          }
        }
        expect(files).toBeGreaterThan(10);
        expect(bigFiles).toBe(1);
        await libfos.close();
      } finally {
        await fos.shutdown();
      }
    }, 120_000);
  }
});

describe('damaged images', () => {
  it('serve the files before the damage and refuse the damaged entry by name, never hanging', async () => {
    const tree = join(work, 'damaged-tree');
    mkdirSync(tree);
    writeFileSync(join(tree, 'a-first.txt'), 'first\n');
    writeFileSync(join(tree, 'b-big.bin'), new Uint8Array(20_000).fill(7));
    const whole = join(work, 'whole.tar');
    execFileSync('tar', ['--sort=name', '-cf', whole, '-C', tree, 'a-first.txt', 'b-big.bin']);
    const bytes = readFileSync(whole);
    // Cut inside the data of b-big.bin: its header is whole, its data runs past the end.
    const truncated = join(work, 'truncated.tar');
    writeFileSync(truncated, bytes.subarray(0, 512 * 3 + 4000));
    const fos = await fsTestMachine('local', { image: truncated, members: 1 });
    try {
      const { fs, libfos } = await fos.client(2);
      expect(new TextDecoder().decode(await fs.readFile('a-first.txt'))).toBe('first\n');
      const refused = await fs.open('b-big.bin').then(
        () => undefined,
        (error: unknown) => error,
      );
      expect(isFosError(refused)).toBe(true);
      expect(errnoOf(refused)).toBe('EIO');
      expect(String(refused)).toContain('b-big.bin');
      await libfos.close();
    } finally {
      await fos.shutdown();
    }
    // A bad header checksum before the second entry: the first still reads.
    const corrupt = new Uint8Array(bytes);
    corrupt[1024 + 148] = 0x37;
    corrupt[1024 + 149] = 0x37;
    const badChecksum = join(work, 'bad-checksum.tar');
    writeFileSync(badChecksum, corrupt);
    const again = await fsTestMachine('local', { image: badChecksum, members: 1 });
    try {
      const { fs, libfos } = await again.client(2);
      expect(new TextDecoder().decode(await fs.readFile('a-first.txt'))).toBe('first\n');
      expect(errnoOf(await fs.open('b-big.bin').catch((error: unknown) => error))).toBeDefined();
      await libfos.close();
    } finally {
      await again.shutdown();
    }
  });
});
