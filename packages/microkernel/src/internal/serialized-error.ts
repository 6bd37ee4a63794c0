// How a refusal crosses between threads: the kernels of a machine post FosErrors to each other (a
// request's result, a failed spawn on a worker core), and a structured clone keeps neither the class
// nor the brand, so a FosError travels as its code, message and sequence number, and is made again.
import { FosError, type FosErrorCode } from '@fos/base';

/** The copyable form of a `FosError`: its code, its message and its sequence number (not its `value`). */
export interface SerializedFosError {
  readonly code: FosErrorCode;
  readonly message: string;
  readonly sequence?: number;
}

/** Turns an error into its copyable form; the message loses the `CODE: ` prefix the constructor adds again. */
export function serializeFosError(error: FosError): SerializedFosError {
  const message = error.message.startsWith(`${error.code}: `)
    ? error.message.slice(error.code.length + 2)
    : error.message;
  return error.details.sequence === undefined
    ? { code: error.code, message }
    : { code: error.code, message, sequence: error.details.sequence };
}

/** The inverse of {@link serializeFosError}: a `FosError` with the same code, message and sequence number. */
export function deserializeFosError(serialized: SerializedFosError): FosError {
  return new FosError(
    serialized.code,
    serialized.message,
    serialized.sequence === undefined ? {} : { details: { sequence: serialized.sequence } },
  );
}
