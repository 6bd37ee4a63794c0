import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errnoOf } from './errors.js';
import { ImageIndex, type FsStat } from './image-index.js';
import { fsPathBytesMax, fsSymlinkHopsMax } from './limits.js';
import { scanTar, type TarEntry, type TarProblem, type TarScan } from './tar.js';
import {
  concatBytes,
  endOfArchive,
  generateTree,
  listTree,
  makeTree,
  readAtOf,
  sha256,
  tarDirectory,
  tarMember,
  type TreeSpec,
} from './testing/images.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'fos-index-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** The errno a call throws with (its FosError's `details.errno`), or 'ok'. */
function errnoOfCall(call: () => unknown): string {
  try {
    call();
    return 'ok';
  } catch (error) {
    return errnoOf(error) ?? `not an fs error: ${String(error)}`;
  }
}

/** The message a call throws with. */
function messageOfCall(call: () => unknown): string {
  try {
    call();
  } catch (error) {
    return (error as Error).message;
  }
  return 'did not throw';
}

/** The code node:fs answers with, or 'ok'. */
function codeOfNode(call: () => unknown): string {
  try {
    call();
    return 'ok';
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? String(error);
  }
}

async function indexOfBytes(bytes: Uint8Array): Promise<{ index: ImageIndex; scan: TarScan }> {
  const scan = await scanTar(readAtOf(bytes), bytes.length);
  return { index: ImageIndex.fromScan(scan), scan };
}

/** Makes `spec` in a fresh directory, tars it (GNU format) and indexes the image. */
async function indexOfTree(
  name: string,
  spec: TreeSpec,
): Promise<{ index: ImageIndex; image: Uint8Array; dir: string }> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  makeTree(dir, spec);
  const image = tarDirectory(dir, path.join(root, `${name}.tar`), 'gnu');
  return { ...(await indexOfBytes(image)), image, dir };
}

/** A scan made of `entries` by hand (defaults filled in). */
function scanOf(entries: ReadonlyArray<Partial<TarEntry> & { path: string }>, problems: TarProblem[] = []): TarScan {
  const full = entries.map((entry, at) => ({
    type: 'file' as const,
    size: 0,
    dataOffset: 512 * (2 * at + 1),
    mode: 0o644,
    mtimeMs: 1000,
    headerOffset: 512 * 2 * at,
    ...entry,
  }));
  return { entries: full, problems, imageBytes: 1 << 20 };
}

describe('ImageIndex over a generated tree, against node:fs on the tree GNU tar extracts', () => {
  const source = path.join(root, 'source');
  const extracted = path.join(root, 'extracted');
  let index: ImageIndex;
  let image: Uint8Array;
  beforeAll(async () => {
    fs.mkdirSync(source);
    fs.mkdirSync(extracted);
    generateTree(source, { seed: 11, bigFileBytes: 300_000 });
    image = tarDirectory(source, path.join(root, 'source.tar'), 'pax');
    execFileSync('tar', ['-xf', path.join(root, 'source.tar'), '-C', extracted]);
    ({ index } = await indexOfBytes(image));
  });

  /** Every path of the tree, and paths through symlinks, '..', trailing slashes and missing names. */
  function probes(): string[] {
    const listed = listTree(extracted).map((entry) => entry.path);
    return [
      ...listed,
      ...listed.map((one) => `/${one}/`),
      '',
      '/',
      '.',
      'links/to-dir/d02',
      'links/to-dir/d02/../near-top.txt',
      'links/to-dir/../d01/near-top.txt',
      'deep/./d01/../d01//near-top.txt',
      'links/chain',
      'links/dangling',
      'links/dangling/x',
      'links/to-file/x',
      'sizes/f-1.bin/x',
      'sizes/f-1.bin/..',
      'nope',
      'deep/nope/x',
      'deep/../sizes',
    ];
  }

  function expectSameStat(ours: FsStat, theirs: fs.Stats, where: string): void {
    const type = theirs.isDirectory() ? 'directory' : theirs.isSymbolicLink() ? 'symlink' : 'file';
    expect({ type: ours.type, mode: ours.mode }, where).toEqual({ type, mode: theirs.mode & 0o7777 });
    if (type !== 'directory') expect(ours.size, where).toBe(theirs.size);
    // The root's own member ('./') is not an entry: the root is an implicit directory (time 0).
    if (type !== 'symlink' && ours.path !== '')
      expect(Math.abs(ours.mtimeMs - theirs.mtimeMs), where).toBeLessThan(0.01);
  }

  it('stat and lstat agree with node:fs on every path', () => {
    for (const probe of probes()) {
      const onDisk = `${extracted}/${probe}`; // not path.join, which would apply '..' before the symlinks
      for (const [ours, theirs] of [
        [() => index.stat(probe), () => fs.statSync(onDisk)],
        [() => index.lstat(probe), () => fs.lstatSync(onDisk)],
      ] as const) {
        expect(errnoOfCall(ours), probe).toBe(codeOfNode(theirs));
        if (codeOfNode(theirs) === 'ok') expectSameStat(ours(), theirs(), probe);
      }
    }
  });

  it('resolve names the path reached, as realpath does', () => {
    for (const probe of probes()) {
      const theirs = codeOfNode(() => fs.realpathSync.native(`${extracted}/${probe}`));
      expect(
        errnoOfCall(() => index.resolve(probe)),
        probe,
      ).toBe(theirs);
      if (theirs !== 'ok') continue;
      const base = fs.realpathSync(extracted);
      const real = path
        .relative(base, fs.realpathSync.native(`${extracted}/${probe}`))
        .split(path.sep)
        .join('/');
      expect(index.resolve(probe).path, probe).toBe(real);
    }
    expect(index.resolve('links/to-file', { followLast: false })).toMatchObject({ path: 'links/to-file' });
    // '..' never goes above the root.
    expect(index.resolve('../../sizes/f-1.bin')).toEqual(index.resolve('sizes/f-1.bin'));
  });

  it('readdir agrees with node:fs (sorted by code units), in pages', () => {
    for (const probe of probes()) {
      const onDisk = `${extracted}/${probe}`; // not path.join, which would apply '..' before the symlinks
      expect(
        errnoOfCall(() => index.readdir(probe)),
        probe,
      ).toBe(codeOfNode(() => fs.readdirSync(onDisk)));
      if (codeOfNode(() => fs.readdirSync(onDisk)) !== 'ok') continue;
      const expected = fs.readdirSync(onDisk).sort();
      expect(index.readdir(probe)).toEqual({ names: expected, done: true });
      const paged: string[] = [];
      for (let after: string | undefined, page = 0; page <= expected.length; page++) {
        const answer = index.readdir(probe, after, 2);
        paged.push(...answer.names);
        if (answer.done) break;
        after = answer.names.at(-1);
      }
      expect(paged, probe).toEqual(expected);
    }
  });

  it('openFile finds every file byte for byte, EISDIR for a directory, ENOENT for a dangling link', () => {
    for (const probe of probes()) {
      const onDisk = `${extracted}/${probe}`; // not path.join, which would apply '..' before the symlinks
      expect(
        errnoOfCall(() => index.openFile(probe)),
        probe,
      ).toBe(codeOfNode(() => fs.readFileSync(onDisk)));
      if (codeOfNode(() => fs.readFileSync(onDisk)) !== 'ok') continue;
      const file = index.openFile(probe);
      const bytes = image.subarray(file.dataOffset, file.dataOffset + file.size);
      expect(sha256(bytes), probe).toBe(sha256(fs.readFileSync(onDisk)));
    }
  });

  it('counts files and directories, and lists every file', () => {
    const listing = listTree(extracted);
    const files = listing.filter((entry) => entry.type === 'file').map((entry) => entry.path);
    expect([...index.allFiles()]).toEqual(files);
    expect(index.files).toBe(files.length);
    expect(index.directories).toBe(listing.filter((entry) => entry.type === 'directory').length);
    expect(index.problems).toEqual([]);
  });
});

describe('ImageIndex: resolution limits and errors', () => {
  it('answers ELOOP for a symlink cycle, and for a directory cycle walked past the hop limit, never hanging', async () => {
    const { index, dir } = await indexOfTree('loops', {
      'cycle/a': { symlink: 'b' },
      'cycle/b': { symlink: 'a' },
      'cycle/self': { symlink: 'self' },
      'd/file.txt': 'in d',
      'd/loop': { symlink: '.' },
      'd/up': { symlink: '..' },
    });
    for (const probe of ['cycle/a', 'cycle/b', 'cycle/self', 'cycle/a/x']) {
      expect(
        errnoOfCall(() => index.stat(probe)),
        probe,
      ).toBe('ELOOP');
      expect(codeOfNode(() => fs.statSync(path.join(dir, probe)))).toBe('ELOOP');
    }
    expect(errnoOfCall(() => index.lstat('cycle/a'))).toBe('ok');
    for (const hops of [1, 10, fsSymlinkHopsMax, fsSymlinkHopsMax + 1, 1000]) {
      for (const walk of [`d/${'loop/'.repeat(hops)}file.txt`, `d/${'up/d/'.repeat(hops)}file.txt`]) {
        const expected = hops <= fsSymlinkHopsMax ? 'ok' : 'ELOOP';
        if (walk.length < fsPathBytesMax) expect(codeOfNode(() => fs.statSync(path.join(dir, walk)))).toBe(expected);
        expect(
          errnoOfCall(() => index.openFile(walk)),
          `${hops} hops`,
        ).toBe(walk.length > fsPathBytesMax ? 'EINVAL' : expected);
      }
    }
    expect(messageOfCall(() => index.stat('cycle/a'))).toMatch(/cycle\/a/);
  });

  it('answers ENOENT, ENOTDIR and EISDIR naming the path asked for', async () => {
    const { index } = await indexOfTree('errors', { 'dir/file': 'x', 'dir/link': { symlink: 'file' } });
    const cases: Array<[() => unknown, string]> = [
      [() => index.stat('dir/missing'), 'ENOENT'],
      [() => index.stat('missing/deeper'), 'ENOENT'],
      [() => index.stat('dir/file/more'), 'ENOTDIR'],
      [() => index.stat('dir/link/'), 'ENOTDIR'],
      [() => index.readdir('dir/file'), 'ENOTDIR'],
      [() => index.readdir('dir/link'), 'ENOTDIR'],
      [() => index.openFile('dir'), 'EISDIR'],
      [() => index.openFile('/'), 'EISDIR'],
    ];
    for (const [call, errno] of cases) expect(errnoOfCall(call)).toBe(errno);
    expect(messageOfCall(() => index.stat('dir/file/more'))).toContain('"dir/file/more"');
    expect(messageOfCall(() => index.openFile('dir'))).toContain('"dir"');
    expect(index.openFile('dir/link')).toMatchObject({ path: 'dir/file', size: 1 });
  });

  it('refuses bad path arguments with EINVAL', async () => {
    const { index } = await indexOfTree('arguments', { a: 'a' });
    const bad: unknown[] = [
      42,
      undefined,
      null,
      { path: 'a' },
      'a\0b',
      'x'.repeat(fsPathBytesMax + 1),
      '日'.repeat(1400),
    ];
    for (const value of bad) {
      for (const call of [
        () => index.stat(value as string),
        () => index.lstat(value as string),
        () => index.openFile(value as string),
        () => index.readdir(value as string),
        () => index.resolve(value as string),
      ])
        expect(errnoOfCall(call)).toBe('EINVAL');
    }
    expect(errnoOfCall(() => index.stat('x'.repeat(fsPathBytesMax)))).toBe('ENOENT');
    expect(errnoOfCall(() => index.readdir('', 7 as unknown as string))).toBe('EINVAL');
    for (const limit of [0, -1, 1.5, Number.NaN])
      expect(errnoOfCall(() => index.readdir('', undefined, limit))).toBe('EINVAL');
  });

  it('pages readdir after any name (present or not), in code-unit order', () => {
    const names = ['b', 'a', 'Z', 'é', '日', '🎉', 'a-b', 'a.b', '_'];
    const index = ImageIndex.fromScan(scanOf(names.map((name) => ({ path: `dir/${name}` }))));
    const sorted = [...names].sort();
    expect(index.readdir('dir')).toEqual({ names: sorted, done: true });
    expect(index.readdir('dir', undefined, 3)).toEqual({ names: sorted.slice(0, 3), done: false });
    expect(index.readdir('dir', 'a', 2)).toEqual({
      names: sorted.slice(sorted.indexOf('a') + 1, sorted.indexOf('a') + 3),
      done: false,
    });
    expect(index.readdir('dir', 'aa')).toEqual({ names: sorted.filter((name) => name > 'aa'), done: true });
    expect(index.readdir('dir', '\u{10ffff}')).toEqual({ names: [], done: true });
    expect(index.readdir('dir', sorted.at(-2), 1)).toEqual({ names: [sorted.at(-1)], done: true });
  });
});

describe('ImageIndex: building from members in archive order', () => {
  it("makes implicit directories, lets the last member win, and keeps a directory's children", () => {
    const index = ImageIndex.fromScan(
      scanOf([
        { path: 'a/b/c', size: 3 },
        { path: 'a', type: 'directory', mode: 0o700, mtimeMs: 5000 },
        { path: 'f', size: 1 },
        { path: 'f', size: 2, dataOffset: 99_000 },
        { path: 'g' },
        { path: 'g/inside' },
        { path: 'h/x' },
        { path: 'h', size: 4 },
      ]),
    );
    expect(index.stat('a')).toEqual({ path: 'a', type: 'directory', size: 0, mode: 0o700, mtimeMs: 5000 });
    expect(index.stat('a/b')).toEqual({ path: 'a/b', type: 'directory', size: 0, mode: 0o755, mtimeMs: 0 });
    expect(index.readdir('a')).toEqual({ names: ['b'], done: true });
    expect(index.openFile('f')).toMatchObject({ size: 2, dataOffset: 99_000 });
    expect(index.stat('g').type).toBe('directory');
    expect(index.stat('h')).toMatchObject({ type: 'file', size: 4 });
    expect(errnoOfCall(() => index.stat('h/x'))).toBe('ENOTDIR');
    expect([index.files, index.directories]).toEqual([4, 3]);
  });

  it('resolves hardlinks to their target at that point of the archive; a broken one answers EIO', () => {
    const index = ImageIndex.fromScan(
      scanOf([
        { path: 'data', size: 10, dataOffset: 512 },
        { path: 'hard', type: 'hardlink', linkTarget: 'data' },
        { path: 'data', size: 20, dataOffset: 4096 },
        { path: 'gone', type: 'hardlink', linkTarget: 'missing' },
        { path: 'dir', type: 'directory' },
        { path: 'todir', type: 'hardlink', linkTarget: 'dir' },
        { path: 'link', type: 'symlink', linkTarget: 'data' },
        { path: 'hardsym', type: 'hardlink', linkTarget: 'link' },
      ]),
    );
    expect(index.openFile('hard')).toMatchObject({ path: 'hard', size: 10, dataOffset: 512 });
    expect(index.openFile('data')).toMatchObject({ size: 20, dataOffset: 4096 });
    expect(index.lstat('hardsym').type).toBe('symlink');
    expect(index.openFile('hardsym')).toMatchObject({ path: 'data', size: 20 });
    for (const broken of ['gone', 'todir']) {
      expect(errnoOfCall(() => index.openFile(broken))).toBe('EIO');
      expect(messageOfCall(() => index.stat(broken))).toContain(`"${broken}"`);
    }
    expect(index.problems.map((problem) => problem.path)).toEqual(['gone', 'todir']);
  });

  it('leaves out a member whose path is longer than fsPathBytesMax, as a problem', () => {
    const long = `${'d/'.repeat(fsPathBytesMax / 2)}file`;
    const index = ImageIndex.fromScan(scanOf([{ path: long }, { path: 'short' }]));
    expect([...index.allFiles()]).toEqual(['short']);
    expect(index.directories).toBe(0);
    expect(index.problems).toEqual([expect.objectContaining({ entry: long, errno: 'EINVAL', fatal: false })]);
  });

  it('resolves absolute symlink targets against the image root, relative ones against the link', () => {
    const index = ImageIndex.fromScan(
      scanOf([
        { path: 'top', size: 1 },
        { path: 'sub/abs', type: 'symlink', linkTarget: '/top' },
        { path: 'sub/rel', type: 'symlink', linkTarget: '../top' },
        { path: 'sub/escape', type: 'symlink', linkTarget: '../../../../top' },
        { path: 'sub/empty', type: 'symlink', linkTarget: '' },
      ]),
    );
    for (const link of ['sub/abs', 'sub/rel', 'sub/escape']) expect(index.openFile(link).path).toBe('top');
    expect(index.lstat('sub/abs')).toMatchObject({ type: 'symlink', size: 4 });
    expect(errnoOfCall(() => index.stat('sub/empty'))).toBe('ENOENT');
  });

  it("answers a problem's errno at its path, naming the entry and the reason, unless a valid member is there", async () => {
    const image = concatBytes(
      tarMember({ name: 'ok.txt' }, new Uint8Array(10)),
      tarMember({ name: '../evil' }),
      tarMember({ name: 'dev/tty', type: '3' }),
      tarMember({ name: 'ok.txt', type: '6' }),
      tarMember({ name: 'big.bin', size: 100_000 }),
      endOfArchive(),
    );
    const { index, scan } = await indexOfBytes(image);
    expect(scan.problems.map((problem) => [problem.path, problem.errno, problem.fatal])).toEqual([
      ['evil', 'EINVAL', false],
      ['dev/tty', 'ENOTSUP', false],
      ['ok.txt', 'ENOTSUP', false],
      ['big.bin', 'EIO', true],
    ]);
    expect(index.openFile('ok.txt').size).toBe(10);
    expect(errnoOfCall(() => index.openFile('../evil'))).toBe('EINVAL');
    expect(errnoOfCall(() => index.stat('dev/tty'))).toBe('ENOTSUP');
    expect(errnoOfCall(() => index.readdir('dev'))).toBe('ENOENT');
    expect(errnoOfCall(() => index.lstat('big.bin'))).toBe('EIO');
    const message = messageOfCall(() => index.openFile('/big.bin'));
    expect(message).toMatch(/EIO: "\/big.bin": entry "big.bin" of the image at offset 2560: truncated/);
  });
});
