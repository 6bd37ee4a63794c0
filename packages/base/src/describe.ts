import { FosError, isFosError } from './errors.js';
import { describedCharactersMax } from './limits.js';

// Error messages name the offending value, and the value can be anything a caller passed: a bigint
// or a cyclic object (which JSON.stringify refuses), a proxy or a getter that throws on every read, a
// string of megabytes. Describing it must never throw and never grow without bound.

function truncate(text: string): string {
  if (text.length <= describedCharactersMax) return text;
  return `${text.slice(0, describedCharactersMax)}… (${text.length} characters)`;
}

function replacer(): (key: string, value: unknown) => unknown {
  const seen = new WeakSet<object>();
  return (_key, value) => {
    if (typeof value === 'bigint') return `${value}n`;
    if (typeof value === 'symbol' || typeof value === 'function') return describePrimitive(value);
    if (typeof value === 'string' && value.length > describedCharactersMax) return truncate(value);
    if (typeof value !== 'object' || value === null) return value;
    if (value instanceof Uint8Array) return `${value.constructor.name}(${value.length})`;
    if (seen.has(value)) return '[cycle]';
    seen.add(value);
    if (value instanceof Map) return `Map(${value.size})`;
    if (value instanceof Set) return `Set(${value.size})`;
    return value;
  };
}

function describePrimitive(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > describedCharactersMax ? value.slice(0, describedCharactersMax) : value);
    case 'bigint':
      return `${value}n`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return `a function${typeof value.name === 'string' && value.name !== '' ? ` ${value.name}` : ''}`;
    default:
      return String(value);
  }
}

/**
 * A short text for any JavaScript value, for error messages: JSON where JSON can show it, with
 * bigints (`12n`), symbols, functions, byte arrays (`Uint8Array(16)`), maps, sets and cycles named;
 * at most {@link describedCharactersMax} characters and a count of the rest. It never throws: a value
 * that throws when read (a proxy, a getter) is described as such.
 */
export function describeValue(value: unknown): string {
  try {
    if (typeof value === 'string' && value.length > describedCharactersMax) {
      return `${describePrimitive(value)}… (${value.length} characters)`;
    }
    if (typeof value !== 'object' || value === null) return truncate(describePrimitive(value));
    return truncate(JSON.stringify(value, replacer()) ?? typeof value);
  } catch {
    return 'an object that throws when read';
  }
}

/**
 * Reads what `read` takes from an outside value (the fields of an options object, a message): a getter
 * or a proxy that throws while being read is `BAD_REQUEST` naming `what`, and a `FosError` of a check
 * inside `read` passes through. For the argument checks of public calls, which must answer a
 * documented `FosError` whatever they are given.
 */
export function readArgument<T>(value: unknown, what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (isFosError(error)) throw error;
    throw new FosError('BAD_REQUEST', `${what} cannot be read: ${describeValue(value)}`, { value });
  }
}
