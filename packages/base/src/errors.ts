/**
 * The one closed list of error codes of fos (docs/rules.md, "Errors"). Adding a code is a reviewed
 * change to this file. Operating errors are {@link FosError} values; broken invariants are assertions.
 */
export const fosErrorCodes = [
  'INVALID_NAME',
  'NO_SUCH_NAME',
  'NAME_EXISTS',
  'PERMISSION_DENIED',
  'CONFLICT',
  'CYCLE',
  'INACTIVE',
  'MESSAGE_TOO_LARGE',
  'WOULD_BLOCK',
  'TIMEOUT',
  'BAD_REQUEST',
  'UNREACHABLE',
  'SHUTDOWN',
  'LIMIT_EXCEEDED',
] as const;

/** One code of {@link fosErrorCodes}. */
export type FosErrorCode = (typeof fosErrorCodes)[number];

// A registry symbol, not a class check: the ESM and CJS copies of a package can both be loaded, and
// an error minted by one must still be recognised by the other.
const fosErrorBrand = Symbol.for('fos.error');

/** Extra, machine-readable facts an error carries (the refused sequence number of a send, say). */
export interface FosErrorDetails {
  /** Per-stream sequence number of a refused `ukSend`, to pass as `resendOf` or to `abandonSend`. */
  readonly sequence?: number;
  /**
   * The POSIX code a Node user expects, set beside the fos code by the services that stand in for a
   * Node API: the file system (`ENOENT`, `ENOTDIR`, `EISDIR`, `EBADF`, `EMFILE`, `ELOOP`, `EINVAL`,
   * `EIO`, `ENOTSUP`) and the network stack (`ECONNREFUSED`, `ECONNRESET`, `EADDRINUSE`, `EPIPE`, ...).
   */
  readonly errno?: string;
  /** The path a file-system error is about, as the caller gave it. */
  readonly path?: string;
}

/**
 * An expected, handleable failure: bad input, a missing name, a wrong capability, a full queue.
 * The message names the offending value, which is also kept in `value`.
 */
export class FosError extends Error {
  /** The code from the closed list. */
  readonly code: FosErrorCode;
  /** The offending value (a name, a location, a size), when there is one. */
  readonly value: unknown;
  /** Machine-readable extras. */
  readonly details: FosErrorDetails;

  constructor(
    code: FosErrorCode,
    message: string,
    options: { value?: unknown; details?: FosErrorDetails; cause?: unknown } = {},
  ) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FosError';
    this.code = code;
    this.value = options.value;
    this.details = options.details ?? {};
    Object.defineProperty(this, fosErrorBrand, { value: true });
  }
}

/** True for any {@link FosError}, from whichever copy of this package it came (brand test). */
export function isFosError(value: unknown): value is FosError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[fosErrorBrand] === true;
}

/** True when `value` is a {@link FosError} with the given code. */
export function hasFosErrorCode(value: unknown, code: FosErrorCode): value is FosError {
  return isFosError(value) && value.code === code;
}

/** True when `code` is one of the closed list. */
export function isFosErrorCode(code: unknown): code is FosErrorCode {
  return typeof code === 'string' && (fosErrorCodes as readonly string[]).includes(code);
}
