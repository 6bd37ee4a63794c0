// A member of the read-only file-system fleet (/sys/fs/<n>, a destination of the indirect name
// /sys/fs). It shares nothing with the other members: it reads the tar image only through the block
// device server, builds its own index of it, keeps its own block cache and its own open files.
import { describeValue, FosError, type MessageBody } from '@fos/base';
import type { Thread } from '@fos/dispatcher';
import { createLibfos, type Libfos } from '@fos/libfos-messaging';
import {
  isCapability,
  validateCapability,
  type Capability,
  type MailboxLocation,
  type ProcessContext,
  type SenderIdentity,
} from '@fos/microkernel';
import { z } from 'zod';
import { BlockCache } from './block-cache.js';
import { fsError } from './errors.js';
import { ImageIndex, type FsFile, type FsStat } from './image-index.js';
import {
  fsBlockBytes,
  fsBlockCacheBlocksDefault,
  fsBlockCacheBlocksMax,
  fsOpenFilesPerMemberMax,
  fsOpenHeadBytes,
  fsReaddirPageMax,
} from './limits.js';
import {
  fsRequestSchema,
  parseRequest,
  type BlockDeviceInfo,
  type FsMemberInfo,
  type FsRequest,
  type FsStatResult,
} from './protocol.js';
import { scanTar } from './tar.js';

/** How long a leaving member answers `SHUTDOWN` (so callers reopen elsewhere) before it exits. */
export const fsLeaveGraceMs = 1000;

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');
const nameSchema = z.string().min(1).max(255);

const memberArgsSchema = z.strictObject({
  /** This member's direct name (`/sys/fs/<n>`). */
  member: nameSchema,
  /** The fleet's indirect name (`/sys/fs`). */
  fleet: nameSchema,
  /** The block device server's name (`/sys/blockdev/<id>`). */
  device: nameSchema,
  /** A namespace capability that covers both names; also what a `leave` request must present. */
  capability: capabilitySchema,
  /** Weight of this member in the fleet's indirect name (default 1). */
  weight: z.number().int().min(1).max(1000).optional(),
  /** Blocks of the block cache (default {@link fsBlockCacheBlocksDefault}). */
  cacheBlocks: z.number().int().min(1).max(fsBlockCacheBlocksMax).optional(),
  /** Open files this member keeps, at most {@link fsOpenFilesPerMemberMax} (the default). */
  openFilesMax: z.number().int().min(1).max(fsOpenFilesPerMemberMax).optional(),
});

/** What {@link fsMember} takes. */
export type FsMemberArgs = z.infer<typeof memberArgsSchema>;

/** What {@link fsMember} returns to its spawner. */
export type FsMemberResult = {
  readonly member: string;
  readonly location: MailboxLocation;
  readonly files: number;
  readonly directories: number;
  readonly problems: number;
};

type OpenFile = { readonly file: FsFile; readonly owner: string };

/**
 * A file-system member, as a process entry (`entry: 'fsMember'`, every fabric): asks the block device
 * what it holds, indexes the tar image through its block cache, registers `args.member` and adds it to
 * `args.fleet`, then serves `open`, `read`, `fstat`, `close`, `stat`, `readdir`, `info` and `leave`.
 */
export async function fsMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsed = parseRequest('fsMember', memberArgsSchema, args);
  const libfos = await createLibfos(context);
  const deviceInfo = checkedInfo(parsed.device, (await libfos.call(parsed.device, { op: 'info' })).body);
  const cache = new BlockCache(
    // Each device read runs in a dispatcher thread of its own: readers of one block share it.
    (block, count) =>
      libfos.dispatcher.spawnThread('block-read', async () => {
        const answer = (await libfos.call(parsed.device, { op: 'read', block, count })).body;
        const bytes = (answer as { bytes?: unknown } | null)?.bytes;
        if (!(bytes instanceof Uint8Array))
          throw new FosError('BAD_REQUEST', `the block device ${parsed.device} answered no bytes`, {
            value: parsed.device,
          });
        return bytes;
      }),
    parsed.cacheBlocks ?? fsBlockCacheBlocksDefault,
    deviceInfo.imageBytes,
  );
  const index = ImageIndex.fromScan(
    await scanTar((offset, length) => cache.readAt(offset, length), deviceInfo.imageBytes),
  );
  const server = new MemberServer(context, libfos, parsed, index, cache);
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: (request, thread) => server.handle(request.body, request.sender, thread) });
  const nameCapability = await libfos.aliasRegisterDirect(parsed.member, mailbox, parsed.capability);
  await libfos.aliasRegisterIndirect(parsed.fleet, parsed.member, parsed.capability, { weight: parsed.weight ?? 1 });
  server.registered(mailbox.location, nameCapability);
  const result: FsMemberResult = {
    member: parsed.member,
    location: mailbox.location,
    files: index.files,
    directories: index.directories,
    problems: index.problems.length,
  };
  return { ...result };
}

const deviceInfoSchema = z.object({
  blockBytes: z.literal(fsBlockBytes),
  imageBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  blocks: z.number().int().min(0),
});

/** What the block device says it holds, checked (a device of another block size cannot be read). */
function checkedInfo(device: string, body: MessageBody): BlockDeviceInfo {
  return parseRequest(`the answer of block device ${device}`, deviceInfoSchema, body);
}

/** The state of one member and its request handler. */
class MemberServer {
  /** Open files by handle, least recently used first. */
  readonly #open = new Map<number, OpenFile>();
  readonly #openFilesMax: number;
  #evicted = 0;
  #nextHandle = 1;
  #leaving = false;
  #location: MailboxLocation | undefined;
  #nameCapability: Capability | undefined;

  constructor(
    private readonly context: ProcessContext,
    private readonly libfos: Libfos,
    private readonly args: FsMemberArgs,
    private readonly index: ImageIndex,
    private readonly cache: BlockCache,
  ) {
    this.#openFilesMax = args.openFilesMax ?? fsOpenFilesPerMemberMax;
  }

  registered(location: MailboxLocation, nameCapability: Capability): void {
    this.#location = location;
    this.#nameCapability = nameCapability;
  }

  async handle(body: MessageBody, sender: SenderIdentity, thread: Thread): Promise<MessageBody> {
    if (this.#leaving)
      throw new FosError('SHUTDOWN', `fs member ${this.args.member} is leaving the fleet`, { value: this.args.member });
    const request = parseRequest(`fs member ${this.args.member}`, fsRequestSchema, body);
    // A dispatcher thread parks only in dispatcher operations: the answer (block reads, name-service
    // calls in threads of their own) is waited for as one.
    return thread.waitFor(this.#answer(request, `${sender.machine}/${sender.process}`));
  }

  async #answer(request: FsRequest, owner: string): Promise<MessageBody> {
    switch (request.op) {
      case 'open': {
        const file = this.index.openFile(request.path);
        // The head of the file travels with the answer: a small file is read without another round
        // trip. Short when the image is damaged there: a read past it asks and gets EIO.
        const head = await this.cache.readAt(file.dataOffset, Math.min(file.size, fsOpenHeadBytes));
        const handle = this.#nextHandle++;
        // A full table forgets the file used least recently (its client, if it still lives, opens it
        // again when told EBADF): a client that crashed holding files cannot fill a member up.
        if (this.#open.size >= this.#openFilesMax) {
          this.#open.delete(this.#open.keys().next().value as number);
          this.#evicted++;
        }
        this.#open.set(handle, { file, owner });
        return { handle, stat: fileStat(file), head };
      }
      case 'read': {
        const { file } = this.#own(request.handle, owner);
        if (request.offset >= file.size || request.length === 0) return { bytes: new Uint8Array(0) };
        const length = Math.min(request.length, file.size - request.offset);
        const bytes = await this.cache.readAt(file.dataOffset + request.offset, length);
        if (bytes.length !== length)
          throw fsError('EIO', `the image ends inside ${describeValue(file.path)}`, file.path);
        return { bytes };
      }
      case 'fstat': {
        const { file } = this.#own(request.handle, owner);
        return fileStat(file);
      }
      case 'close':
        this.#own(request.handle, owner);
        this.#open.delete(request.handle);
        return null;
      case 'stat':
        return statOf(request.lstat === true ? this.index.lstat(request.path) : this.index.stat(request.path));
      case 'readdir': {
        const page = this.index.readdir(request.path, request.after, fsReaddirPageMax);
        return { names: [...page.names], done: page.done };
      }
      case 'info': {
        const info: FsMemberInfo = {
          member: this.args.member,
          files: this.index.files,
          directories: this.index.directories,
          problems: this.index.problems.length,
          openFiles: this.#open.size,
          evicted: this.#evicted,
          cache: this.cache.stats(),
        };
        return { ...info, cache: { ...info.cache } };
      }
      case 'leave':
        return this.#leave(request.capability);
    }
  }

  /** The open file of `handle`, when this caller opened it; `EBADF` otherwise. */
  #own(handle: number, owner: string): OpenFile {
    const open = this.#open.get(handle);
    if (open === undefined || open.owner !== owner)
      throw fsError(
        'EBADF',
        `handle ${handle} is not an open file of this process at ${this.args.member}`,
        undefined,
        handle,
      );
    // Most recently used: to the end of the table (the first is the one a full table forgets).
    this.#open.delete(handle);
    this.#open.set(handle, open);
    return open;
  }

  /**
   * Leaves the fleet: out of the indirect name first (no new opens come here), then the direct name;
   * from then on every request is answered `SHUTDOWN`, so that callers reopen their files at another
   * member, and after {@link fsLeaveGraceMs} the process exits.
   */
  async #leave(capability: Capability): Promise<MessageBody> {
    if (validateCapability(capability) !== this.args.capability)
      throw new FosError('PERMISSION_DENIED', `leave: the capability does not match fs member ${this.args.member}'s`, {
        value: 'capability',
      });
    this.#leaving = true;
    const openFiles = this.#open.size;
    await this.libfos.dispatcher.spawnThread('leave', async () => {
      await this.libfos.unregisterIndirect(this.args.fleet, this.args.member, this.args.capability);
      if (this.#location !== undefined && this.#nameCapability !== undefined)
        await this.libfos.unregisterDirect(this.args.member, this.#location, this.#nameCapability);
    });
    this.context.clock.setTimer(fsLeaveGraceMs, () =>
      this.context.guard(async () => {
        await this.libfos.close();
        this.context.exit();
      }),
    );
    return { member: this.args.member, openFiles };
  }
}

/** The metadata of an opened file, from what resolving it found (no second walk of its path). */
function fileStat(file: FsFile): FsStatResult {
  return { path: file.path, type: 'file', size: file.size, mode: file.mode, mtimeMs: file.mtimeMs };
}

function statOf(stat: FsStat): FsStatResult {
  return { path: stat.path, type: stat.type, size: stat.size, mode: stat.mode, mtimeMs: stat.mtimeMs };
}
