// Reading the options object of a public constructor or call (a machine, a fabric, a spawn): it may be
// any JavaScript value, null, a proxy that throws on every read, an object whose getters throw. Each
// field is read once, inside a try, and checked from that copy, so a refusal is always a FosError and a
// getter cannot answer one value to the check and another to the use.
import { describeValue, describedCharactersMax, FosError, isFosError } from '@fos/base';
import type { z } from 'zod';

/** The fields `keys` of `options`, each read once: `BAD_REQUEST` when `options` is not an object or cannot be read. */
export function readOptions<Key extends string>(
  options: unknown,
  what: string,
  keys: readonly Key[],
): Partial<Record<Key, unknown>> {
  try {
    if (typeof options !== 'object' || options === null) {
      throw new FosError('BAD_REQUEST', `${what} ${describeValue(options)} are not an object`, { value: options });
    }
    const fields: Partial<Record<Key, unknown>> = {};
    for (const key of keys) fields[key] = (options as Record<string, unknown>)[key];
    return fields;
  } catch (error) {
    if (isFosError(error)) throw error;
    throw new FosError('BAD_REQUEST', `${what} cannot be read (a getter or proxy throws)`, {
      value: options,
      cause: error,
    });
  }
}

/**
 * A count of cores: `BAD_REQUEST` for anything but a whole number of at least 1, `LIMIT_EXCEEDED`
 * above `max` (named `maxName` in the message).
 */
export function checkCores(cores: unknown, max: number, maxName: string): number {
  if (typeof cores !== 'number' || !Number.isInteger(cores) || cores < 1) {
    throw new FosError('BAD_REQUEST', `${describeValue(cores)} cores is not a whole number in 1..${maxName} (${max})`, {
      value: cores,
    });
  }
  if (cores > max) {
    throw new FosError('LIMIT_EXCEEDED', `${cores} cores is outside 1..${maxName} (${max})`, { value: cores });
  }
  return cores;
}

/** `value` when it has a function under each of `methods`; `BAD_REQUEST` naming `what` otherwise. */
export function checkMethods<T>(value: unknown, what: string, methods: readonly string[]): T {
  let shaped = false;
  try {
    shaped =
      (typeof value === 'object' || typeof value === 'function') &&
      value !== null &&
      methods.every((method) => typeof (value as Record<string, unknown>)[method] === 'function');
  } catch {
    shaped = false;
  }
  if (!shaped) {
    throw new FosError('BAD_REQUEST', `${what} ${describeValue(value)} has no methods ${methods.join(', ')}`, {
      value,
    });
  }
  return value as T;
}

/** `value` when it is a function; `BAD_REQUEST` naming `what` otherwise. */
export function checkFunction<T>(value: unknown, what: string): T {
  if (typeof value !== 'function') {
    throw new FosError('BAD_REQUEST', `${what} ${describeValue(value)} is not a function`, { value });
  }
  return value as T;
}

/** Methods of a `Clock` (`@fos/base`), checked where one is given. */
export const clockMethods = ['now', 'setTimer'] as const;
/** Methods of a `RandomSource` (`@fos/base`), checked where one is given. */
export const randomMethods = ['nextUint32', 'nextFloat', 'nextInt', 'fillBytes'] as const;

/**
 * A core of a fabric of `coreCount` cores, as `connect` names it, and its `receive` callback:
 * `BAD_REQUEST` for a core outside 0..coreCount-1 or one connected already (a fabric serves one
 * machine), or a callback that is not a function.
 */
export function checkConnect(
  core: unknown,
  receive: unknown,
  coreCount: number,
  connected: ReadonlySet<number>,
): number {
  if (typeof core !== 'number' || !Number.isInteger(core) || core < 0 || core >= coreCount) {
    throw new FosError('BAD_REQUEST', `core ${describeValue(core)} is outside 0..${coreCount - 1}`, { value: core });
  }
  if (connected.has(core)) {
    throw new FosError('BAD_REQUEST', `core ${core} is connected already: a fabric serves one Machine`, {
      value: core,
    });
  }
  checkFunction(receive, 'the receive callback');
  return core;
}

/** A zod issue as a refusal words it: where, and what is wrong. */
export type IssueText = (issue: z.core.$ZodIssue | undefined) => string;

const pathAndMessage: IssueText = (issue) =>
  issue === undefined ? 'invalid' : `invalid ${issue.path.map(String).join('.') || 'value'}: ${issue.message}`;

/**
 * `value` parsed by `schema`, or `BAD_REQUEST`: `what` and the first issue (worded by `explain`,
 * bounded: an issue may list every key of a huge object), or that `value` cannot be read. Zod reads
 * the value while parsing and words an issue lazily: both happen inside the try.
 */
export function parseChecked<Output>(
  schema: z.ZodType<Output>,
  value: unknown,
  what: string,
  explain: IssueText = pathAndMessage,
): Output {
  let refusal: string;
  try {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    refusal = explain(parsed.error.issues[0]);
  } catch (error) {
    throw new FosError('BAD_REQUEST', `${what} cannot be read (a getter or proxy throws)`, { value, cause: error });
  }
  const bounded = refusal.length <= describedCharactersMax ? refusal : `${refusal.slice(0, describedCharactersMax)}…`;
  throw new FosError('BAD_REQUEST', `${what}: ${bounded}`, { value });
}
