// The path index of a tar image: the tree that `scanTar`'s members make, with path resolution as a
// POSIX kernel does it (every component, symlinks followed, `..` applied to the directory reached,
// a bound on symlink hops over the whole resolution) and the image's problems answered at their paths.
//
// Building follows tar extraction: members apply in archive order and a later member replaces an
// earlier one at the same path (a directory member over a directory only updates its mode and time,
// keeping its children); missing parent directories are made implicitly (mode 0o755, time 0), and a
// file or symlink standing where a later member needs a directory is replaced by one. A hardlink is
// resolved when it is met, to what its target is at that point of the archive.
import { assert, describeValue, type FosError } from '@fos/base';
import { fsError } from './errors.js';
import { fsPathBytesMax, fsSymlinkHopsMax } from './limits.js';
import type { TarEntry, TarProblem, TarScan } from './tar.js';

/** What a path of the image is. */
export type FsNodeType = 'file' | 'directory' | 'symlink';

/** What `stat` says of a path. */
export interface FsStat {
  /** The path reached (symlinks resolved as far as asked), normalized; '' for the root. */
  readonly path: string;
  readonly type: FsNodeType;
  /** Bytes of a file; the UTF-8 bytes of a symlink's target (as Linux's `lstat`); 0 for a directory. */
  readonly size: number;
  /** The permission bits (at most 0o7777), without the file-type bits. */
  readonly mode: number;
  /** Modification time in milliseconds since the epoch; 0 for an implicit directory. */
  readonly mtimeMs: number;
}

/** A regular file of the image: where its bytes lie. */
export interface FsFile {
  /** The file's own path (symlinks resolved). */
  readonly path: string;
  readonly size: number;
  /** Byte offset of the data in the image. */
  readonly dataOffset: number;
  readonly mode: number;
  readonly mtimeMs: number;
}

interface FileNode {
  readonly kind: 'file';
  readonly size: number;
  readonly dataOffset: number;
  readonly mode: number;
  readonly mtimeMs: number;
}

interface SymlinkNode {
  readonly kind: 'symlink';
  readonly target: string;
  readonly mode: number;
  readonly mtimeMs: number;
}

interface DirectoryNode {
  readonly kind: 'directory';
  mode: number;
  mtimeMs: number;
  readonly children: Map<string, Node>;
  /** The children's names in code-unit order, set once the index is built. */
  sorted: readonly string[];
}

type Node = FileNode | SymlinkNode | DirectoryNode;

/** Mode of a directory no member of the image describes. */
const implicitDirectoryMode = 0o755;

function directory(mode = implicitDirectoryMode, mtimeMs = 0): DirectoryNode {
  return { kind: 'directory', mode, mtimeMs, children: new Map(), sorted: [] };
}

/** The components of a path: empty ones and '.' dropped ('..' kept: it is applied while walking). */
function componentsOf(path: string): string[] {
  return path.split('/').filter((part) => part !== '' && part !== '.');
}

function quoted(path: string): string {
  return describeValue(path);
}

/** Bytes of `text` in UTF-8, counted without encoding it. */
function utf8Bytes(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0)!;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** Checks a path argument: a string of at most {@link fsPathBytesMax} UTF-8 bytes, without NUL. */
function checkPath(path: unknown, what: string): string {
  if (typeof path !== 'string')
    throw fsError('EINVAL', `${what}: the path must be a string, got ${describeValue(path)}`, undefined, path);
  if (path.includes('\0')) throw fsError('EINVAL', `${what}: the path ${quoted(path)} contains a NUL character`, path);
  if (path.length > fsPathBytesMax || utf8Bytes(path) > fsPathBytesMax)
    throw fsError(
      'EINVAL',
      `${what}: the path ${quoted(path)} is longer than fsPathBytesMax (${fsPathBytesMax} bytes)`,
      path,
    );
  return path;
}

/** Builds the tree from the members, in archive order. */
class TreeBuilder {
  readonly root = directory();
  readonly problems: TarProblem[] = [];

  constructor(private readonly imageBytes: number) {}

  add(entry: TarEntry): void {
    if (entry.path.length > fsPathBytesMax / 4 && utf8Bytes(entry.path) > fsPathBytesMax) {
      // No path argument can name it (they are refused past fsPathBytesMax), and its directories
      // would cost memory for nothing.
      const reason = `its path is longer than fsPathBytesMax (${fsPathBytesMax} bytes)`;
      this.problems.push({ entry: entry.path, offset: entry.headerOffset, errno: 'EINVAL', reason, fatal: false });
      return;
    }
    const parts = componentsOf(entry.path);
    const name = parts.pop();
    if (name === undefined || name === '..' || parts.includes('..')) return; // never made by scanTar
    let parent = this.root;
    for (const part of parts) {
      let child = parent.children.get(part);
      if (child?.kind !== 'directory') {
        child = directory();
        parent.children.set(part, child);
      }
      parent = child;
    }
    const existing = parent.children.get(name);
    const node = this.#nodeOf(entry, existing);
    if (node === existing) return;
    if (node !== undefined) parent.children.set(name, node);
    else if (existing?.kind !== 'directory') parent.children.delete(name);
  }

  /** The node `entry` makes, `existing` when it only updates it, undefined for a broken hardlink. */
  #nodeOf(entry: TarEntry, existing: Node | undefined): Node | undefined {
    const { mode, mtimeMs } = entry;
    switch (entry.type) {
      case 'directory':
        if (existing?.kind !== 'directory') return directory(mode, mtimeMs);
        existing.mode = mode;
        existing.mtimeMs = mtimeMs;
        return existing;
      case 'file':
        if (entry.dataOffset + entry.size > this.imageBytes)
          return this.#broken(entry, `its data runs past the end of the image (${this.imageBytes} bytes)`);
        return { kind: 'file', size: entry.size, dataOffset: entry.dataOffset, mode, mtimeMs };
      case 'symlink':
        return { kind: 'symlink', target: entry.linkTarget ?? '', mode, mtimeMs };
      case 'hardlink': {
        // The same inode as its target: the file (or symlink) that is at the target's path now.
        const target = this.#literal(entry.linkTarget ?? '');
        if (target !== undefined && target.kind !== 'directory') return target;
        const what = target === undefined ? 'is not in the image' : 'is a directory';
        return this.#broken(entry, `its hard link target ${quoted(entry.linkTarget ?? '')} ${what}`);
      }
    }
  }

  #broken(entry: TarEntry, reason: string): undefined {
    const { path, headerOffset: offset } = entry;
    this.problems.push({ entry: path, path, offset, errno: 'EIO', reason, fatal: false });
    return undefined;
  }

  /** The node at `path` as written (no symlink followed), if any. */
  #literal(path: string): Node | undefined {
    let node: Node = this.root;
    for (const part of componentsOf(path)) {
      if (node.kind !== 'directory') return undefined;
      const child: Node | undefined = node.children.get(part);
      if (child === undefined) return undefined;
      node = child;
    }
    return node === this.root ? undefined : node;
  }
}

/** Where a resolution ended: the normalized path reached and its node. */
interface Reached {
  readonly path: string;
  readonly node: Node;
}

/**
 * The index of one tar image: path resolution, `stat`, `readdir` and `openFile` over the members
 * {@link scanTar} listed. Immutable once built; every error is a `FosError` from {@link fsError}
 * that names the path asked for.
 */
export class ImageIndex {
  /** Every problem of the image: the scan's, then the broken hardlinks found while building. */
  readonly problems: readonly TarProblem[];
  /** Regular files (hardlinks included, one per path). */
  readonly files: number;
  /** Directories, implicit ones included, the root not counted. */
  readonly directories: number;
  readonly #root: DirectoryNode;
  readonly #problemAt: ReadonlyMap<string, TarProblem>;

  private constructor(root: DirectoryNode, problems: readonly TarProblem[]) {
    this.#root = root;
    this.problems = problems;
    const problemAt = new Map<string, TarProblem>();
    for (const problem of problems) if (problem.path !== undefined) problemAt.set(problem.path, problem);
    this.#problemAt = problemAt;
    let files = 0;
    let directories = 0;
    for (const { node } of walk(root)) {
      if (node.kind === 'file') files++;
      else if (node.kind === 'directory') {
        directories++;
        node.sorted = [...node.children.keys()].sort();
      }
    }
    this.files = files;
    this.directories = directories - 1;
  }

  /** The index of the members and problems of `scan`. Never throws on what a scan holds. */
  static fromScan(scan: TarScan): ImageIndex {
    const builder = new TreeBuilder(scan.imageBytes);
    for (const entry of scan.entries) builder.add(entry);
    return new ImageIndex(builder.root, [...scan.problems, ...builder.problems]);
  }

  /**
   * Resolves `path` following symlinks (every component, and the last one too unless `followLast` is
   * false; a trailing '/' always follows it and asks for a directory). Relative symlink targets
   * resolve against the link's directory, absolute ones against the image root; '..' never goes
   * above the root. `ENOENT` for a missing component, `ENOTDIR` for a non-directory used as one,
   * `ELOOP` past {@link fsSymlinkHopsMax} symlinks, `EINVAL` for a bad path; the errno of the image's
   * problem where a damaged or refused member stands at the path.
   */
  resolve(path: string, options?: { readonly followLast?: boolean }): { readonly path: string; readonly stat: FsStat } {
    const reached = this.#walk(checkPath(path, 'resolve'), options?.followLast !== false);
    return { path: reached.path, stat: statOf(reached) };
  }

  /** The regular file at `path` (symlinks followed); `EISDIR` for a directory. */
  openFile(path: string): FsFile {
    const reached = this.#walk(checkPath(path, 'open'), true);
    const { node } = reached;
    if (node.kind === 'directory') throw fsError('EISDIR', `${quoted(path)} is a directory`, path);
    assert(node.kind === 'file', 'a resolution that follows the last symlink ends at a file or a directory');
    return { path: reached.path, size: node.size, dataOffset: node.dataOffset, mode: node.mode, mtimeMs: node.mtimeMs };
  }

  /** What `path` is, symlinks followed (as `fs.stat`). */
  stat(path: string): FsStat {
    return statOf(this.#walk(checkPath(path, 'stat'), true));
  }

  /** What `path` is, its last component not followed (as `fs.lstat`). */
  lstat(path: string): FsStat {
    return statOf(this.#walk(checkPath(path, 'lstat'), false));
  }

  /**
   * The names in the directory at `path`, in code-unit order: those after `after` (when given), at
   * most `limit` of them (default all); `done` when no more follow. `ENOTDIR` for a non-directory,
   * `EINVAL` for an `after` that is not a string or a `limit` that is not an integer >= 1.
   */
  readdir(path: string, after?: string, limit?: number): { readonly names: readonly string[]; readonly done: boolean } {
    checkPath(path, 'readdir');
    if (after !== undefined && typeof after !== 'string')
      throw fsError('EINVAL', `readdir ${quoted(path)}: after must be a string, got ${describeValue(after)}`, path);
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit < 1))
      throw fsError(
        'EINVAL',
        `readdir ${quoted(path)}: limit must be an integer >= 1, got ${describeValue(limit)}`,
        path,
      );
    const { node } = this.#walk(path, true);
    if (node.kind !== 'directory') throw fsError('ENOTDIR', `${quoted(path)} is not a directory`, path);
    const sorted = node.sorted;
    let start = 0;
    if (after !== undefined) {
      // The first name greater than `after` (binary search: `after` need not be a name of the directory).
      let end = sorted.length;
      while (start < end) {
        const middle = (start + end) >>> 1;
        if (sorted[middle]! <= after) start = middle + 1;
        else end = middle;
      }
    }
    const names = sorted.slice(start, limit === undefined ? undefined : start + limit);
    return { names, done: start + names.length >= sorted.length };
  }

  /** The paths of every regular file (hardlinks included), sorted by code units: for tests and benchmarks. */
  *allFiles(): Generator<string> {
    const paths: string[] = [];
    for (const { path, node } of walk(this.#root)) if (node.kind === 'file') paths.push(path);
    yield* paths.sort();
  }

  /** The resolution of {@link resolve}: the path reached and its node. */
  #walk(asked: string, followLast: boolean): Reached {
    const wantDirectory = /(^|\/)\.?$/.test(asked) && asked !== '';
    const follow = followLast || wantDirectory;
    const pending = componentsOf(asked).reverse();
    const names: string[] = [];
    const dirs: DirectoryNode[] = [this.#root];
    let hops = 0;
    let reached: Reached | undefined;
    while (pending.length > 0) {
      const name = pending.pop()!;
      if (name === '..') {
        if (names.length > 0) {
          names.pop();
          dirs.pop();
        }
        continue;
      }
      const child = dirs.at(-1)!.children.get(name);
      if (child === undefined) throw this.#missing(asked, names, name, pending);
      const last = pending.length === 0;
      if (child.kind === 'symlink' && (!last || follow)) {
        if (++hops > fsSymlinkHopsMax)
          throw fsError(
            'ELOOP',
            `too many symbolic links (more than fsSymlinkHopsMax, ${fsSymlinkHopsMax}) resolving ${quoted(asked)}`,
            asked,
          );
        if (utf8Bytes(child.target) > fsPathBytesMax)
          throw fsError(
            'EIO',
            `the symbolic link ${quoted([...names, name].join('/'))} on the way to ${quoted(asked)} has a target longer than fsPathBytesMax (${fsPathBytesMax} bytes)`,
            asked,
          );
        if (child.target === '')
          throw fsError(
            'ENOENT',
            `the symbolic link ${quoted([...names, name].join('/'))} on the way to ${quoted(asked)} has an empty target`,
            asked,
          );
        if (child.target.startsWith('/')) {
          names.length = 0;
          dirs.length = 1;
        }
        pending.push(...componentsOf(child.target).reverse());
        continue;
      }
      if (last) {
        reached = { path: [...names, name].join('/'), node: child };
        break;
      }
      if (child.kind !== 'directory')
        throw fsError(
          'ENOTDIR',
          `${quoted([...names, name].join('/'))} on the way to ${quoted(asked)} is not a directory`,
          asked,
        );
      names.push(name);
      dirs.push(child);
    }
    reached ??= { path: names.join('/'), node: dirs.at(-1)! };
    if (wantDirectory && reached.node.kind !== 'directory')
      throw fsError('ENOTDIR', `${quoted(asked)} ends in '/' but ${quoted(reached.path)} is not a directory`, asked);
    return reached;
  }

  /**
   * The error for a missing component `name` under `names`: the problem of the image at that path
   * (or at the whole path asked for, whose parents a refused member may not have made), else ENOENT.
   */
  #missing(asked: string, names: readonly string[], name: string, pending: readonly string[]): FosError {
    const here = [...names, name].join('/');
    const rest = [...pending].reverse();
    const whole = rest.includes('..') ? undefined : [here, ...rest].join('/');
    const problem = (whole === undefined ? undefined : this.#problemAt.get(whole)) ?? this.#problemAt.get(here);
    if (problem === undefined)
      return fsError('ENOENT', `no such file or directory: ${quoted(asked)} (no ${quoted(here)} in the image)`, asked);
    const where = `entry ${quoted(problem.entry)} of the image at offset ${problem.offset}`;
    return fsError(problem.errno, `${quoted(asked)}: ${where}: ${problem.reason}`, asked);
  }
}

function statOf({ path, node }: Reached): FsStat {
  const size = node.kind === 'file' ? node.size : node.kind === 'symlink' ? utf8Bytes(node.target) : 0;
  return { path, type: node.kind, size, mode: node.mode, mtimeMs: node.mtimeMs };
}

/** Every node under `root` (itself included) with its path, depth first, without recursion. */
function* walk(root: DirectoryNode): Generator<Reached> {
  const stack: Reached[] = [{ path: '', node: root }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    yield next;
    if (next.node.kind !== 'directory') continue;
    const prefix = next.path === '' ? '' : `${next.path}/`;
    for (const [name, node] of next.node.children) stack.push({ path: `${prefix}${name}`, node });
  }
}
