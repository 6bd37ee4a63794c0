// The tar parser of the read-only file system: one pass over the headers of an image, through a
// `ReadAt` (the block cache of a block device server), that lists every member with where its data
// lies. It reads headers and extended-header records only, never file data.
//
// Formats: POSIX ustar (the prefix field joined to the name), pax ('x' per-member and 'g' global
// extended headers), GNU ('L' long names, 'K' long link names, base-256 numeric fields) and old v7
// (no magic). The image is untrusted: every defect becomes a `TarProblem` and scanning goes on where
// the next header can still be found; where it cannot (a bad checksum, a truncated image, a size that
// is not a number), the problem is fatal and scanning stops, keeping every member before it. The scan
// never throws on image content; it rejects only when `readAt` does, with that error unchanged.
import { assert, describeValue } from '@fos/base';

/** Bytes of a tar record block. */
export const tarBlockBytes = 512;
/** Members one image may hold; one more is a fatal problem and scanning stops there. */
export const tarEntriesMax = 1_000_000;
/**
 * Bytes of one pax extended header ('x' or 'g') or GNU long name or link ('L' / 'K') record: a larger
 * one is refused with a fatal problem (it is read whole into memory, so it is bounded first).
 */
export const tarPaxHeaderBytesMax = 1024 * 1024;

/** Bytes asked of `readAt` at once while reading an extended header (a few blocks of the cache). */
const extendedReadBytes = 32 * 1024;
/** Digits of a pax record's length at most (a record is never longer than its header, 1 MiB). */
const paxLengthDigitsMax = 8;

/** Reads bytes of the image; may return fewer at the end of the image. */
export type ReadAt = (offset: number, length: number) => Promise<Uint8Array>;

/** What a member of the image is, for the file system. */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink';

/** One member of the image that the file system serves. */
export interface TarEntry {
  /** The path, normalized: no leading '/' or './', no trailing '/', never '' (the root is not an entry). */
  readonly path: string;
  readonly type: TarEntryType;
  /** Bytes of data (0 for directories and links). */
  readonly size: number;
  /** Byte offset of the data in the image. */
  readonly dataOffset: number;
  /** A symlink's target as written; a hardlink's target normalized like `path`. */
  readonly linkTarget?: string;
  /** The permission bits (at most 0o7777). */
  readonly mode: number;
  /** Modification time in milliseconds since the epoch (fractional from a pax `mtime`). */
  readonly mtimeMs: number;
  /** Where its first header starts (a pax or GNU long-name header before the member's own). */
  readonly headerOffset: number;
}

/** The POSIX code a problem answers with: damaged, unsupported, or an unsafe name. */
export type TarProblemErrno = 'EIO' | 'ENOTSUP' | 'EINVAL';

/** A defect of the image: a member the file system does not serve, or where scanning stopped. */
export interface TarProblem {
  /** The member's name as written in the archive, or `at offset N` when no name could be read. */
  readonly entry: string;
  /** The normalized path, when there is one (so that an open of it can answer this problem). */
  readonly path?: string;
  /** The offset of the member's first header. */
  readonly offset: number;
  /** EIO: damaged or truncated; ENOTSUP: a type not served; EINVAL: an unsafe name. */
  readonly errno: TarProblemErrno;
  /** A clear sentence saying what is wrong. */
  readonly reason: string;
  /** True when scanning stopped here. */
  readonly fatal: boolean;
}

/** The result of {@link scanTar}: the members in archive order, and the problems. */
export interface TarScan {
  readonly entries: readonly TarEntry[];
  readonly problems: readonly TarProblem[];
  readonly imageBytes: number;
}

/** Extended headers read since the last member, for the member they precede. */
interface Pending {
  /** Offset of the first of them. */
  start?: number;
  pax?: Map<string, string>;
  longName?: string;
  longLink?: string;
  /** Why a pax header before the member could not be parsed. */
  defect?: string;
}

const utf8 = new TextDecoder('utf-8');
const typeNames: Readonly<Record<string, string>> = {
  '3': 'a character device',
  '4': 'a block device',
  '6': 'a FIFO',
  S: 'a GNU sparse file',
  M: 'a GNU multi-volume continuation',
  D: 'a GNU incremental directory dump',
  N: 'an old GNU long name',
};

/** The entry type of each type flag the file system serves ('7', contiguous, is a plain file). */
const entryTypes: ReadonlyMap<string, TarEntryType> = new Map([
  ['0', 'file'],
  ['\0', 'file'],
  ['7', 'file'],
  ['5', 'directory'],
  ['2', 'symlink'],
  ['1', 'hardlink'],
]);

/** Whether pax records describe a GNU sparse file (its data is a sparse map, then the pieces). */
function isSparse(records: ReadonlyMap<string, string> | undefined): boolean {
  if (records === undefined) return false;
  for (const key of records.keys()) if (key.startsWith('GNU.sparse.')) return true;
  return false;
}

function roundUp(bytes: number): number {
  return Math.ceil(bytes / tarBlockBytes) * tarBlockBytes;
}

function isZero(block: Uint8Array): boolean {
  for (let index = 0; index < block.length; index++) if (block[index] !== 0) return false;
  return true;
}

/** A NUL-terminated text field: the bytes up to the first NUL, as UTF-8. */
function textOf(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return utf8.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

/**
 * A numeric header field: octal (leading spaces, then digits, then a NUL or a space or the field's
 * end; an empty field is 0), or GNU base-256 (the high bit of the first byte set, two's complement).
 * A string says why the field is not a number.
 */
function numberOf(field: Uint8Array, allowNegative: boolean): number | string {
  if (field.length > 0 && (field[0]! & 0x80) !== 0) {
    let value = BigInt(field[0]! & 0x7f);
    for (const byte of field.subarray(1)) value = value * 256n + BigInt(byte);
    if ((field[0]! & 0x40) !== 0) value -= 1n << BigInt(7 + 8 * (field.length - 1));
    if (value < 0n && !allowNegative) return `a negative base-256 number (${value})`;
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER))
      return `a base-256 number too large (${value})`;
    return Number(value);
  }
  let at = 0;
  while (at < field.length && field[at] === 0x20) at++;
  let value = 0;
  const start = at;
  while (at < field.length && field[at]! >= 0x30 && field[at]! <= 0x37) value = value * 8 + field[at++]! - 0x30;
  const terminated = at === field.length || field[at] === 0 || field[at] === 0x20;
  if (!terminated || (at === start && field.subarray(at).some((byte) => byte !== 0 && byte !== 0x20)))
    return `not an octal number (${describeValue(utf8.decode(field))})`;
  return value;
}

/** Whether the stored checksum matches the unsigned or the signed sum (both, as GNU tar accepts). */
function checksumMatches(block: Uint8Array): boolean {
  const stored = numberOf(block.subarray(148, 156), false);
  if (typeof stored === 'string') return false;
  let unsigned = 0;
  let signed = 0;
  for (let index = 0; index < tarBlockBytes; index++) {
    const byte = index >= 148 && index < 156 ? 0x20 : block[index]!;
    unsigned += byte;
    signed += byte >= 0x80 ? byte - 0x100 : byte;
  }
  return stored === unsigned || stored === signed;
}

/** The name in a header: POSIX ustar joins the prefix; GNU uses those bytes for other fields. */
function headerName(block: Uint8Array): string {
  const name = textOf(block.subarray(0, 100));
  const posix = textOf(block.subarray(257, 263)) === 'ustar' && block[262] === 0;
  if (!posix) return name;
  const prefix = textOf(block.subarray(345, 500));
  return prefix === '' ? name : `${prefix}/${name}`;
}

/**
 * The records of a pax extended header (`"%d %s=%s\n"`, the length counting the whole record in
 * bytes), or a string saying why it is malformed. Trailing NUL padding is tolerated.
 */
export function parsePaxRecords(data: Uint8Array): Map<string, string> | string {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length && data[at] !== 0) {
    let digitsEnd = at;
    while (digitsEnd < data.length && data[digitsEnd]! >= 0x30 && data[digitsEnd]! <= 0x39) digitsEnd++;
    if (digitsEnd === at || digitsEnd - at > paxLengthDigitsMax || data[digitsEnd] !== 0x20)
      return `a pax record at byte ${at} does not start with its length`;
    const length = Number(utf8.decode(data.subarray(at, digitsEnd)));
    const end = at + length;
    if (end > data.length || end <= digitsEnd + 1 || data[end - 1] !== 0x0a)
      return `the pax record at byte ${at} has a length (${length}) that does not end at a newline`;
    const equals = data.subarray(digitsEnd + 1, end).indexOf(0x3d);
    if (equals <= 0) return `the pax record at byte ${at} has no keyword`;
    const keyword = utf8.decode(data.subarray(digitsEnd + 1, digitsEnd + 1 + equals));
    records.set(keyword, utf8.decode(data.subarray(digitsEnd + 2 + equals, end - 1)));
    at = end;
  }
  return records;
}

/** The result of normalizing a member's name. */
type NameCheck =
  { readonly path: string } | { readonly root: true } | { readonly unsafe: string; readonly path?: string };

/**
 * Normalizes a member name: drops empty and '.' components (a leading './', a trailing '/'). Unsafe:
 * absolute, a '..' component, a NUL, empty. An unsafe name still gets a `path` when one can be made
 * (the leading '/' stripped, '..' applied lexically but never above the root), so that an open of
 * that path answers the problem instead of "no such file".
 */
export function normalizeTarName(name: string): NameCheck {
  if (name.includes('\0')) return { unsafe: 'contains a NUL character' };
  if (name === '') return { unsafe: 'is empty' };
  const kept = name.split('/').filter((part) => part !== '' && part !== '.');
  const absolute = name.startsWith('/');
  if (!absolute && !kept.includes('..')) return kept.length === 0 ? { root: true } : { path: kept.join('/') };
  const stack: string[] = [];
  for (const part of kept) {
    if (part === '..') stack.pop();
    else stack.push(part);
  }
  const unsafe = absolute ? 'is an absolute path' : "has a '..' component";
  return stack.length === 0 ? { unsafe } : { unsafe, path: stack.join('/') };
}

/** What a member's headers say, gathered for {@link classify}. */
interface Member {
  readonly block: Uint8Array;
  readonly start: number;
  readonly name: string;
  readonly size: number;
  readonly dataOffset: number;
  readonly pending: Pending;
  readonly global: ReadonlyMap<string, string>;
}

/** A pax value for `key`: the member's own (an empty one unsets it), else the global one. */
function paxValue(member: Pick<Member, 'pending' | 'global'>, key: string): string | undefined {
  const own = member.pending.pax?.get(key);
  if (own !== undefined) return own === '' ? undefined : own;
  return member.global.get(key);
}

function mtimeOf(member: Member): number | string {
  const pax = paxValue(member, 'mtime');
  if (pax !== undefined) {
    if (!/^-?\d{1,15}(\.\d+)?$/.test(pax)) return `its pax mtime ${describeValue(pax)} is not a number`;
    return Number(pax) * 1000;
  }
  const seconds = numberOf(member.block.subarray(136, 148), true);
  return typeof seconds === 'string' ? `its mtime field is ${seconds}` : seconds * 1000;
}

function linkOf(member: Member): string {
  return paxValue(member, 'linkpath') ?? member.pending.longLink ?? textOf(member.block.subarray(157, 257));
}

type Verdict = TarEntry | { readonly errno: TarProblemErrno; readonly reason: string; readonly path?: string } | null;

/** The entry a member makes, a problem with it, or null for a member that is silently skipped. */
function classify(member: Member): Verdict {
  const flag = String.fromCharCode(member.block[156]!);
  const type = entryTypes.get(flag);
  if (flag === 'V') return null; // a GNU volume label names the archive, not a member
  const name = normalizeTarName(member.name);
  if ('root' in name) return type === 'directory' ? null : { errno: 'EINVAL', reason: 'its name is the root itself' };
  if ('unsafe' in name) {
    const reason = `its name ${name.unsafe}`;
    return name.path === undefined ? { errno: 'EINVAL', reason } : { errno: 'EINVAL', reason, path: name.path };
  }
  const path = name.path;
  if (type === undefined) {
    const what = typeNames[flag] ?? `an unknown type ${describeValue(flag)}`;
    return { errno: 'ENOTSUP', reason: `its type '${flag}' (${what}) is not supported`, path };
  }
  if (isSparse(member.pending.pax) || isSparse(member.global))
    return { errno: 'ENOTSUP', reason: 'it is a pax-format GNU sparse file, which is not supported', path };
  if (member.pending.defect !== undefined) return { errno: 'EIO', reason: member.pending.defect, path };
  const mode = numberOf(member.block.subarray(100, 108), false);
  if (typeof mode === 'string') return { errno: 'EIO', reason: `its mode field is ${mode}`, path };
  const mtimeMs = mtimeOf(member);
  if (typeof mtimeMs === 'string') return { errno: 'EIO', reason: mtimeMs, path };
  const { dataOffset, start: headerOffset } = member;
  if (type === 'file' || type === 'directory') {
    const size = type === 'file' ? member.size : 0;
    return { path, type, size, dataOffset, mode: mode & 0o7777, mtimeMs, headerOffset };
  }
  let linkTarget = linkOf(member);
  if (linkTarget.includes('\0')) return { errno: 'EINVAL', reason: 'its link target contains a NUL character', path };
  if (type === 'hardlink') {
    const target = normalizeTarName(linkTarget);
    if (!('path' in target) || 'unsafe' in target)
      return { errno: 'EINVAL', reason: `its hard link target ${describeValue(linkTarget)} is not a safe name`, path };
    linkTarget = target.path;
  }
  return { path, type, size: 0, dataOffset, linkTarget, mode: mode & 0o7777, mtimeMs, headerOffset };
}

/** One pass over the headers; see {@link scanTar}. */
class Scanner {
  readonly entries: TarEntry[] = [];
  readonly problems: TarProblem[] = [];
  #offset = 0;
  #members = 0;
  #pending: Pending = {};
  readonly #global = new Map<string, string>();

  constructor(
    private readonly readAt: ReadAt,
    private readonly imageBytes: number,
  ) {}

  async run(): Promise<void> {
    // Each step moves the offset on by at least one block, or stops: the scan ends on any input.
    for (;;) {
      const before = this.#offset;
      if (!(await this.#step())) return;
      assert(this.#offset >= before + tarBlockBytes, 'a tar scan step moves on by a block at least');
    }
  }

  /** Reads `length` bytes at `offset` (in pieces of at most {@link extendedReadBytes}); short at the end. */
  async #read(offset: number, length: number): Promise<Uint8Array> {
    if (length <= extendedReadBytes) {
      const piece = await this.readAt(offset, length);
      if (piece.length >= length) return piece.length === length ? piece : piece.subarray(0, length);
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const piece = await this.readAt(offset + filled, Math.min(extendedReadBytes, length - filled));
      const take = Math.min(piece.length, length - filled);
      out.set(piece.subarray(0, take), filled);
      filled += take;
      if (take === 0) break;
    }
    return filled === length ? out : out.subarray(0, filled);
  }

  #problem(problem: Omit<TarProblem, 'fatal'>, fatal: boolean): boolean {
    const { path, ...rest } = problem;
    this.problems.push(path === undefined ? { ...rest, fatal } : { ...rest, path, fatal });
    return !fatal;
  }

  /** A fatal problem of the member `name` at `offset` (`at offset N` when it has no name). */
  #stop(name: string | undefined, offset: number, errno: TarProblemErrno, reason: string): false {
    const normalized = name === undefined ? undefined : normalizeTarName(name);
    const path = normalized !== undefined && 'path' in normalized ? normalized.path : undefined;
    const entry = name === undefined || name === '' ? `at offset ${offset}` : name;
    this.#problem(path === undefined ? { entry, offset, errno, reason } : { entry, path, offset, errno, reason }, true);
    return false;
  }

  /** The name the pending extended headers give the next member, if any. */
  #pendingName(): string | undefined {
    return paxValue({ pending: this.#pending, global: this.#global }, 'path') ?? this.#pending.longName;
  }

  async #step(): Promise<boolean> {
    const at = this.#offset;
    const pendingStart = this.#pending.start ?? at;
    // The end of the image on a header boundary ends the archive, as GNU tar allows; so do zero blocks.
    if (at >= this.imageBytes && this.#pending.start === undefined) return false;
    const block = at + tarBlockBytes <= this.imageBytes ? await this.#read(at, tarBlockBytes) : undefined;
    if (block === undefined || block.length < tarBlockBytes) {
      const reason = `truncated: the image ends at byte ${this.imageBytes}, inside the header at offset ${at}`;
      return this.#stop(this.#pendingName(), pendingStart, 'EIO', reason);
    }
    if (isZero(block)) {
      if (this.#pending.start === undefined) return false;
      const reason = `truncated: its extended header at offset ${pendingStart} is followed by the end of the archive`;
      return this.#stop(this.#pendingName(), pendingStart, 'EIO', reason);
    }
    if (!checksumMatches(block))
      return this.#stop(undefined, at, 'EIO', `the header at offset ${at} has a bad checksum (a damaged image)`);
    const flag = String.fromCharCode(block[156]!);
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') return this.#extended(block, at, flag);
    return this.#member(block, at);
  }

  /** The size of the member whose header is `block`: the pax `size` when given, else the size field. */
  #sizeOf(block: Uint8Array, pending: Pending): number | string {
    const pax = paxValue({ pending, global: this.#global }, 'size');
    if (pax === undefined) {
      const size = numberOf(block.subarray(124, 136), false);
      return typeof size === 'string' ? `its size field is ${size}` : size;
    }
    const size = Number(pax);
    if (!/^\d+$/.test(pax) || !Number.isSafeInteger(size)) return `its pax size ${describeValue(pax)} is not a size`;
    return size;
  }

  async #extended(block: Uint8Array, at: number, flag: 'x' | 'g' | 'L' | 'K'): Promise<boolean> {
    // A global header belongs to no member: it does not start the next one.
    if (flag !== 'g') this.#pending.start ??= at;
    const start = this.#pending.start ?? at;
    // Its own size field only: pax `size` values are for the member, never for another header.
    const size = numberOf(block.subarray(124, 136), false);
    if (typeof size === 'string')
      return this.#stop(undefined, at, 'EIO', `the size field of the extended header at offset ${at} is ${size}`);
    if (size > tarPaxHeaderBytesMax) {
      const reason = `its extended header at offset ${at} has ${size} bytes, more than ${tarPaxHeaderBytesMax}`;
      return this.#stop(this.#pendingName(), start, 'EIO', reason);
    }
    const dataAt = at + tarBlockBytes;
    const data = dataAt + size <= this.imageBytes ? await this.#read(dataAt, size) : undefined;
    if (data === undefined || data.length < size) {
      const reason = `truncated: its extended header at offset ${at} runs past the end of the image (${this.imageBytes} bytes)`;
      return this.#stop(this.#pendingName(), start, 'EIO', reason);
    }
    this.#offset = dataAt + roundUp(size);
    if (flag === 'L') this.#pending.longName = textOf(data);
    else if (flag === 'K') this.#pending.longLink = textOf(data);
    else {
      const records = parsePaxRecords(data);
      if (typeof records === 'string') {
        const reason = `its pax header at offset ${at} is malformed: ${records}`;
        if (flag === 'x') this.#pending.defect = reason;
        else this.#problem({ entry: `at offset ${at}`, offset: at, errno: 'EIO', reason }, false);
      } else if (flag === 'x') this.#pending.pax = new Map([...(this.#pending.pax ?? []), ...records]);
      else {
        // An empty value in a global header removes the keyword (POSIX pax).
        for (const [key, value] of records) {
          if (value === '') this.#global.delete(key);
          else this.#global.set(key, value);
        }
      }
    }
    return true;
  }

  async #member(block: Uint8Array, at: number): Promise<boolean> {
    const pending = this.#pending;
    this.#pending = {};
    const start = pending.start ?? at;
    const pax = { pending, global: this.#global };
    // A pax-format GNU sparse member is stored under a made-up name; its own name is in GNU.sparse.name.
    const name = paxValue(pax, 'GNU.sparse.name') ?? paxValue(pax, 'path') ?? pending.longName ?? headerName(block);
    if (++this.#members > tarEntriesMax)
      return this.#stop(name, start, 'EIO', `the image has more than ${tarEntriesMax} members`);
    const size = this.#sizeOf(block, pending);
    if (typeof size === 'string') return this.#stop(name, start, 'EIO', `${size}: the next header cannot be found`);
    let dataOffset = at + tarBlockBytes;
    // An old GNU sparse member may carry extension blocks of its sparse map before its data.
    for (let extended = block[156] === 0x53 && block[482] !== 0; extended; dataOffset += tarBlockBytes) {
      const extension =
        dataOffset + tarBlockBytes <= this.imageBytes ? await this.#read(dataOffset, tarBlockBytes) : undefined;
      if (extension === undefined || extension.length < tarBlockBytes)
        return this.#stop(name, start, 'EIO', `truncated: its sparse map runs past the end of the image`);
      extended = extension[504] !== 0;
    }
    // A directory's size field is ignored (no data follows it), as GNU tar does.
    const skip = block[156] === 0x35 ? 0 : size;
    if (dataOffset + skip > this.imageBytes) {
      const reason = `truncated: its ${skip} bytes of data at offset ${dataOffset} run past the end of the image (${this.imageBytes} bytes)`;
      return this.#stop(name, start, 'EIO', reason);
    }
    this.#offset = dataOffset + roundUp(skip);
    const verdict = classify({ block, start, name, size, dataOffset, pending, global: this.#global });
    if (verdict === null) return true;
    if ('type' in verdict) {
      this.entries.push(verdict);
      return true;
    }
    const entry = name === '' ? `at offset ${start}` : name;
    return this.#problem({ entry, offset: start, ...verdict }, false);
  }
}

/**
 * Lists the members of the tar image of `imageBytes` bytes that `readAt` reads: headers only, a block
 * at a time. Every defect of the image is a {@link TarProblem}; it rejects only when `readAt` does,
 * with that error unchanged. The archive ends at a zero block or at the end of the image on a header
 * boundary (missing end-of-archive blocks are no problem, as GNU tar allows).
 */
export async function scanTar(readAt: ReadAt, imageBytes: number): Promise<TarScan> {
  assert(Number.isSafeInteger(imageBytes) && imageBytes >= 0, `scanTar: imageBytes ${imageBytes} is not a size`);
  const scanner = new Scanner(readAt, imageBytes);
  await scanner.run();
  return { entries: scanner.entries, problems: scanner.problems, imageBytes };
}
