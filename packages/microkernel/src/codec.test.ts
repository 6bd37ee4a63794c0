import { describe, expect, it } from 'vitest';
import { copyBody, decodeBody, encodeBody, type MessageBody } from './codec.js';
import { hasFosErrorCode } from './errors.js';

function refusal(body: unknown, bytesMax?: number): string | undefined {
  try {
    encodeBody(body, bytesMax);
    return undefined;
  } catch (error) {
    return hasFosErrorCode(error, 'BAD_REQUEST') ? 'BAD_REQUEST' : hasFosErrorCode(error, 'MESSAGE_TOO_LARGE') ? 'MESSAGE_TOO_LARGE' : String(error);
  }
}

describe('message bodies', () => {
  it('round-trips every allowed type as a fresh copy', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    const body: MessageBody = {
      text: 'hé',
      count: 42,
      big: 2 ** 40,
      fraction: -1.5,
      flag: true,
      nothing: null,
      missing: undefined,
      small: -3n,
      huge: 2n ** 64n - 1n,
      bytes,
      when: new Date(1234),
      list: [1, 'two', [3]],
      nested: { deeper: { deepest: 'yes' } },
    };
    const copy = decodeBody(encodeBody(body)) as Record<string, MessageBody>;
    expect(copy).toEqual({ ...body, bytes: expect.any(Uint8Array) as unknown });
    expect([...(copy.bytes as Uint8Array)]).toEqual([1, 2, 3]);
    expect(copy.nested).not.toBe(body.nested);
    bytes[0] = 99;
    expect((copy.bytes as Uint8Array)[0]).toBe(1);
  });

  it('encodes to a standalone buffer that can be transferred', () => {
    const encoded = encodeBody({ a: 'x'.repeat(10) });
    expect(encoded.byteOffset).toBe(0);
    expect(encoded.buffer.byteLength).toBe(encoded.length);
  });

  it.each([
    ['a function', { f: () => 1 }],
    ['a symbol', Symbol('s')],
    ['a Map', new Map()],
    ['a class instance', new (class Point { x = 1; })()],
    ['NaN', Number.NaN],
    ['Infinity', [Infinity]],
    ['a bigint beyond 64 bits', 2n ** 64n],
    ['a bigint below int64', -(2n ** 63n) - 1n],
    ['undefined inside an array', [1, undefined]],
    ['an invalid Date', new Date(Number.NaN)],
  ])('refuses %s with BAD_REQUEST', (_what, body) => {
    expect(refusal(body)).toBe('BAD_REQUEST');
  });

  it('refuses a cycle by its depth', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(refusal(cyclic)).toBe('BAD_REQUEST');
  });

  it('refuses a body beyond the size limit with MESSAGE_TOO_LARGE', () => {
    expect(refusal(new Uint8Array(100), 64)).toBe('MESSAGE_TOO_LARGE');
    expect(refusal(new Uint8Array(64 * 1024))).toBe('MESSAGE_TOO_LARGE');
    expect(refusal(new Uint8Array(60 * 1024))).toBeUndefined();
  });

  it('copies', () => {
    const original = { list: [1, 2] };
    const copy = copyBody(original);
    expect(copy).toEqual(original);
    expect(copy.list).not.toBe(original.list);
  });
});
