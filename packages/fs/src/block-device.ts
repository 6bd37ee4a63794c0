// The block device server (/sys/blockdev/<id>): the one process that touches the host's image file.
// It answers whole-block reads; every request runs in a dispatcher thread of its own, so reads of one
// block by many members are served concurrently (there is no lock on the path: a positional read of
// a read-only file needs none).
import { open, type FileHandle } from 'node:fs/promises';
import { describeValue, FosError, isFosError, type FosErrorCode, type MessageBody } from '@fos/base';
import { createLibfos } from '@fos/libfos-messaging';
import { isCapability, type Capability, type ProcessContext } from '@fos/microkernel';
import { z } from 'zod';
import { blockdevBlocksPerReadMax, blockdevReadsInFlightMax, fsBlockBytes } from './limits.js';
import { blockDeviceRequestSchema, parseRequest, type BlockDeviceInfo } from './protocol.js';

/** Where a block device's bytes come from: a host file opened read-only, or bytes in memory. */
export interface BlockSource {
  /** Bytes of the image. */
  readonly bytes: number;
  /** Reads `length` bytes at `offset` (both inside the image). */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** A block source over bytes in memory (simulated runs, tests): the bytes are not copied. */
export function memoryBlockSource(bytes: Uint8Array): BlockSource {
  return {
    bytes: bytes.length,
    read: (offset, length) => Promise.resolve(bytes.slice(offset, offset + length)),
    close: () => Promise.resolve(),
  };
}

/**
 * A block source over a host file, opened read-only.
 * @throws NO_SUCH_NAME when the file does not exist; BAD_REQUEST when it is not a regular file or cannot be opened
 */
export async function fileBlockSource(path: string): Promise<BlockSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new FosError(
      code === 'ENOENT' ? 'NO_SUCH_NAME' : 'BAD_REQUEST',
      `the image ${describeValue(path)} cannot be opened: ${(error as Error).message}`,
      { value: path },
    );
  }
  const stat = await handle.stat();
  if (!stat.isFile()) {
    await handle.close();
    throw new FosError('BAD_REQUEST', `the image ${describeValue(path)} is not a regular file`, { value: path });
  }
  return {
    bytes: stat.size,
    read: async (offset, length) => {
      const buffer = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
        // The file shrank under the server: answer what is there (the reader sees a short block).
        if (bytesRead === 0) return buffer.subarray(0, done);
        done += bytesRead;
      }
      return buffer;
    },
    close: () => handle.close(),
  };
}

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');

const blockDeviceArgsSchema = z.strictObject({
  /** The name to serve under (`/sys/blockdev/<id>`). */
  name: z.string().min(1).max(255),
  /** A namespace capability that covers the name. */
  capability: capabilitySchema,
  /** The host path of the image (module spawns); absent when the source is handed in. */
  image: z.string().min(1).max(4096).optional(),
});

/** What {@link blockDeviceServer} takes. */
export type BlockDeviceArgs = z.infer<typeof blockDeviceArgsSchema>;

/** What a block device server returns to its spawner. */
export type BlockDeviceResult = BlockDeviceInfo & { readonly name: string };

/** What {@link blockDeviceServer} returns instead when it cannot open its image (it has exited). */
export type BlockDeviceRefusal = {
  readonly refused: { readonly code: FosErrorCode; readonly message: string; readonly value: string };
};

/**
 * The block device server, as a process entry (`module` + `entry: 'blockDeviceServer'`, every
 * fabric): opens `args.image` read-only, registers `args.name` and serves block reads until it exits.
 * An image it cannot open ends it at once, answering a {@link BlockDeviceRefusal}.
 */
export async function blockDeviceServer(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsed = parseRequest('blockDeviceServer', blockDeviceArgsSchema, args);
  if (parsed.image === undefined)
    throw new FosError('BAD_REQUEST', 'blockDeviceServer: args.image (a host path) is required', { value: args });
  let source: BlockSource;
  try {
    source = await fileBlockSource(parsed.image);
  } catch (error) {
    // The spawner gets the refusal itself (a missing image is the starter's NO_SUCH_NAME, not a crash).
    if (!isFosError(error)) throw error;
    context.exit();
    return { refused: { code: error.code, message: error.message.slice(error.code.length + 2), value: parsed.image } };
  }
  return serveBlockDevice(context, parsed, source);
}

/**
 * Serves `source` as a block device named `args.name` in this process (the body of
 * {@link blockDeviceServer}; in-thread fabrics may hand a {@link memoryBlockSource} straight in).
 * The source is closed when the process ends.
 */
export async function serveBlockDevice(
  context: ProcessContext,
  args: BlockDeviceArgs,
  source: BlockSource,
): Promise<BlockDeviceResult> {
  const parsed = parseRequest('serveBlockDevice', blockDeviceArgsSchema, args);
  void context.exited.then(() => source.close()).catch(() => undefined);
  const info: BlockDeviceInfo = {
    blockBytes: fsBlockBytes,
    imageBytes: source.bytes,
    blocks: Math.ceil(source.bytes / fsBlockBytes),
  };
  const libfos = await createLibfos(context);
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, {
    liveThreadsMax: blockdevReadsInFlightMax,
    handler: async (request, thread) => {
      const valid = parseRequest(`block device ${parsed.name}`, blockDeviceRequestSchema, request.body);
      if (valid.op === 'info') return { ...info };
      if (valid.count > blockdevBlocksPerReadMax)
        throw new FosError(
          'LIMIT_EXCEEDED',
          `block device ${parsed.name}: a read of ${valid.count} blocks is larger than blockdevBlocksPerReadMax (${blockdevBlocksPerReadMax})`,
          { value: valid.count },
        );
      if (valid.block + valid.count > info.blocks)
        throw new FosError(
          'BAD_REQUEST',
          `block device ${parsed.name}: blocks ${valid.block}..${valid.block + valid.count - 1} are past the end (the image has ${info.blocks} blocks)`,
          { value: valid.block },
        );
      const offset = valid.block * fsBlockBytes;
      const length = Math.min(valid.count * fsBlockBytes, info.imageBytes - offset);
      // A dispatcher thread parks only in dispatcher operations: the host read is waited for as one.
      return { bytes: await thread.waitFor(source.read(offset, length)) };
    },
  });
  await libfos.aliasRegisterDirect(parsed.name, mailbox, parsed.capability);
  return { ...info, name: parsed.name };
}
