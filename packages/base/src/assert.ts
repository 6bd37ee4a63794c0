/**
 * Thrown by {@link assert}: a broken invariant, a bug in fos itself. Nothing catches it on purpose.
 */
export class AssertionError extends Error {
  constructor(message: string) {
    super(`assertion failed: ${message}`);
    this.name = 'AssertionError';
  }
}

/** Checks an invariant; a false condition is a programmer error, not an operating error. */
export function assert(condition: unknown, why: string): asserts condition {
  if (!condition) throw new AssertionError(why);
}
