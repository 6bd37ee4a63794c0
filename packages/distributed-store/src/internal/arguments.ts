// The checks of what callers and peers hand the store: keys, versions, values, member names, times,
// options. A refusal is `BAD_REQUEST` (or the codec's `MESSAGE_TOO_LARGE` for a value) naming the value
// with `describeValue`, thrown before anything changes. Each check looks at a value's type before it
// reads it, and reads an outside object only inside a try, so that a proxy or a getter that throws is
// `BAD_REQUEST` too. The checks on the paths every message takes cost a few `typeof`s; the words of a
// refusal are built only when it refuses.
import { describeValue, encodeBodyTransient, FosError, readArgument } from '@fos/base';
import { storeKeyCharactersMax, storeMemberNameCharactersMax, storeValueBytesMax } from '../limits.js';

/** Throws `BAD_REQUEST` with `message` and the offending `value`. */
export function refuse(message: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', message, { value });
}

/** Re-exported for this package's checks: the one home of the rule is `@fos/base`. */
export { readArgument };

/** True for an object that is not null and not an array (what options and messages are). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws unless `value` is an object (not null, not an array). */
export function checkRecord(value: unknown, what: string): asserts value is Record<string, unknown> {
  if (!isRecord(value)) refuse(`${what} is not an object: ${describeValue(value)}`, value);
}

/** A store key: a non-empty string of at most `storeKeyCharactersMax` characters. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string' || key.length === 0)
    refuse(`store key ${describeValue(key)} is not a non-empty string`, key);
  if (key.length > storeKeyCharactersMax)
    refuse(`store key of ${key.length} characters exceeds storeKeyCharactersMax (${storeKeyCharactersMax})`, key);
  return key;
}

/** An expected version: a positive safe integer. */
export function checkVersion(version: unknown, what = 'expected version'): number {
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)
    refuse(`${what} ${describeValue(version)} is not a positive integer`, version);
  return version;
}

/** A member's name: a non-empty string of at most `storeMemberNameCharactersMax` characters. */
export function checkMemberName(name: unknown, what = 'member name'): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > storeMemberNameCharactersMax)
    refuse(
      `${what} ${describeValue(name)} is not a string of 1 to storeMemberNameCharactersMax (${storeMemberNameCharactersMax}) characters`,
      name,
    );
  return name;
}

/** A list of member names, none twice. */
export function checkMemberNames(names: unknown, what: string): string[] {
  if (!Array.isArray(names)) refuse(`${what} is not an array of member names: ${describeValue(names)}`, names);
  const checked = readArgument(names, what, () =>
    [...(names as unknown[])].map((name) => checkMemberName(name, `a name of ${what}`)),
  );
  if (new Set(checked).size !== checked.length)
    refuse(`${what} lists a member twice: ${describeValue(checked)}`, names);
  return checked;
}

/** A string field of a message (a request or change id). */
export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') refuse(`${what} ${describeValue(value)} is not a string`, value);
  return value;
}

/** A boolean field of a message. */
export function checkBoolean(value: unknown, what: string): boolean {
  if (typeof value !== 'boolean') refuse(`${what} ${describeValue(value)} is not a boolean`, value);
  return value;
}

/** A string this short encodes within `storeValueBytesMax` whatever it holds (at most 3 bytes per UTF-16 unit, and a header). */
const shortStringCharactersMax = Math.floor((storeValueBytesMax - 8) / 3);

/** A value the store can hold: a message body of at most `storeValueBytesMax` encoded bytes (`BAD_REQUEST` or `MESSAGE_TOO_LARGE`). */
export function checkValue(value: unknown): void {
  // A short string needs no encoding to be known good (the simulations' values are such strings).
  if (typeof value === 'string' && value.length <= shortStringCharactersMax) return;
  encodeBodyTransient(value, storeValueBytesMax);
}

/** A time given to a member: finite, and never before the last one. */
export function checkTime(nowMs: unknown, lastMs: number, member: string): number {
  if (typeof nowMs !== 'number' || !Number.isFinite(nowMs))
    refuse(`the time given to store member ${member} is not a finite number: ${describeValue(nowMs)}`, nowMs);
  if (nowMs < lastMs) refuse(`the time given to store member ${member} goes back from ${lastMs} to ${nowMs}`, nowMs);
  return nowMs;
}

/** Throws unless `value` is a function. */
export function checkFunction(value: unknown, what: string): void {
  if (typeof value !== 'function') refuse(`${what} is not a function: ${describeValue(value)}`, value);
}

/** Throws unless `value` is an object with a method of each name in `methods`. */
export function checkMethods(value: unknown, what: string, methods: readonly string[]): void {
  const complete = readArgument(
    value,
    what,
    () =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
  );
  if (!complete) refuse(`${what} must have the methods ${methods.join(', ')}: ${describeValue(value)}`, value);
}
