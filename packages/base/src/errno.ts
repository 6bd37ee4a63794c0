// POSIX codes beside fos codes: a service that stands in for a Node API (the file system for node:fs,
// the network stack for node:net) answers with a FosError from the closed list whose details carry the
// POSIX code its users expect. Only the code and message cross the wire, so the code travels as the
// message's first word (`ENOENT: ...`) and the receiving component restores the detail.
import { FosError, isFosError, type FosErrorCode, type FosErrorDetails } from './errors.js';

/**
 * A FosError of `code` whose `details.errno` is `errno` (and `details.path` the path, when there is
 * one); its message starts with the POSIX code so that it survives a trip through messages.
 */
export function errnoError(
  code: FosErrorCode,
  errno: string,
  message: string,
  options: { readonly path?: string | undefined; readonly value?: unknown } = {},
): FosError {
  const details: FosErrorDetails = options.path === undefined ? { errno } : { errno, path: options.path };
  return new FosError(code, `${errno}: ${message}`, { value: options.value ?? options.path, details });
}

/**
 * Gives an error that crossed the wire its POSIX code back: when `error` is a FosError whose message
 * starts with one of `codes`' POSIX codes and whose fos code is the one that POSIX code travels as,
 * the answer is the same error with `details.errno` (and `details.path`, when `path` is given);
 * anything else is answered unchanged.
 */
export function restoreErrno(error: unknown, codes: Readonly<Record<string, FosErrorCode>>, path?: string): unknown {
  if (!isFosError(error)) return error;
  const text = error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
  const errno = /^(E[A-Z]+): /.exec(text)?.[1];
  if (errno === undefined || !Object.hasOwn(codes, errno) || codes[errno] !== error.code) return error;
  return errnoError(error.code, errno, text.slice(errno.length + 2), {
    path,
    value: error.value ?? path,
  });
}
