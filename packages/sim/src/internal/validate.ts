// Boundary checks shared by the modules of this package. A bad argument is `BAD_REQUEST` with the
// offending value in the message (described by `describeValue`, which never throws): the checks look
// at a value's type first, so that a proxy or a getter that throws is met only inside a try.
import { describeValue, FosError, readArgument } from '@fos/base';

/** Throws `BAD_REQUEST` with `message` and the offending `value`. */
export function refuse(message: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', message, { value });
}

/** Throws unless `delayMs` is a finite number >= 0. */
export function checkDelayMs(delayMs: unknown, where: string): asserts delayMs is number {
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    refuse(`${where}: delayMs must be a finite number >= 0, got ${describeValue(delayMs)}`, delayMs);
  }
}

/** Throws unless `value` is a safe integer in [minimum, maximum]. */
export function checkSafeInteger(
  value: unknown,
  name: string,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum || value > maximum) {
    refuse(`${name} must be an integer in [${minimum}, ${maximum}], got ${describeValue(value)}`, value);
  }
}

/** Throws unless `value` is a function. */
export function checkFunction(value: unknown, name: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') refuse(`${name} must be a function, got ${describeValue(value)}`, value);
}

/** Throws unless `value` is a string (a non-empty one when `nonEmpty`). */
export function checkString(value: unknown, name: string, nonEmpty = false): asserts value is string {
  if (typeof value !== 'string' || (nonEmpty && value.length === 0)) {
    refuse(`${name} must be a ${nonEmpty ? 'non-empty ' : ''}string, got ${describeValue(value)}`, value);
  }
}

/** Throws unless `value` is undefined or an object (not null, not an array), e.g. an options argument. */
export function checkOptionsObject(value: unknown, name: string): asserts value is object | undefined {
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    refuse(`${name} must be an object, got ${describeValue(value)}`, value);
  }
}

/** Re-exported for this package's checks: the one home of the rule is `@fos/base`. */
export { readArgument };
