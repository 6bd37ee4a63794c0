import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  aliasOf,
  copyBody,
  decodeBody,
  describedCharactersMax,
  describeValue,
  encodeBody,
  isFosError,
  isUnderSubdomain,
  parentDomain,
  parseName,
  readArgument,
  validateName,
  validateBody,
  validateSubdomain,
  type FosErrorCode,
} from './index.js';
import { readFileSync } from 'node:fs';
import { documentedErrorCodes, hostileValues } from './testing.js';

const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));

/** The public calls of this package that take outside values, and the codes each may answer. */
const calls: ReadonlyArray<{
  name: string;
  codes: readonly FosErrorCode[];
  call: (a: unknown, b: unknown) => unknown;
}> = [
  { name: 'parseName', codes: ['INVALID_NAME'], call: (a) => parseName(a) },
  { name: 'validateName', codes: ['INVALID_NAME'], call: (a) => validateName(a) },
  { name: 'validateSubdomain', codes: ['INVALID_NAME'], call: (a) => validateSubdomain(a) },
  { name: 'isUnderSubdomain', codes: ['INVALID_NAME'], call: (a, b) => isUnderSubdomain(a as string, b as string) },
  { name: 'parentDomain', codes: ['INVALID_NAME'], call: (a) => parentDomain(a as string) },
  { name: 'aliasOf', codes: ['INVALID_NAME'], call: (a) => aliasOf(a as string) },
  { name: 'encodeBody', codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'], call: (a) => encodeBody(a) },
  { name: 'copyBody', codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'], call: (a) => copyBody(a as never) },
  { name: 'validateBody', codes: ['BAD_REQUEST'], call: (a) => validateBody(a) },
  { name: 'decodeBody', codes: ['BAD_REQUEST'], call: (a) => decodeBody(a as Uint8Array) },
];

describe('any JavaScript value through the public calls of @fos/base', () => {
  it('describeValue names every hostile value in a bounded text and never throws', () => {
    for (const value of hostileValues()) {
      const text = describeValue(value);
      expect(typeof text).toBe('string');
      // the bound, plus the count of what was cut ("… (1048576 characters)")
      expect(text.length).toBeLessThanOrEqual(describedCharactersMax + 40);
    }
    expect(describeValue(12n)).toBe('12n');
    expect(describeValue({ a: 1n })).toBe('{"a":"1n"}');
    expect(describeValue(new Proxy({}, { ownKeys: () => [], get: () => 1 }))).toBe('{}');
  });

  it('every call answers success or one of its documented FosError codes (1,200 arguments per call)', () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const met = new Set<string>();
    for (const { name, codes, call } of calls) {
      fc.assert(
        fc.property(anyValue, anyValue, (a, b) => {
          try {
            call(a, b);
          } catch (error) {
            if (!isFosError(error) || !codes.includes(error.code))
              throw new Error(`${name}(${describeValue(a)}, ${describeValue(b)}) threw ${String(error)}`);
            expect(error.message.length).toBeLessThan(2 * describedCharactersMax + 200);
            met.add(error.code);
          }
        }),
        { numRuns: 1_200 },
      );
    }
    // The README's table of errors lists every code the calls answered.
    expect([...met].filter((code) => !documented.has(code as FosErrorCode))).toEqual([]);
    expect(met.size).toBeGreaterThanOrEqual(2);
  }, 180_000);

  it('a body whose getter throws is BAD_REQUEST, and the codec still works after it', () => {
    const body = {
      get broken(): never {
        throw new Error('read me not');
      },
    };
    expect(() => encodeBody(body)).toThrow(
      /BAD_REQUEST: message body at body.broken|BAD_REQUEST: message body cannot be read/,
    );
    expect(copyBody({ still: 'works' })).toEqual({ still: 'works' });
    // A hole of a sparse array would decode as undefined, which a body cannot hold.
    const sparse: unknown[] = [];
    sparse[2] = 1;
    expect(() => validateBody(sparse)).toThrow(/BAD_REQUEST: message body at body\[0\] is undefined inside an array/);
  });

  it('readArgument turns a value that throws when read into BAD_REQUEST and lets a FosError through', () => {
    const proxy = hostileValues().find((value) => describeValue(value) === 'an object that throws when read');
    expect(() => readArgument(proxy, 'the options', () => (proxy as { a: unknown }).a)).toThrow(
      /^BAD_REQUEST: the options cannot be read: an object that throws when read$/,
    );
    expect(() => readArgument(1, 'x', () => validateName('relative'))).toThrow(/^INVALID_NAME/);
    expect(readArgument({ a: 2 }, 'x', () => 2)).toBe(2);
  });

  it('a bigint or a huge string as a name is INVALID_NAME with a short message', () => {
    expect(() => validateName(5n)).toThrow('INVALID_NAME: 5n is not a string');
    const huge = `/${'a'.repeat(1 << 20)}`;
    let message = '';
    try {
      validateName(huge);
    } catch (error) {
      message = String(error);
    }
    expect(message).toMatch(/INVALID_NAME: .*… \(1048577 characters\) is longer than nameCharactersMax/);
    expect(message.length).toBeLessThan(400);
  });
});
