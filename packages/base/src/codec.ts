import { Packr, RESET_BUFFER_MODE } from 'msgpackr';
import { describeValue } from './describe.js';
import { FosError, isFosError } from './errors.js';
import { bodyDepthMax, messageBytesMax } from './limits.js';

/**
 * What a message body may be (docs/rules.md, "Message bodies"): JSON-like values (null, booleans, finite numbers,
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

// One shared encoder: msgpackr keeps no state between calls with records off. Encoding resets its
// buffer after each call (RESET_BUFFER_MODE), so what it returns is good until the next encode only
// and is copied out at once; decoded byte arrays are views into the message's bytes, except for bytes
// that share their buffer with other messages (the kernel carves medium-sized messages read from a
// channel ring out of one shared slab), whose byte arrays are copied out.
const codecOptions = { useRecords: false, int64AsType: 'bigint', moreTypes: false, mapsAsObjects: true } as const;
const packr = new Packr(codecOptions);
const copyingUnpackr = new Packr({ ...codecOptions, copyBuffers: true });

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'object') return value.constructor?.name ?? 'object without prototype';
  return typeof value;
}

function errorText(error: unknown): string {
  try {
    return error instanceof Error ? describeValue(error.message) : describeValue(error);
  } catch {
    return 'an error that throws when read';
  }
}

function refuse(path: string, why: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', `message body at ${path} ${why}`, { value });
}

/**
 * True when `value` is certainly a body {@link checkBody} accepts, found without building a path or
 * an array per value (every send checks its body); false sends it to `checkBody`, which decides and
 * words the error.
 */
function plainBody(value: unknown, depth: number): boolean {
  if (depth > bodyDepthMax) return false;
  switch (typeof value) {
    case 'boolean':
    case 'string':
    case 'undefined':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'bigint':
      return value >= int64Min && value <= uint64Max;
    case 'object': {
      if (value === null || value instanceof Uint8Array) return true;
      if (value instanceof Date) return !Number.isNaN(value.getTime());
      if (Array.isArray(value)) {
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          if (item === undefined || !plainBody(item, depth + 1)) return false;
        }
        return true;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null) return false;
      for (const key in value) {
        if (Object.hasOwn(value, key) && !plainBody((value as Record<string, unknown>)[key], depth + 1)) return false;
      }
      return true;
    }
    default:
      return false;
  }
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
        // An index loop, not forEach: a hole of a sparse array is undefined too, and refused as such.
        for (let index = 0; index < value.length; index++) {
          const item: unknown = value[index];
          if (item === undefined) refuse(`${path}[${index}]`, 'is undefined inside an array (or a hole)', item);
          checkBody(item, `${path}[${index}]`, depth + 1);
        }
        return;
      }
      const prototype: unknown = Object.getPrototypeOf(value);
      if (prototype !== Object.prototype && prototype !== null)
        refuse(path, `is a ${describe(value)}, not a plain object`, value);
      for (const [key, item] of Object.entries(value)) checkBody(item, `${path}.${key}`, depth + 1);
      return;
    }
    default:
      refuse(path, `is a ${typeof value}, which a message cannot carry`, value);
  }
}

/**
 * Checks that `body` is a value a message can carry (without encoding it, so without its size) and
 * returns it; `BAD_REQUEST` as {@link encodeBody} words it. For a call that must refuse a bad body
 * before it acts on anything else.
 */
export function validateBody(body: unknown): MessageBody {
  try {
    if (!plainBody(body, 0)) checkBody(body, 'body', 0);
  } catch (error) {
    if (isFosError(error)) throw error;
    throw new FosError('BAD_REQUEST', `message body cannot be read: ${errorText(error)}`, {
      value: body,
      cause: error,
    });
  }
  return body as MessageBody;
}

/**
 * Encodes a body to a fresh, standalone byte array (never a view into a shared buffer, so it can be
 * transferred between threads). `BAD_REQUEST` for a value of a type a message cannot carry,
 * `MESSAGE_TOO_LARGE` beyond `bytesMax`.
 */
export function encodeBody(body: unknown, bytesMax: number = messageBytesMax): Uint8Array {
  return new Uint8Array(encodeBodyTransient(body, bytesMax));
}

/**
 * {@link encodeBody} without the copy: a view into the encoder's buffer, good only until the next
 * encode in this thread. For a writer that copies the bytes at once (the kernel writes them straight
 * into a channel ring); anything that keeps them must use `encodeBody`.
 */
export function encodeBodyTransient(body: unknown, bytesMax: number = messageBytesMax): Uint8Array {
  const bare = encodeBytes(body, bytesMax);
  if (bare !== undefined) return bare;
  let packed: Uint8Array;
  try {
    if (!plainBody(body, 0)) checkBody(body, 'body', 0);
    packed = packr.pack(body, RESET_BUFFER_MODE);
  } catch (error) {
    // A getter or a proxy that throws when read is the caller's value misbehaving, not a fault of fos.
    if (isFosError(error)) throw error;
    throw new FosError('BAD_REQUEST', `message body cannot be read: ${errorText(error)}`, {
      value: body,
      cause: error,
    });
  }
  if (packed.length > bytesMax) throw tooLarge(packed.length, bytesMax);
  return packed;
}

/** The refusal of an encoded body of `bytes` bytes above `bytesMax`. */
function tooLarge(bytes: number, bytesMax: number): FosError {
  return new FosError('MESSAGE_TOO_LARGE', `message body of ${bytes} bytes exceeds messageBytesMax (${bytesMax})`, {
    value: bytes,
  });
}

// Bytes bodies (the commonest body of a stream that carries its own format) skip the encoder: the
// same MessagePack bin header msgpackr writes, then the bytes, into one reused scratch buffer.
let scratch = new Uint8Array(1024);
const binHeaderBytesMax = 5;
// The length a typed array's own slots hold (never an own `length` property set on the instance).
const typedArrayLengthGetter =
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called only through Reflect.apply with its array
  Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype) as object, 'length')!.get!;
const typedArrayLength = (bytes: Uint8Array): number => Reflect.apply(typedArrayLengthGetter, bytes, []) as number;

/**
 * A plain `Uint8Array` body encoded as one bin value into the scratch buffer; undefined for any other
 * body, and for a byte array that misbehaves when read (the general encoder words its refusal).
 */
function encodeBytes(body: unknown, bytesMax: number): Uint8Array | undefined {
  let length: number;
  try {
    // isView first: it reads internal slots only, so a proxy never runs a trap here.
    if (!ArrayBuffer.isView(body) || Object.getPrototypeOf(body) !== Uint8Array.prototype) return undefined;
    length = typedArrayLength(body as Uint8Array);
  } catch {
    return undefined;
  }
  const header = length < 0x100 ? 2 : length < 0x10000 ? 3 : binHeaderBytesMax;
  const total = header + length;
  if (total > bytesMax) throw tooLarge(total, bytesMax);
  if (scratch.length < total) scratch = new Uint8Array(Math.max(total, 2 * scratch.length));
  if (header === 2) {
    scratch[0] = 0xc4;
    scratch[1] = length;
  } else if (header === 3) {
    scratch[0] = 0xc5;
    scratch[1] = length >>> 8;
    scratch[2] = length & 0xff;
  } else {
    scratch[0] = 0xc6;
    new DataView(scratch.buffer).setUint32(1, length);
  }
  scratch.set(body as Uint8Array, header);
  return scratch.subarray(0, total);
}

/** The bytes of a body that is one bin value filling `bytes` exactly, or undefined for any other body. */
function decodeBytes(bytes: Uint8Array): Uint8Array | undefined {
  const total = bytes.length;
  const header = bytes[0] === 0xc4 ? 2 : bytes[0] === 0xc5 ? 3 : bytes[0] === 0xc6 ? binHeaderBytesMax : 0;
  // Not a bin header, or one cut short: the general decoder decides (and refuses the latter).
  if (header === 0 || total < header) return undefined;
  const length =
    header === 2
      ? bytes[1]!
      : header === 3
        ? (bytes[1]! << 8) | bytes[2]!
        : new DataView(bytes.buffer, bytes.byteOffset, total).getUint32(1);
  if (header + length !== total) return undefined;
  // A view when nothing else lives in the buffer, else a copy (as the decoder does).
  return isStandalone(bytes) ? bytes.subarray(header) : bytes.slice(header);
}

/**
 * True when `bytes` is the whole of its buffer: then byte arrays decoded from it may be views into it,
 * since nothing else lives there.
 */
function isStandalone(bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
}

/**
 * Decodes bytes made by {@link encodeBody} (`BAD_REQUEST` for anything else); the result shares nothing with any sender's object, nor
 * with other messages: its byte arrays are views into `bytes` only when `bytes` is the whole of its
 * buffer, and copies when `bytes` is a piece of a buffer shared with other messages.
 */
export function decodeBody(bytes: Uint8Array): MessageBody {
  // A proxy answers instanceof through its traps; isView reads the value's own slots only.
  if (!ArrayBuffer.isView(bytes) || !(bytes instanceof Uint8Array)) {
    throw new FosError('BAD_REQUEST', `message bytes ${describeValue(bytes)} are not a Uint8Array`, { value: bytes });
  }
  const bare = decodeBytes(bytes);
  if (bare !== undefined) return bare;
  try {
    return (isStandalone(bytes) ? packr : copyingUnpackr).unpack(bytes) as MessageBody;
  } catch (error) {
    throw new FosError('BAD_REQUEST', `message bytes cannot be decoded: ${errorText(error)}`, {
      value: bytes.length,
      cause: error,
    });
  }
}

/** A deep copy through the codec: what the receiver of a message gets. */
export function copyBody<T extends MessageBody>(body: T, bytesMax?: number): T {
  return decodeBody(encodeBody(body, bytesMax)) as T;
}

/** @internal The two body checks, for the test that the fast one never accepts what the full one refuses. */
export const bodyChecksForTests = { plainBody, checkBody } as const;
