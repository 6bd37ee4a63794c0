// File-system errors: a FosError from the closed list of codes, with the POSIX code a `node:fs` user
// expects as a documented detail (`error.details.errno`) and the path in `error.details.path`.
import { errnoError, isFosError, type FosError, type FosErrorCode } from '@fos/base';

/** The POSIX codes the file system answers with, and the fos code each travels as. */
export const fsErrnoCodes = {
  /** No such file or directory. */
  ENOENT: 'NO_SUCH_NAME',
  /** A path component is not a directory. */
  ENOTDIR: 'BAD_REQUEST',
  /** A directory where a file was needed. */
  EISDIR: 'BAD_REQUEST',
  /** A handle that is closed, or another process's. */
  EBADF: 'BAD_REQUEST',
  /** Too many open files (a client's or a member's table is full). */
  EMFILE: 'LIMIT_EXCEEDED',
  /** Too many symbolic links on the way (a cycle). */
  ELOOP: 'CYCLE',
  /** A malformed argument (a negative offset, a path too long). */
  EINVAL: 'BAD_REQUEST',
  /** The image is damaged where this entry lies (truncated, a bad header). */
  EIO: 'BAD_REQUEST',
  /** An entry type the read-only tar file system does not serve (sparse files, devices, FIFOs). */
  ENOTSUP: 'BAD_REQUEST',
} as const satisfies Record<string, FosErrorCode>;

/** One POSIX code of {@link fsErrnoCodes}. */
export type FsErrno = keyof typeof fsErrnoCodes;

/** True when `value` is one of {@link fsErrnoCodes}. */
export function isFsErrno(value: unknown): value is FsErrno {
  return typeof value === 'string' && Object.hasOwn(fsErrnoCodes, value);
}

/** A file-system error: the fos code of `errno`, with `errno` and `path` in its details. */
export function fsError(errno: FsErrno, message: string, path: string | undefined, value?: unknown): FosError {
  return errnoError(fsErrnoCodes[errno], errno, message, { path, value: value ?? path });
}

/** The POSIX code of a file-system error, or undefined for any other value. */
export function errnoOf(error: unknown): FsErrno | undefined {
  if (!isFosError(error)) return undefined;
  const errno = error.details.errno;
  return isFsErrno(errno) ? errno : undefined;
}
