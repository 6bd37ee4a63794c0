import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasFosErrorCode, isFosError } from '@fos/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FosFs, type FosFsOptions } from './client.js';
import { errnoOf } from './errors.js';
import { directoriesOf, filesOf } from './testing/images.js';
import { fsTestMachine, type FsTestMachine } from './testing/machine.js';
import { fsReadBytesMax } from './limits.js';
import { serveBlockDevice, type BlockSource } from './block-device.js';

// A small tree, tarred with GNU tar, extracted again: the oracle is what node:fs reads there.
let work: string;
let image: string;
let imageBytes: Uint8Array;
let extracted: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'fos-fs-fleet-'));
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'docs/deep/er'), { recursive: true });
  writeFileSync(join(tree, 'README.md'), '# hello\n');
  writeFileSync(join(tree, 'empty'), '');
  for (const size of [1, 4095, 4096, 4097, 3 * 4096, 70_000]) {
    const bytes = new Uint8Array(size);
    for (let index = 0; index < size; index++) bytes[index] = (index * 7 + size) & 0xff;
    writeFileSync(join(tree, `docs/file-${size}.bin`), bytes);
  }
  writeFileSync(join(tree, 'docs/deep/er/leaf.txt'), 'leaf\n');
  writeFileSync(join(tree, 'docs/héllo-wörld.txt'), 'non-ascii\n');
  for (let index = 0; index < 40; index++) writeFileSync(join(tree, `docs/deep/n${index}.txt`), `file ${index}\n`);
  image = join(work, 'tree.tar');
  execFileSync('tar', ['--format=gnu', '-cf', image, '-C', tree, '.']);
  imageBytes = readFileSync(image);
  extracted = join(work, 'extracted');
  mkdirSync(extracted);
  execFileSync('tar', ['-xf', image, '-C', extracted]);
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function expectErrno(promise: Promise<unknown>, errno: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isFosError(error), `expected a FosError ${errno}, got ${String(error)}`).toBe(true);
  expect(errnoOf(error)).toBe(errno);
}

describe('the file-system fleet (local fabric, host image)', () => {
  let fos: FsTestMachine;
  beforeAll(async () => {
    fos = await fsTestMachine('local', { image, members: 3 });
  });
  afterAll(() => fos.shutdown());

  it('reads every file as node:fs reads it from the extracted tree', async () => {
    const { fs, libfos } = await fos.client(3);
    const files = filesOf(extracted);
    expect(files.length).toBeGreaterThan(40);
    for (const path of files) {
      expect(Buffer.from(await fs.readFile(`/${path}`)).equals(readFileSync(join(extracted, path))), path).toBe(true);
      expect((await fs.stat(path)).size).toBe(statSync(join(extracted, path)).size);
    }
    for (const directory of directoriesOf(extracted))
      expect(await fs.readdir(`/${directory}`), directory).toEqual(readdirSync(join(extracted, directory)).sort());
    // The opens spread over the members: each asked the name service afresh.
    expect(Object.keys(fs.stats().byMember).length).toBe(3);
    await libfos.close();
  });

  it('reads like FileHandle.read: positions, past the end, streams', async () => {
    const { fs, libfos } = await fos.client(2);
    const path = 'docs/file-70000.bin';
    const expected = readFileSync(join(extracted, path));
    const handle = await fs.open(path);
    const buffer = new Uint8Array(10);
    expect((await handle.read(buffer, 0, 10, 4090)).bytesRead).toBe(10);
    expect(Buffer.from(buffer).equals(expected.subarray(4090, 4100))).toBe(true);
    // Sequential reads move the position; a read larger than one request is split.
    const big = new Uint8Array(fsReadBytesMax + 100);
    expect((await handle.read(big)).bytesRead).toBe(big.length);
    expect(Buffer.from(big).equals(expected.subarray(0, big.length))).toBe(true);
    expect((await handle.read(new Uint8Array(10), 0, 10, expected.length + 5)).bytesRead).toBe(0);
    expect((await handle.stat()).size).toBe(expected.length);
    const chunks: Uint8Array[] = [];
    for await (const chunk of handle.readableWebStream()) chunks.push(chunk);
    expect(Buffer.concat(chunks).equals(expected)).toBe(true);
    await handle.close();
    const streamed: Buffer[] = [];
    for await (const chunk of fs.createReadStream(path, { start: 100, end: 199 })) streamed.push(chunk as Buffer);
    expect(Buffer.concat(streamed).equals(expected.subarray(100, 200))).toBe(true);
    await libfos.close();
  });

  it('reads a small file from the head its open carried, and a large one from its member', async () => {
    const { fs, libfos } = await fos.client(2);
    const small = await fs.open('docs/file-4095.bin');
    expect(Buffer.from(await small.readFile()).equals(readFileSync(join(extracted, 'docs/file-4095.bin')))).toBe(true);
    expect(fs.stats()).toMatchObject({ reads: 0, readsFromHead: 1 });
    const large = await fs.open('docs/file-4097.bin');
    const buffer = new Uint8Array(8);
    await large.read(buffer, 0, 8, 4000);
    expect(fs.stats()).toMatchObject({ reads: 0, readsFromHead: 2 });
    // 7 bytes are left at 4090: the last one lies past the head, so the member answers.
    expect((await large.read(buffer, 0, 8, 4090)).bytesRead).toBe(7);
    const tail = readFileSync(join(extracted, 'docs/file-4097.bin')).subarray(4090);
    expect(Buffer.from(buffer.subarray(0, 7)).equals(tail)).toBe(true);
    expect(fs.stats()).toMatchObject({ reads: 1, readsFromHead: 2 });
    await small.close();
    await large.close();
    await libfos.close();
  });

  it('answers the errors a node:fs user expects, and changes nothing', async () => {
    const { fs, libfos } = await fos.client(1, { openFilesMax: 2 });
    for (const bad of [{ openFilesMax: 0 }, { openFilesMax: 1.5 }, { timeoutMs: -1 }, { fleet: '' }, { extra: 1 }])
      expect(() => new FosFs(libfos, bad as FosFsOptions)).toThrow(/^BAD_REQUEST: FosFs: /);
    await expectErrno(fs.open('/nope'), 'ENOENT');
    await expectErrno(fs.open('/docs'), 'EISDIR');
    await expectErrno(fs.readdir('/README.md'), 'ENOTDIR');
    await expectErrno(fs.open('/README.md/x'), 'ENOTDIR');
    await expectErrno(fs.open(42 as unknown as string), 'EINVAL');
    const first = await fs.open('README.md');
    const second = await fs.open('empty');
    await expectErrno(fs.open('docs/file-1.bin'), 'EMFILE');
    expect(fs.openFiles).toBe(2);
    await first.close();
    await expectErrno(first.read(new Uint8Array(4)), 'EBADF');
    await expectErrno(first.close(), 'EBADF');
    const third = await fs.open('docs/file-1.bin');
    expect((await second.read(new Uint8Array(4))).bytesRead).toBe(0);
    await second.close();
    await third.close();
    await libfos.close();
  });

  it("refuses another process's handle (EBADF at the member)", async () => {
    const owner = await fos.client(1);
    const thief = await fos.client(2);
    const handle = await owner.fs.open('README.md');
    // The thief asks the member directly with the owner's member handle.
    const opened = (await owner.libfos.call('/sys/fs/0', { op: 'open', path: 'README.md' })).body as {
      handle: number;
    };
    const refused = await thief.libfos
      .call('/sys/fs/0', { op: 'read', handle: opened.handle, offset: 0, length: 4 })
      .then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(hasFosErrorCode(refused, 'BAD_REQUEST')).toBe(true);
    expect(String((refused as Error).message)).toMatch(/EBADF/);
    await handle.close();
    await owner.libfos.close();
    await thief.libfos.close();
  });

  it('refuses malformed requests at the member and the block device, naming the field', async () => {
    const { libfos } = await fos.client(2);
    const bad = (target: string, body: unknown): Promise<unknown> =>
      libfos.call(target, body as never).then(
        () => undefined,
        (error: unknown) => error,
      );
    expect(String(await bad('/sys/fs/0', { op: 'read', handle: 1, offset: -1, length: 4 }))).toMatch(/offset/);
    expect(String(await bad('/sys/fs/0', { op: 'rm', path: '/' }))).toMatch(/BAD_REQUEST/);
    const blocks = Math.ceil(imageBytes.length / 4096);
    expect(String(await bad('/sys/blockdev/0', { op: 'read', block: blocks, count: 1 }))).toMatch(/past the end/);
    expect(String(await bad('/sys/blockdev/0', { op: 'read', block: 0, count: 9 }))).toMatch(/LIMIT_EXCEEDED/);
    const last = (await libfos.call('/sys/blockdev/0', { op: 'read', block: blocks - 1, count: 1 })).body as {
      bytes: Uint8Array;
    };
    expect(Buffer.from(last.bytes).equals(imageBytes.subarray((blocks - 1) * 4096))).toBe(true);
    await libfos.close();
  });
});

describe('growFleet and shrinkFleet with files open', () => {
  it('moves the open files of leaving members, never failing a read', async () => {
    const fos = await fsTestMachine('local', { image, members: 3 }, { cores: 4 });
    try {
      const { fs, libfos } = await fos.client(3);
      const paths = filesOf(extracted).slice(0, 24);
      const handles = await Promise.all(paths.map((path) => fs.open(path)));
      expect(new Set(Object.keys(fs.stats().byMember)).size).toBe(3);
      await expect(fos.fleet.shrinkFleet('AAAAAAAAAAAAAAAAAAAAAA')).rejects.toSatisfy((error: unknown) =>
        hasFosErrorCode(error, 'PERMISSION_DENIED'),
      );
      const grown = await fos.fleet.growFleet(fos.root);
      expect(fos.fleet.members).toContain(grown);
      await fos.fleet.shrinkFleet(fos.root);
      await fos.fleet.shrinkFleet(fos.root);
      expect(fos.fleet.members).toHaveLength(2);
      for (const [index, handle] of handles.entries()) {
        const expected = readFileSync(join(extracted, paths[index] as string));
        // fstat always asks the member (a small file's bytes came with the open).
        expect((await handle.stat()).size, paths[index]).toBe(expected.length);
        expect(Buffer.from(await handle.readFile()).equals(expected), paths[index]).toBe(true);
      }
      expect(fs.stats().reopens).toBeGreaterThan(0);
      await Promise.all(handles.map((handle) => handle.close()));
      await libfos.close();
    } finally {
      await fos.shutdown();
    }
  });

  it('reopens the files of a crashed member elsewhere, and the fleet forgets it', async () => {
    const fos = await fsTestMachine('local', { image, members: 3 }, { cores: 4 });
    try {
      const { fs, libfos } = await fos.client(3);
      const paths = filesOf(extracted).slice(0, 18);
      const handles = await Promise.all(paths.map((path) => fs.open(path)));
      expect(() => fos.fleet.memberProcess('/sys/fs/9')).toThrow(/no running member/);
      fos.fleet.memberProcess('/sys/fs/1').kill();
      for (const [index, handle] of handles.entries()) {
        const expected = readFileSync(join(extracted, paths[index] as string));
        // fstat always asks the member (a small file's bytes came with the open).
        expect((await handle.stat()).size, paths[index]).toBe(expected.length);
        expect(Buffer.from(await handle.readFile()).equals(expected), paths[index]).toBe(true);
      }
      expect(fs.stats().reopens).toBeGreaterThan(0);
      expect(fos.fleet.crashed).toBe(1);
      expect(fos.fleet.members).toEqual(['/sys/fs/0', '/sys/fs/2']);
      await Promise.all(handles.map((handle) => handle.close()));
      // New opens go to the members left.
      const before = fs.stats().byMember['/sys/fs/1'] ?? 0;
      for (const path of paths) await fs.readFile(path);
      expect(fs.stats().byMember['/sys/fs/1'] ?? 0).toBe(before);
      await libfos.close();
    } finally {
      await fos.shutdown();
    }
  });
});

describe("a member's full table of open files", () => {
  it('forgets the file used least recently; its client opens it again, unharmed', async () => {
    const fos = await fsTestMachine('local', { image, members: 1, memberOpenFilesMax: 4 });
    try {
      const { fs, libfos } = await fos.client(2);
      const paths = filesOf(extracted).slice(0, 10);
      const handles = await Promise.all(paths.map((path) => fs.open(path)));
      // Every one of them still works, in any order: fstat always asks the member.
      for (const index of [0, 9, 1, 8, 2, 7, 3, 6, 4, 5]) {
        const expected = readFileSync(join(extracted, paths[index] as string));
        expect((await handles[index]!.stat()).size, paths[index]).toBe(expected.length);
        expect(Buffer.from(await handles[index]!.readFile()).equals(expected), paths[index]).toBe(true);
      }
      expect(fs.stats().reopens).toBeGreaterThan(0);
      const info = (await libfos.call('/sys/fs/0', { op: 'info' })).body as { openFiles: number; evicted: number };
      expect(info.openFiles).toBe(4);
      expect(info.evicted).toBeGreaterThanOrEqual(6);
      await Promise.all(handles.map((handle) => handle.close()));
      await libfos.close();
    } finally {
      await fos.shutdown();
    }
  });
});

describe('the block device server', () => {
  it('serves reads of one block concurrently: a read waits for no other', async () => {
    // A source whose reads finish only once `waiting` of them are in progress at once: served one at a
    // time, the first would never finish (and the test would time out).
    const waiting = 8;
    let inProgress = 0;
    let most = 0;
    const release: (() => void)[] = [];
    const source: BlockSource = {
      bytes: 4096,
      read: async (offset, length) => {
        inProgress++;
        most = Math.max(most, inProgress);
        await new Promise<void>((resolve) => {
          release.push(resolve);
          if (release.length === waiting) for (const next of release.splice(0)) next();
        });
        inProgress--;
        return new Uint8Array(length).fill(offset & 0xff);
      },
      close: () => Promise.resolve(),
    };
    const fos = await fsTestMachine('local', { image: readFileSync(image), members: 1 });
    try {
      await fos.machine.spawn({
        core: 2,
        name: 'slow-device',
        function: (context) => serveBlockDevice(context, { name: '/sys/blockdev/slow', capability: fos.root }, source),
      });
      const clients = await Promise.all(Array.from({ length: waiting }, (_, index) => fos.client(1 + (index % 3))));
      const answers = await Promise.all(
        clients.map(({ libfos }) => libfos.call('/sys/blockdev/slow', { op: 'read', block: 0, count: 1 })),
      );
      expect(answers).toHaveLength(waiting);
      expect(most).toBe(waiting);
      await Promise.all(clients.map(({ libfos }) => libfos.close()));
    } finally {
      await fos.shutdown();
    }
  });
});
