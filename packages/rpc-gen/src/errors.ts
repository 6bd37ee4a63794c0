import { describedCharactersMax, describeValue, FosError } from '@fos/base';

/** Where in an input file a generator error points (1-based line and column). */
export interface RpcGenLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * Characters of a refusal's text at most (with its place): a compiler message names types and
 * identifiers as written, and an input may hold a megabyte-long one. The rest is counted.
 */
const messageCharactersMax = 10 * describedCharactersMax;

function bounded(text: string): string {
  return text.length <= messageCharactersMax
    ? text
    : `${text.slice(0, messageCharactersMax)}… (${text.length} characters)`;
}

/** `location` when it is one (a file and a 1-based line and column), else undefined. */
function wellFormed(location: unknown): RpcGenLocation | undefined {
  try {
    if (typeof location !== 'object' || location === null) return undefined;
    const { file, line, column } = location as Partial<RpcGenLocation>;
    if (typeof file !== 'string' || !Number.isSafeInteger(line) || !Number.isSafeInteger(column)) return undefined;
    return { file, line: line as number, column: column as number };
  } catch {
    return undefined;
  }
}

/**
 * A refusal of fos-rpcgen: an input it cannot turn into stubs (an unsupported type, a property on an
 * API interface, an unknown `@throws` code, a limit exceeded) or an argument it cannot use. It is a
 * `FosError` with the code `BAD_REQUEST`; after the code, the message starts with `file:line:column:`
 * when the problem has a place in a file, and names the offending type text.
 */
export class RpcGenError extends FosError {
  /** The place in the input, when there is one. */
  readonly location: RpcGenLocation | undefined;

  /**
   * @param message - what is wrong (a value that is not a string is described, never thrown on)
   * @param location - the place in the input; one that is not `{ file, line, column }` is left out
   */
  constructor(message: string, location?: RpcGenLocation) {
    const text = typeof message === 'string' ? message : describeValue(message);
    const at = wellFormed(location);
    super('BAD_REQUEST', bounded(at === undefined ? text : `${at.file}:${at.line}:${at.column}: ${text}`), {
      value: at,
    });
    this.name = 'RpcGenError';
    this.location = at;
  }
}

/** True for an {@link RpcGenError} (by name too, so a copy from another bundle is recognised). */
export function isRpcGenError(value: unknown): value is RpcGenError {
  try {
    return value instanceof RpcGenError || (value instanceof Error && value.name === 'RpcGenError');
  } catch {
    // A proxy that throws when asked for its prototype is no error of ours.
    return false;
  }
}
