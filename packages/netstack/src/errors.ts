// Network errors: a FosError from the closed list, with the POSIX code a `node:net` user expects as a
// documented detail (`error.details.errno`), restored by the socket component after the wire.
import { errnoError, isFosError, type FosError, type FosErrorCode } from '@fos/base';

/** The POSIX codes the network stack answers with, and the fos code each travels as. */
export const netErrnoCodes = {
  /** Nothing listens there (or the listener's queue was full). */
  ECONNREFUSED: 'UNREACHABLE',
  /** The connection was reset: by the peer, or because its member or owner went away. */
  ECONNRESET: 'UNREACHABLE',
  /** The connection was ended here: the member serving it left the fleet. */
  ECONNABORTED: 'SHUTDOWN',
  /** The port is taken (by another listener, or on the host). */
  EADDRINUSE: 'CONFLICT',
  /** Writing to a connection whose sending side is closed. */
  EPIPE: 'BAD_REQUEST',
  /** A connection this process does not hold (closed, or another process's). */
  ENOTCONN: 'BAD_REQUEST',
  /** A malformed argument: a port out of range, a host name too long. */
  EINVAL: 'BAD_REQUEST',
  /** An outbound connection that was not established in time. */
  ETIMEDOUT: 'TIMEOUT',
  /** The host name of an outbound connection does not resolve. */
  ENOTFOUND: 'NO_SUCH_NAME',
  /** Too many connections or listeners (a limit of netif or of the fleet). */
  EMFILE: 'LIMIT_EXCEEDED',
} as const satisfies Record<string, FosErrorCode>;

/** One POSIX code of {@link netErrnoCodes}. */
export type NetErrno = keyof typeof netErrnoCodes;

/** True when `value` is one of {@link netErrnoCodes}. */
export function isNetErrno(value: unknown): value is NetErrno {
  return typeof value === 'string' && Object.hasOwn(netErrnoCodes, value);
}

/** A network error: the fos code of `errno`, with `errno` in its details. */
export function netError(errno: NetErrno, message: string, value?: unknown): FosError {
  return errnoError(netErrnoCodes[errno], errno, message, { value });
}

/** The POSIX code of a network error, or undefined for any other value. */
export function netErrnoOf(error: unknown): NetErrno | undefined {
  if (!isFosError(error)) return undefined;
  const errno = error.details.errno;
  return isNetErrno(errno) ? errno : undefined;
}
