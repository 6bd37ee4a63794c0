// Test fixtures of the tar file system: deterministic trees on the real disk, tar images of them made
// by the system's GNU tar, hand-built tar headers for the cases no tar writes, and a `ReadAt` over
// bytes in memory. Used by the parser's tests, the oracle tests against node:fs, and benchmarks.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SeededRandom } from '@fos/sim';
import { tarBlockBytes, type ReadAt } from '../tar.js';

/** One path of a {@link TreeSpec}: file contents, a file with a mode, a symlink, a hardlink, a directory. */
export type TreeSpecEntry =
  | string
  | Uint8Array
  | { readonly data: string | Uint8Array; readonly mode: number }
  | { readonly symlink: string }
  | { readonly hardlink: string }
  | { readonly directory: true };

/**
 * A tree to make, path (relative, '/'-separated) to what is there, made in the key order: a hardlink's
 * target (relative to the tree's root) must come before it. Parent directories are made as needed.
 */
export type TreeSpec = Readonly<Record<string, TreeSpecEntry>>;

/** Makes the tree `spec` under the directory `dir` (which must exist). */
export function makeTree(dir: string, spec: TreeSpec): void {
  for (const [name, what] of Object.entries(spec)) {
    const full = path.join(dir, name);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    if (typeof what === 'string' || what instanceof Uint8Array) fs.writeFileSync(full, what);
    else if ('data' in what) {
      fs.writeFileSync(full, what.data);
      fs.chmodSync(full, what.mode);
    } else if ('symlink' in what) fs.symlinkSync(what.symlink, full);
    else if ('hardlink' in what) fs.linkSync(path.join(dir, what.hardlink), full);
    else fs.mkdirSync(full, { recursive: true });
  }
}

/** The file sizes of a generated tree: 0..3 blocks of 4 KiB and the edges of tar's 512-byte blocks. */
export const treeFileSizes = [0, 1, 511, 512, 4095, 4096, 4097, 8192, 12288] as const;
/** Bytes of the one big file of a generated tree, by default. */
export const treeBigFileBytes = 5 * 1024 * 1024;
/** Directories on the way to the deepest file of a generated tree. */
export const treeDepth = 14;
/** Bytes of the long component of a generated tree (more than ustar's 100-byte name field). */
export const treeLongComponentBytes = 200;

/** Options of {@link generateTree}. */
export interface GenerateTreeOptions {
  /** Seeds the file contents and times: the same seed makes the same tree. */
  readonly seed: number;
  /**
   * Leave out what the ustar format cannot hold (a 200-byte name component, a path past 256 bytes,
   * link targets past 100 bytes): GNU tar refuses such members with `--format=ustar`. Default false.
   */
  readonly ustarSafe?: boolean;
  /** Bytes of `big.bin` (default {@link treeBigFileBytes}; 0 leaves it out). */
  readonly bigFileBytes?: number;
}

function bytesOf(random: SeededRandom, length: number): Uint8Array {
  const bytes = new Uint8Array(length);
  random.fillBytes(bytes);
  return bytes;
}

/** The spec of the deep, sized, Unicode and long-named part of a generated tree. */
function filesSpec(random: SeededRandom, ustarSafe: boolean): Record<string, TreeSpecEntry> {
  const spec: Record<string, TreeSpecEntry> = {};
  const deep = Array.from({ length: treeDepth }, (_, index) => `d${String(index + 1).padStart(2, '0')}`).join('/');
  spec[`deep/${deep}/bottom.txt`] = `the bottom of the tree, ${random.nextUint32()}\n`;
  spec['deep/d01/near-top.txt'] = 'near the top\n';
  for (const size of treeFileSizes) spec[`sizes/f-${size}.bin`] = bytesOf(random, size);
  spec['empty.txt'] = '';
  spec['empty-dir'] = { directory: true };
  spec['unicode/héllo-wörld.txt'] = 'héllo\n';
  spec['unicode/日本語.md'] = '# 日本語\n';
  spec['unicode/🎉-party.txt'] = bytesOf(random, 100);
  spec['unicode/ディレクトリ/ファイル.txt'] = 'ファイル\n';
  // More than 100 bytes but with a '/' where ustar can split it into prefix and name.
  spec[`prefix/${'p'.repeat(90)}/${'q'.repeat(90)}.txt`] = 'split between prefix and name\n';
  spec['modes/run.sh'] = { data: '#!/bin/sh\necho hi\n', mode: 0o755 };
  spec['modes/private'] = { data: bytesOf(random, 33), mode: 0o600 };
  if (!ustarSafe) {
    const long = `${'n'.repeat(treeLongComponentBytes - 4)}-${String(random.nextInt(1000)).padStart(3, '0')}`;
    const file = `${'f'.repeat(80)}.txt`;
    spec[`long/${long}/${file}`] = bytesOf(random, 700);
    spec['long/link-to-long'] = { symlink: `${long}/${file}` };
    spec['long/hard-to-long'] = { hardlink: `long/${long}/${file}` };
  }
  return spec;
}

/** The spec of the links of a generated tree (after the files they point at). */
function linksSpec(): Record<string, TreeSpecEntry> {
  return {
    'links/to-file': { symlink: '../sizes/f-1.bin' },
    'links/to-dir': { symlink: '../deep/d01' },
    'links/dangling': { symlink: 'no/such/file' },
    'links/chain': { symlink: 'to-file' },
    'links/hard': { hardlink: 'sizes/f-4097.bin' },
  };
}

/**
 * Makes a deterministic tree under `dir` (which must exist): directories 14 deep, files of
 * {@link treeFileSizes} bytes and one of `bigFileBytes`, an empty file and an empty directory,
 * non-ASCII names, a name split between ustar's prefix and name fields, modes 0o755 and 0o600, a
 * symlink to a file, to a directory, to a symlink, a dangling one, a hardlink and, unless
 * `ustarSafe`, a 200-byte name component with a symlink and a hardlink to the file under it.
 * Modification times are set from the seed (whole seconds plus milliseconds). Returns the spec made.
 */
export function generateTree(dir: string, options: GenerateTreeOptions): TreeSpec {
  const random = new SeededRandom(options.seed);
  const bigFileBytes = options.bigFileBytes ?? treeBigFileBytes;
  const spec: Record<string, TreeSpecEntry> = { ...filesSpec(random, options.ustarSafe === true), ...linksSpec() };
  if (bigFileBytes > 0) spec['big.bin'] = bytesOf(random, bigFileBytes);
  makeTree(dir, spec);
  // Times last, deepest first, since making a child changes its directory's time.
  const paths = listTree(dir)
    .map((entry) => entry.path)
    .reverse();
  for (const relative of [...paths, '.']) {
    const seconds = 1_500_000_000 + random.nextInt(100_000_000) + random.nextInt(1000) / 1000;
    fs.lutimesSync(path.join(dir, relative), seconds, seconds);
  }
  return spec;
}

/** One path of a tree on disk, as `lstat` and `readlink` see it. */
export interface TreeListingEntry {
  /** Relative to the tree's root, '/'-separated. */
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink';
  /** Bytes of a file; 0 for a directory or a symlink. */
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
  readonly linkTarget?: string;
}

/** Every path under `dir` (the root itself not listed), sorted by code units, without following symlinks. */
export function listTree(dir: string): TreeListingEntry[] {
  const out: TreeListingEntry[] = [];
  const pending = [''];
  for (let relative = pending.pop(); relative !== undefined; relative = pending.pop()) {
    for (const name of fs.readdirSync(path.join(dir, relative))) {
      const child = relative === '' ? name : `${relative}/${name}`;
      const full = path.join(dir, child);
      const stat = fs.lstatSync(full);
      const common = { path: child, mode: stat.mode & 0o7777, mtimeMs: stat.mtimeMs };
      if (stat.isSymbolicLink()) out.push({ ...common, type: 'symlink', size: 0, linkTarget: fs.readlinkSync(full) });
      else if (stat.isDirectory()) {
        out.push({ ...common, type: 'directory', size: 0 });
        pending.push(child);
      } else out.push({ ...common, type: 'file', size: stat.size });
    }
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The regular files under `dir` (relative, '/'-separated, sorted). */
export function filesOf(dir: string): string[] {
  return listTree(dir)
    .filter((entry) => entry.type === 'file')
    .map((entry) => entry.path);
}

/** The directories under `dir`, the root (`''`) first (relative, '/'-separated, sorted). */
export function directoriesOf(dir: string): string[] {
  return [
    '',
    ...listTree(dir)
      .filter((entry) => entry.type === 'directory')
      .map((entry) => entry.path),
  ];
}

/** The formats {@link tarDirectory} writes. */
export type TarFormat = 'gnu' | 'pax' | 'ustar';

/**
 * Tars the directory `dir` into `outFile` with the system's GNU tar (`tar --format=F -cf out -C dir .`,
 * names sorted, owner and group 0) and returns the image's bytes. GNU tar fails (and so does this)
 * on a member ustar cannot hold: make the tree with `ustarSafe` for that format.
 */
export function tarDirectory(dir: string, outFile: string, format: TarFormat): Uint8Array {
  execFileSync(
    'tar',
    [`--format=${format}`, '--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-cf', outFile, '-C', dir, '.'],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  return new Uint8Array(fs.readFileSync(outFile));
}

/** A {@link ReadAt} over `bytes` (fewer bytes at the end, none past it). */
export function readAtOf(bytes: Uint8Array): ReadAt {
  return async (offset, length) =>
    bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
}

/** The SHA-256 of `bytes`, in hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The bytes of `parts`, one after another. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** `bytes` padded with zeros to a whole number of tar blocks. */
export function padToBlock(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / tarBlockBytes) * tarBlockBytes);
  out.set(bytes);
  return out;
}

/** The two zero blocks that end an archive. */
export function endOfArchive(): Uint8Array {
  return new Uint8Array(2 * tarBlockBytes);
}

/** A hand-built tar header, for cases no tar writes. */
export interface HeaderSpec {
  readonly name: string;
  /** The type flag, one character (default '0'). */
  readonly type?: string;
  /** Written as octal into the size field (default 0). */
  readonly size?: number;
  /** Raw bytes of the size field (12 at most), instead of `size`: base-256, garbage. */
  readonly sizeField?: Uint8Array;
  readonly mode?: number;
  /** Seconds since the epoch (default 1_600_000_000). */
  readonly mtime?: number;
  readonly linkname?: string;
  /** The ustar prefix field (POSIX magic only). */
  readonly prefix?: string;
  /** 'ustar' (POSIX, the default), 'gnu' (`ustar  \0`) or 'v7' (no magic). */
  readonly magic?: 'ustar' | 'gnu' | 'v7';
  /** 'unsigned' (the default), 'signed' (bytes as int8, as old tars summed) or 'bad'. */
  readonly checksum?: 'unsigned' | 'signed' | 'bad';
}

const encoder = new TextEncoder();

function putText(block: Uint8Array, at: number, width: number, text: string): void {
  const bytes = encoder.encode(text);
  if (bytes.length > width) throw new Error(`tarHeader: ${JSON.stringify(text)} does not fit ${width} bytes`);
  block.set(bytes, at);
}

function putOctal(block: Uint8Array, at: number, width: number, value: number): void {
  putText(block, at, width, `${value.toString(8).padStart(width - 1, '0')}\0`);
}

/** A 512-byte tar header from `spec`, checksummed as asked. */
export function tarHeader(spec: HeaderSpec): Uint8Array {
  const block = new Uint8Array(tarBlockBytes);
  putText(block, 0, 100, spec.name);
  putOctal(block, 100, 8, spec.mode ?? 0o644);
  putOctal(block, 108, 8, 0);
  putOctal(block, 116, 8, 0);
  if (spec.sizeField !== undefined) block.set(spec.sizeField.subarray(0, 12), 124);
  else putOctal(block, 124, 12, spec.size ?? 0);
  putOctal(block, 136, 12, spec.mtime ?? 1_600_000_000);
  putText(block, 156, 1, spec.type ?? '0');
  putText(block, 157, 100, spec.linkname ?? '');
  const magic = spec.magic ?? 'ustar';
  if (magic === 'ustar') putText(block, 257, 8, 'ustar\u000000');
  if (magic === 'gnu') putText(block, 257, 8, 'ustar  \0');
  if (spec.prefix !== undefined) putText(block, 345, 155, spec.prefix);
  block.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of block) sum += spec.checksum === 'signed' && byte >= 0x80 ? byte - 0x100 : byte;
  if (spec.checksum === 'bad') sum += 1;
  putText(block, 148, 8, `${(sum & 0o777777).toString(8).padStart(6, '0')}\0 `);
  return block;
}

/** A member: its header and its data padded to whole blocks (the size is the data's unless given). */
export function tarMember(spec: HeaderSpec, data: Uint8Array = new Uint8Array(0)): Uint8Array {
  const header = tarHeader(
    spec.size === undefined && spec.sizeField === undefined ? { ...spec, size: data.length } : spec,
  );
  return concatBytes(header, padToBlock(data));
}

/** The data of a pax extended header with `records` (`"%d %s=%s\n"`, each length counting itself). */
export function paxRecords(records: Readonly<Record<string, string>>): Uint8Array {
  let text = '';
  for (const [key, value] of Object.entries(records)) {
    const body = encoder.encode(` ${key}=${value}\n`).length;
    let length = body + 1;
    while (String(length).length + body !== length) length = String(length).length + body;
    text += `${length} ${key}=${value}\n`;
  }
  return encoder.encode(text);
}

/** A pax extended header member ('x' for the next member, 'g' global) with `records`. */
export function paxMember(records: Readonly<Record<string, string>>, type: 'x' | 'g' = 'x'): Uint8Array {
  return tarMember({ name: type === 'x' ? 'PaxHeaders/entry' : 'GlobalHead', type }, paxRecords(records));
}

/** A GNU long name ('L') or long link name ('K') member, NUL-terminated as GNU tar writes it. */
export function longNameMember(name: string, type: 'L' | 'K' = 'L'): Uint8Array {
  return tarMember({ name: '././@LongLink', type, magic: 'gnu' }, encoder.encode(`${name}\0`));
}
