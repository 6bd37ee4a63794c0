import { Packr } from 'msgpackr';
import { FosError } from './errors.js';
import { bodyDepthMax, messageBytesMax } from './limits.js';

/**
 * What a message body may be (DESIGN section 5): JSON-like values (null, booleans, finite numbers,
 * strings, arrays, plain objects; `undefined` as an object property), bigints within 64 bits,
 * `Uint8Array` and `Date`. A received `Uint8Array` arrives as a Node `Buffer` (a `Uint8Array`).
 */
export type MessageBody =
  | null
  | undefined
  | boolean
  | number
  | string
  | bigint
  | Uint8Array
  | Date
  | readonly MessageBody[]
  | { readonly [key: string]: MessageBody };

const int64Min = -(2n ** 63n);
const uint64Max = 2n ** 64n - 1n;

// One shared encoder: msgpackr keeps no state between calls with records off.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', moreTypes: false, mapsAsObjects: true });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return (value).constructor?.name ?? 'object without prototype';
  return typeof value;
}

function refuse(path: string, why: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', `message body at ${path} ${why}`, { value });
}

function checkBody(value: unknown, path: string, depth: number): void {
  if (depth > bodyDepthMax) refuse(path, `is nested deeper than bodyDepthMax (${bodyDepthMax})`, value);
  switch (typeof value) {
    case 'boolean':
    case 'string':
    case 'undefined':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, `is a non-finite number (${value})`, value);
      return;
    case 'bigint':
      if (value < int64Min || value > uint64Max) refuse(path, `is a bigint outside 64 bits (${value})`, value);
      return;
    case 'object': {
      if (value === null || value instanceof Uint8Array) return;
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) refuse(path, 'is an invalid Date', value);
        return;
      }
      if (Array.isArray(value)) {
        value.forEach((item, index) => {
          if (item === undefined) refuse(`${path}[${index}]`, 'is undefined inside an array', item);
          checkBody(item, `${path}[${index}]`, depth + 1);
        });
        return;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) refuse(path, `is a ${describe(value)}, not a plain object`, value);
      for (const [key, item] of Object.entries(value)) checkBody(item, `${path}.${key}`, depth + 1);
      return;
    }
    default:
      refuse(path, `is a ${typeof value}, which a message cannot carry`, value);
  }
}

/**
 * Encodes a body to a fresh, standalone byte array (never a view into a shared buffer, so it can be
 * transferred between threads). `BAD_REQUEST` for a value of a type a message cannot carry,
 * `MESSAGE_TOO_LARGE` beyond `bytesMax`.
 */
export function encodeBody(body: unknown, bytesMax: number = messageBytesMax): Uint8Array {
  checkBody(body, 'body', 0);
  const packed = packr.pack(body);
  if (packed.length > bytesMax) {
    throw new FosError('MESSAGE_TOO_LARGE', `message body of ${packed.length} bytes exceeds messageBytesMax (${bytesMax})`, { value: packed.length });
  }
  return new Uint8Array(packed);
}

/** Decodes bytes made by {@link encodeBody}; the result shares nothing with any sender's object. */
export function decodeBody(bytes: Uint8Array): MessageBody {
  return packr.unpack(bytes) as MessageBody;
}

/** A deep copy through the codec: what the receiver of a message gets. */
export function copyBody<T extends MessageBody>(body: T, bytesMax?: number): T {
  return decodeBody(encodeBody(body, bytesMax)) as T;
}
