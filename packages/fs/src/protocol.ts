// The messages of the block device server and of a file-system member, checked with zod at the
// receiving end (a malformed request is BAD_REQUEST naming the field; nothing is changed by it).
import { isCapability, type Capability } from '@fos/microkernel';
import { z } from 'zod';
import { fsPathBytesMax, fsReadBytesMax } from './limits.js';

/** What a block device server says about its image. */
export type BlockDeviceInfo = {
  /** Bytes of one block ({@link fsBlockBytes}). */
  readonly blockBytes: number;
  /** Bytes of the image (the last block may be shorter). */
  readonly imageBytes: number;
  /** Blocks of the image, the last one partial when `imageBytes` is not a multiple of `blockBytes`. */
  readonly blocks: number;
};

const blockIndex = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const blockDeviceRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({
    op: z.literal('read'),
    block: blockIndex,
    count: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  }),
  z.strictObject({ op: z.literal('info') }),
]);

/** A block device request: one run of whole blocks, or what the device holds. */
export type BlockDeviceRequest = z.infer<typeof blockDeviceRequestSchema>;

/** Metadata of a file, directory or symbolic link, as `stat` answers it. */
export type FsStatResult = {
  readonly path: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly size: number;
  readonly mode: number;
  readonly mtimeMs: number;
};

const pathSchema = z.string().max(fsPathBytesMax * 4);
const handleSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const fsRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('open'), path: pathSchema }),
  z.strictObject({
    op: z.literal('read'),
    handle: handleSchema,
    offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    length: z.number().int().min(0).max(fsReadBytesMax),
  }),
  z.strictObject({ op: z.literal('fstat'), handle: handleSchema }),
  z.strictObject({ op: z.literal('close'), handle: handleSchema }),
  z.strictObject({ op: z.literal('stat'), path: pathSchema, lstat: z.boolean().optional() }),
  z.strictObject({ op: z.literal('readdir'), path: pathSchema, after: pathSchema.optional() }),
  z.strictObject({ op: z.literal('info') }),
  z.strictObject({
    op: z.literal('leave'),
    capability: z.custom<Capability>((value) => isCapability(value), 'is not a capability'),
  }),
]);

/** A request to a file-system member. */
export type FsRequest = z.infer<typeof fsRequestSchema>;

/**
 * What `open` answers: the member's handle of the file, its metadata, and its first bytes (up to
 * `fsOpenHeadBytes`; fewer when the file is shorter or the image is damaged there).
 */
export type FsOpenResult = { readonly handle: number; readonly stat: FsStatResult; readonly head: Uint8Array };

/** What `read` answers: the bytes (fewer than asked at the end of the file, none past it). */
export type FsReadResult = { readonly bytes: Uint8Array };

/** One page of a directory's names, sorted; `done` when nothing follows. */
export type FsReaddirResult = { readonly names: readonly string[]; readonly done: boolean };

/** What `info` answers: a member's counters. */
export type FsMemberInfo = {
  readonly member: string;
  readonly files: number;
  readonly directories: number;
  /** Entries of the image this member refused (damaged, unsafe names, unsupported types). */
  readonly problems: number;
  readonly openFiles: number;
  /** Open files the member forgot because its table was full (their clients reopen them). */
  readonly evicted: number;
  readonly cache: { readonly blocks: number; readonly hits: number; readonly misses: number };
};

export { parseRequest } from '@fos/dispatcher';
