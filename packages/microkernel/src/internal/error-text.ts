// What the kernel writes about an error a process threw (or rejected with): anything may be thrown,
// a symbol, a proxy that throws on every read, an Error whose message is a megabyte, and writing
// about it must not throw in turn, inside the kernel's own error handling.
import { describeValue } from '@fos/base';

/** The message of an error, bounded, for the message of another error (`describeValue` of anything else). */
export function errorText(error: unknown): string {
  try {
    if (error instanceof Error) return describeValue(error.message);
  } catch {
    // Not an Error to read (a proxy that throws on its prototype): described as any value.
  }
  return describeValue(error);
}

/** The stack of an error (else its description), for the log line of a crashed process. */
export function crashReason(error: unknown): string {
  try {
    if (error instanceof Error) {
      const stack: unknown = error.stack ?? error.message;
      if (typeof stack === 'string') return stack;
    }
  } catch {
    // As above: described as any value.
  }
  return describeValue(error);
}
