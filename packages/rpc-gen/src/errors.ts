/** Where in an input file a generator error points (1-based line and column). */
export interface RpcGenLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

/**
 * A refusal of fos-rpcgen: an input it cannot turn into stubs (an unsupported type, a property on an
 * API interface, an unknown `@throws` code, a limit exceeded). The message starts with
 * `file:line:column:` when the problem has a place in a file, and names the offending type text.
 */
export class RpcGenError extends Error {
  /** The place in the input, when there is one. */
  readonly location: RpcGenLocation | undefined;

  constructor(message: string, location?: RpcGenLocation) {
    super(location === undefined ? message : `${location.file}:${location.line}:${location.column}: ${message}`);
    this.name = 'RpcGenError';
    this.location = location;
  }
}

/** True for an {@link RpcGenError} (by name too, so a copy from another bundle is recognised). */
export function isRpcGenError(value: unknown): value is RpcGenError {
  return value instanceof RpcGenError || (value instanceof Error && value.name === 'RpcGenError');
}
