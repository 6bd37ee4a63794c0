// The libfos fs component (§4.1): a process's way to the file-system fleet, with a cache of its own,
// separate from the messaging name cache. `open` asks the name service afresh which member of the fleet
// to use (the mapping refreshed at every open, so opens spread over the members by weight and
// locality) and keeps that member for that open file: one entry per open file. Every later request of
// the file goes to that member. When the member goes away (it left the fleet, it crashed), the file is
// opened again at another member and the request repeated: files are read-only, so a repeat is safe.
import { Readable } from 'node:stream';
import { describeValue, FosError, isFosError, restoreErrno, type MessageBody } from '@fos/base';
import { callTimeoutMsMax } from '@fos/dispatcher';
import type { Libfos, LookupResult } from '@fos/libfos-messaging';
import { z } from 'zod';
import { errnoOf, fsError, fsErrnoCodes, isFsErrno } from './errors.js';
import {
  fsOpenFilesPerClientMax,
  fsPathBytesMax,
  fsReadBytesMax,
  fsReopenAttemptsMax,
  fsStreamChunkBytes,
} from './limits.js';
import {
  parseRequest,
  type FsOpenResult,
  type FsReaddirResult,
  type FsReadResult,
  type FsRequest,
  type FsStatResult,
} from './protocol.js';

/** The indirect name of the file-system fleet. */
export const fsFleetName = '/sys/fs';
/** Name-service hops from the fleet's name to one member's direct name. */
export const fsMemberHopsMax = 8;
/** Reads one `readFile` keeps in flight. */
export const fsReadFileInFlight = 4;

/** What {@link FosFs} takes. */
export interface FosFsOptions {
  /** The fleet's indirect name (default {@link fsFleetName}). */
  readonly fleet?: string;
  /** Files open at once, at most {@link fsOpenFilesPerClientMax} (the default). */
  readonly openFilesMax?: number;
  /** Timeout of one request to a member (default: the dispatcher's). */
  readonly timeoutMs?: number;
}

const fosFsOptionsSchema = z.strictObject({
  fleet: z.string().min(1).max(255).optional(),
  openFilesMax: z.number().int().min(1).max(fsOpenFilesPerClientMax).optional(),
  timeoutMs: z.number().int().min(1).max(callTimeoutMsMax).optional(),
});

/** Counters of a {@link FosFs}. */
export interface FosFsStats {
  /** Opens that reached a member. */
  readonly opens: number;
  /** Files opened again at another member because theirs went away. */
  readonly reopens: number;
  /** Read requests a member answered. */
  readonly reads: number;
  /** Reads answered from the head of the file the open carried (no round trip). */
  readonly readsFromHead: number;
  /** Name-service lookups made to pick a member. */
  readonly lookups: number;
  /** Opens per member name. */
  readonly byMember: Readonly<Record<string, number>>;
}

/** What `read` answers, as `node:fs`'s `FileHandle.read` does. */
export interface FosReadResult {
  readonly bytesRead: number;
  readonly buffer: Uint8Array;
}

type OpenState = {
  path: string;
  member: string;
  handle: number;
  size: number;
  /** The file's first bytes, as the open answered them: reads inside them stay here. */
  head: Uint8Array;
  closed: boolean;
};

/**
 * A process's file system: the fs component of libfos over one fleet. Errors are `FosError`s whose
 * `details.errno` is the code a `node:fs` user expects (`ENOENT`, `ENOTDIR`, `EISDIR`, `EBADF`,
 * `EMFILE`, `ELOOP`, `EINVAL`, `EIO`, `ENOTSUP`) and `details.path` the path.
 *
 * @example
 * const fs = new FosFs(libfos);
 * const readme = new TextDecoder().decode(await fs.readFile('/README.md'));
 */
export class FosFs {
  readonly #libfos: Libfos;
  readonly #fleet: string;
  readonly #openFilesMax: number;
  readonly #timeoutMs: number | undefined;
  readonly #files = new Map<number, OpenState>();
  #nextFd = 3;
  #opens = 0;
  #reopens = 0;
  #reads = 0;
  #readsFromHead = 0;
  #lookups = 0;
  readonly #byMember: Record<string, number> = {};

  /** @throws BAD_REQUEST for options it cannot honour, naming the option */
  constructor(libfos: Libfos, options: FosFsOptions = {}) {
    const valid = parseRequest('FosFs', fosFsOptionsSchema, options as MessageBody);
    this.#libfos = libfos;
    this.#fleet = valid.fleet ?? fsFleetName;
    this.#openFilesMax = valid.openFilesMax ?? fsOpenFilesPerClientMax;
    this.#timeoutMs = valid.timeoutMs;
  }

  /** Files open now. */
  get openFiles(): number {
    return this.#files.size;
  }

  stats(): FosFsStats {
    return {
      opens: this.#opens,
      reopens: this.#reopens,
      reads: this.#reads,
      readsFromHead: this.#readsFromHead,
      lookups: this.#lookups,
      byMember: { ...this.#byMember },
    };
  }

  /**
   * Opens a file for reading at one member of the fleet, picked afresh by the name service.
   * @throws ENOENT, ENOTDIR, EISDIR, ELOOP, EINVAL, EIO, ENOTSUP (as `details.errno`); EMFILE past `openFilesMax`
   */
  open(path: string): Promise<FosFileHandle> {
    return this.parked(() => this.#open(path));
  }

  async #open(path: string): Promise<FosFileHandle> {
    checkPath('open', path);
    if (this.#files.size >= this.#openFilesMax)
      throw fsError(
        'EMFILE',
        `this process holds ${this.#files.size} open files (openFilesMax ${this.#openFilesMax}); ${describeValue(path)} was not opened`,
        path,
      );
    const fd = this.#nextFd++;
    // Reserved before the first await, so that concurrent opens count against the limit.
    const state: OpenState = { path, member: '', handle: 0, size: 0, head: new Uint8Array(0), closed: false };
    this.#files.set(fd, state);
    try {
      await this.#openAt(state, false);
    } catch (error) {
      this.#files.delete(fd);
      throw error;
    }
    return new FosFileHandle(this, fd, path);
  }

  /** The whole file, read with {@link fsReadFileInFlight} requests in flight. */
  readFile(path: string): Promise<Uint8Array> {
    return this.parked(() => this.#readFile(path));
  }

  async #readFile(path: string): Promise<Uint8Array> {
    const handle = await this.#open(path);
    try {
      return await handle.readAll();
    } finally {
      await this.close(handle.fd);
    }
  }

  /** Metadata of `path`, following a symbolic link at its end. */
  async stat(path: string): Promise<FsStatResult> {
    checkPath('stat', path);
    return (await this.parked(() => this.#stateless({ op: 'stat', path }, path))) as FsStatResult;
  }

  /** Metadata of `path` itself, a symbolic link included. */
  async lstat(path: string): Promise<FsStatResult> {
    checkPath('lstat', path);
    return (await this.parked(() => this.#stateless({ op: 'stat', path, lstat: true }, path))) as FsStatResult;
  }

  /** The names in a directory, sorted (asked page by page). */
  readdir(path: string): Promise<string[]> {
    return this.parked(() => this.#readdir(path));
  }

  async #readdir(path: string): Promise<string[]> {
    checkPath('readdir', path);
    const names: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = (await this.#stateless(
        after === undefined ? { op: 'readdir', path } : { op: 'readdir', path, after },
        path,
      )) as FsReaddirResult;
      names.push(...page.names);
      if (page.done || page.names.length === 0) return names;
      after = page.names[page.names.length - 1];
    }
  }

  /** A Node `Readable` of the file's bytes, from `start` (default 0) to `end` inclusive (default: the end). */
  createReadStream(path: string, options: { start?: number; end?: number } = {}): Readable {
    const chunks = async function* (open: () => Promise<FosFileHandle>) {
      const handle = await open();
      try {
        yield* handle.chunks(options.start ?? 0, options.end);
      } finally {
        await handle.close();
      }
    };
    return Readable.from(
      chunks(() => this.open(path)),
      { objectMode: false },
    );
  }

  // ---- for FosFileHandle ---------------------------------------------------------------------------------

  /**
   * @internal Runs `body` as one dispatcher operation when called from a dispatcher thread (a
   * service's request handler reading files): such a thread may park only in dispatcher operations.
   * Every request inside runs in a thread of its own.
   */
  parked<T>(body: () => Promise<T>): Promise<T> {
    const thread = this.#libfos.dispatcher.currentThread;
    return thread === undefined ? body() : thread.waitFor(body());
  }

  /** @internal */
  async readAt(fd: number, position: number, length: number): Promise<Uint8Array> {
    const state = this.#state(fd, 'read');
    const end = Math.min(position + Math.min(length, fsReadBytesMax), state.size);
    // Nothing at or past the end (the size came with the open; the image is read-only).
    if (position >= state.size) return new Uint8Array(0);
    if (end <= state.head.length) {
      this.#readsFromHead++;
      return state.head.slice(Math.min(position, end), end);
    }
    const bytes = (await this.#onMember(state, {
      op: 'read',
      handle: state.handle,
      offset: position,
      length: Math.min(length, fsReadBytesMax),
    })) as FsReadResult;
    this.#reads++;
    return bytes.bytes;
  }

  /** @internal */
  async fstat(fd: number): Promise<FsStatResult> {
    const state = this.#state(fd, 'stat');
    return (await this.#onMember(state, { op: 'fstat', handle: state.handle })) as FsStatResult;
  }

  /** @internal */
  sizeOf(fd: number): number {
    return this.#state(fd, 'readFile').size;
  }

  /** @internal */
  async close(fd: number): Promise<void> {
    const state = this.#state(fd, 'close');
    state.closed = true;
    this.#files.delete(fd);
    // One way: a close cannot fail at the member (the handle was checked here), so nothing waits for
    // its answer. A member that went away has forgotten the file already.
    await this.#libfos.dispatcher
      .spawnThread('fs-close', () => this.#libfos.send(state.member, { op: 'close', handle: state.handle }))
      .catch(() => undefined);
  }

  // ---- the member of a file, and going elsewhere ----------------------------------------------------------

  #state(fd: number, operation: string): OpenState {
    const state = this.#files.get(fd);
    if (state === undefined || state.closed)
      throw fsError('EBADF', `${operation}: file descriptor ${fd} is not open`, undefined, fd);
    return state;
  }

  /** Opens `state.path` at a member picked afresh (again after its member went away: `reopen`). */
  async #openAt(state: OpenState, reopen: boolean): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= fsReopenAttemptsMax; attempt++) {
      const member = await this.#pickMember(state.path);
      try {
        const opened = (await this.#call(member, { op: 'open', path: state.path }, state.path)) as FsOpenResult;
        state.member = member;
        state.handle = opened.handle;
        state.size = opened.stat.size;
        state.head = opened.head;
        this.#opens++;
        if (reopen) this.#reopens++;
        this.#byMember[member] = (this.#byMember[member] ?? 0) + 1;
        return;
      } catch (error) {
        if (!isMemberGone(error)) throw error;
        lastError = error;
      }
    }
    throw new FosError(
      'UNREACHABLE',
      `no member of ${this.#fleet} could open ${describeValue(state.path)} in ${fsReopenAttemptsMax + 1} attempts: ${(lastError as Error).message}`,
      { value: state.path, cause: lastError },
    );
  }

  /** A request about an open file at its member, reopening it elsewhere when the member went away. */
  async #onMember(state: OpenState, request: Extract<FsRequest, { handle: number }>): Promise<MessageBody> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#call(state.member, { ...request, handle: state.handle }, state.path);
      } catch (error) {
        // EBADF for a file this process holds open: its member forgot it (a full table). Read-only,
        // so opening it again is as good as going elsewhere.
        const forgotten = errnoOf(error) === 'EBADF';
        if (!(isMemberGone(error) || forgotten) || state.closed || attempt >= fsReopenAttemptsMax) throw error;
        await this.#openAt(state, true);
      }
    }
  }

  /** A request that needs no open file: through the messaging cache first, a fresh member if that one is gone. */
  async #stateless(request: FsRequest, path: string): Promise<MessageBody> {
    try {
      return await this.#call(this.#fleet, request, path);
    } catch (error) {
      if (!isMemberGone(error)) throw error;
    }
    let lastError: unknown;
    for (let attempt = 0; attempt < fsReopenAttemptsMax; attempt++) {
      try {
        return await this.#call(await this.#pickMember(path), request, path);
      } catch (error) {
        if (!isMemberGone(error)) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  /** Asks the name service which member to use: the fleet's mapping, refreshed (not from the cache). */
  async #pickMember(path: string): Promise<string> {
    let name = this.#fleet;
    for (let hop = 0; hop < fsMemberHopsMax; hop++) {
      this.#lookups++;
      let found: LookupResult;
      try {
        const asked = name;
        found = await this.#libfos.dispatcher.spawnThread('fs-lookup', () => this.#libfos.nameService.lookup(asked));
      } catch (error) {
        if (isFosError(error) && error.code === 'NO_SUCH_NAME')
          throw new FosError(
            'UNREACHABLE',
            `no file-system fleet is registered as ${name} (for ${describeValue(path)})`,
            {
              value: name,
              cause: error,
            },
          );
        throw error;
      }
      if (found.type === 'direct') return name;
      name = found.next;
    }
    throw new FosError('CYCLE', `${this.#fleet} does not lead to a member within ${fsMemberHopsMax} hops`, {
      value: this.#fleet,
    });
  }

  async #call(target: string, request: FsRequest, path: string): Promise<MessageBody> {
    try {
      const options = this.#timeoutMs === undefined ? undefined : { timeoutMs: this.#timeoutMs };
      // Every request in a dispatcher thread of its own: a file's reads may be in flight together.
      return await this.#libfos.dispatcher.spawnThread(
        'fs',
        async () => (await this.#libfos.call(target, { ...request }, options)).body,
      );
    } catch (error) {
      throw withErrno(error, path);
    }
  }
}

/** An open file, as `node:fs/promises`'s `FileHandle`. */
export class FosFileHandle {
  readonly #fs: FosFs;
  /** This process's number for the file (unique among its open files). */
  readonly fd: number;
  /** The path it was opened by. */
  readonly path: string;
  #position = 0;

  /** @internal Use {@link FosFs.open}. */
  constructor(fs: FosFs, fd: number, path: string) {
    this.#fs = fs;
    this.fd = fd;
    this.path = path;
  }

  /**
   * Reads up to `length` bytes at `position` into `buffer` at `offset`, as `FileHandle.read`: a null or
   * omitted position reads from the current position and moves it. 0 bytes at or past the end.
   * @throws EBADF when the handle is closed; EINVAL for a negative or fractional offset, length or position
   */
  async read(buffer: Uint8Array, offset = 0, length?: number, position: number | null = null): Promise<FosReadResult> {
    return this.#fs.parked(() => this.#read(buffer, offset, length, position));
  }

  async #read(
    buffer: Uint8Array,
    offset: number,
    asked: number | undefined,
    position: number | null,
  ): Promise<FosReadResult> {
    if (!(buffer instanceof Uint8Array))
      throw fsError('EINVAL', `read: the buffer ${describeValue(buffer)} is not a Uint8Array`, undefined, buffer);
    checkRange('read', 'offset', offset, buffer.length);
    const length = asked ?? buffer.length - offset;
    checkRange('read', 'length', length, buffer.length - offset);
    if (position !== null) checkRange('read', 'position', position, Number.MAX_SAFE_INTEGER);
    const from = position ?? this.#position;
    let bytesRead = 0;
    while (bytesRead < length) {
      const bytes = await this.#fs.readAt(this.fd, from + bytesRead, length - bytesRead);
      if (bytes.length === 0) break;
      buffer.set(bytes, offset + bytesRead);
      bytesRead += bytes.length;
    }
    if (position === null) this.#position += bytesRead;
    return { bytesRead, buffer };
  }

  /** The whole file (from the start, whatever the position). */
  readFile(): Promise<Uint8Array> {
    return this.#fs.parked(() => this.readAll());
  }

  /** @internal {@link readFile} outside {@link FosFs.parked}. */
  async readAll(): Promise<Uint8Array> {
    const size = this.#fs.sizeOf(this.fd);
    const out = new Uint8Array(size);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < size) {
        const position = next;
        next += fsReadBytesMax;
        const bytes = await this.#fs.readAt(this.fd, position, Math.min(fsReadBytesMax, size - position));
        out.set(bytes, position);
      }
    };
    await Promise.all(Array.from({ length: fsReadFileInFlight }, worker));
    return out;
  }

  /** Metadata of the open file. */
  stat(): Promise<FsStatResult> {
    return this.#fs.parked(() => this.#fs.fstat(this.fd));
  }

  /** Closes the file; a second close is `EBADF`. */
  close(): Promise<void> {
    return this.#fs.parked(() => this.#fs.close(this.fd));
  }

  /** A web `ReadableStream` of the file's bytes (as `FileHandle.readableWebStream`). */
  readableWebStream(): ReadableStream<Uint8Array> {
    const chunks = this.chunks(0, undefined);
    return new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const next = await chunks.next();
        if (next.done === true) controller.close();
        else controller.enqueue(next.value);
      },
      cancel: async () => {
        await chunks.return(undefined);
      },
    });
  }

  /** @internal The file's bytes from `start` to `end` inclusive, in chunks of {@link fsStreamChunkBytes}. */
  async *chunks(start: number, end: number | undefined): AsyncGenerator<Uint8Array, void, undefined> {
    checkRange('createReadStream', 'start', start, Number.MAX_SAFE_INTEGER);
    if (end !== undefined) checkRange('createReadStream', 'end', end, Number.MAX_SAFE_INTEGER);
    const stop = Math.min(end === undefined ? Number.MAX_SAFE_INTEGER : end + 1, this.#fs.sizeOf(this.fd));
    for (let position = start; position < stop;) {
      const bytes = await this.#fs.readAt(this.fd, position, Math.min(fsStreamChunkBytes, stop - position));
      if (bytes.length === 0) return;
      position += bytes.length;
      yield bytes;
    }
  }
}

/** Errors that say the member is gone or going (not the file's fault): the file is opened elsewhere. */
function isMemberGone(error: unknown): boolean {
  if (!isFosError(error) || isFsErrno(error.details.errno)) return false;
  return (
    error.code === 'SHUTDOWN' ||
    error.code === 'UNREACHABLE' ||
    error.code === 'TIMEOUT' ||
    error.code === 'NO_SUCH_NAME' ||
    error.code === 'INACTIVE'
  );
}

/** A member's file-system error, its `details.errno` restored and the caller's path put in. */
function withErrno(error: unknown, path: string): unknown {
  return restoreErrno(error, fsErrnoCodes, path);
}

function checkPath(operation: string, path: unknown): asserts path is string {
  if (typeof path !== 'string')
    throw fsError('EINVAL', `${operation}: the path ${describeValue(path)} is not a string`, undefined, path);
  // Checked here too, so that a path too long to send is EINVAL, as the member would answer.
  if (path.length > fsPathBytesMax && Buffer.byteLength(path) > fsPathBytesMax)
    throw fsError(
      'EINVAL',
      `${operation}: the path is longer than fsPathBytesMax (${fsPathBytesMax} bytes)`,
      undefined,
      path.length,
    );
}

function checkRange(operation: string, what: string, value: unknown, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw fsError(
      'EINVAL',
      `${operation}: ${what} ${describeValue(value)} must be an integer 0..${max}`,
      undefined,
      value,
    );
}
