import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { bodyChecksForTests, copyBody, decodeBody, encodeBody, type MessageBody } from './codec.js';
import { hasFosErrorCode } from './errors.js';

function refusal(body: unknown, bytesMax?: number): string | undefined {
  try {
    encodeBody(body, bytesMax);
    return undefined;
  } catch (error) {
    return hasFosErrorCode(error, 'BAD_REQUEST')
      ? 'BAD_REQUEST'
      : hasFosErrorCode(error, 'MESSAGE_TOO_LARGE')
        ? 'MESSAGE_TOO_LARGE'
        : String(error);
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
    [
      'a class instance',
      new (class Point {
        x = 1;
      })(),
    ],
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

describe('bytes bodies (encoded without the general encoder)', () => {
  // The general encoder, with the codec's settings: a bytes body must encode to exactly its bytes.
  const reference = new Packr({ useRecords: false, int64AsType: 'bigint', moreTypes: false, mapsAsObjects: true });

  it.each([0, 1, 255, 256, 65_535, 65_536, 70_000])('encode %i bytes exactly as the general encoder would', (size) => {
    const body = new Uint8Array(size).map((_, index) => index * 7);
    const encoded = encodeBody(body, 1 << 20);
    expect(Buffer.from(encoded).equals(reference.pack(body))).toBe(true);
    const decoded = decodeBody(encoded) as Uint8Array;
    expect(decoded).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(decoded).equals(Buffer.from(body))).toBe(true);
  });

  it('encodes and decodes any bytes as the general codec does', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (body) => {
        const encoded = encodeBody(body);
        expect(Buffer.from(encoded).equals(reference.pack(body))).toBe(true);
        expect(Buffer.from(decodeBody(encoded) as Uint8Array).equals(reference.unpack(encoded) as Buffer)).toBe(true);
      }),
    );
  });

  it('decodes a bytes body from a shared buffer as a copy, and from a standalone one as a view', () => {
    const encoded = encodeBody(new Uint8Array([1, 2, 3]));
    const view = decodeBody(encoded) as Uint8Array;
    expect(view.buffer).toBe(encoded.buffer);
    const shared = new Uint8Array(encoded.length + 8);
    shared.set(encoded, 4);
    const piece = decodeBody(shared.subarray(4, 4 + encoded.length)) as Uint8Array;
    expect(piece.buffer).not.toBe(shared.buffer);
    shared[6] = 99;
    expect([...piece]).toEqual([1, 2, 3]);
  });

  it('reads a byte array by its slots, not by a length its instance claims', () => {
    const body = new Uint8Array([1, 2, 3, 4]);
    Object.defineProperty(body, 'length', { get: () => 1 });
    expect([...(decodeBody(encodeBody(body)) as Uint8Array)]).toEqual([1, 2, 3, 4]);
  });

  it('keeps a Buffer body and a bytes body beside others to the general encoder', () => {
    expect([...(decodeBody(encodeBody(Buffer.from([4, 5]))) as Uint8Array)]).toEqual([4, 5]);
    expect(decodeBody(encodeBody([new Uint8Array([1])]))).toEqual([new Uint8Array([1])]);
  });

  it('refuses a bytes body past the limit with MESSAGE_TOO_LARGE, counting its header', () => {
    expect(refusal(new Uint8Array(62), 64)).toBeUndefined();
    expect(refusal(new Uint8Array(63), 64)).toBe('MESSAGE_TOO_LARGE');
  });

  it.each([
    ['a bin header longer than the bytes', [0xc4, 5, 1, 2]],
    ['a bin16 header without its length', [0xc5, 1]],
    ['a bin32 header without its length', [0xc6, 0, 0]],
    ['a bin value followed by more bytes', [0xc4, 1, 7, 0xc0]],
  ])('refuses %s with BAD_REQUEST', (_what, bytes) => {
    let caught: unknown;
    try {
      decodeBody(new Uint8Array(bytes));
    } catch (error) {
      caught = error;
    }
    expect(hasFosErrorCode(caught, 'BAD_REQUEST')).toBe(true);
  });
});

describe('the fast body check', () => {
  const { plainBody, checkBody } = bodyChecksForTests;
  const accepts = (value: unknown): boolean => {
    try {
      checkBody(value, 'body', 0);
      return true;
    } catch {
      return false;
    }
  };
  class Point {
    x = 1;
  }
  const sparseArray = (): unknown[] => {
    const holes: unknown[] = [1];
    holes[2] = 3;
    return holes;
  };
  // Values a body may hold and values it may not, nested anywhere.
  const leaf = fc.oneof(
    fc.anything(),
    fc.constantFrom<unknown>(
      Number.NaN,
      Number.POSITIVE_INFINITY,
      -0,
      2n ** 64n,
      -(2n ** 63n) - 1n,
      2n ** 64n - 1n,
      new Date(Number.NaN),
      new Date(5),
      new Map(),
      new Set(),
      new Point(),
      () => 1,
      Symbol('s'),
      Object.create(null),
      new Uint8Array(3),
      [undefined],
      sparseArray(),
    ),
  );
  const value = fc.letrec<{ tree: unknown }>((tie) => ({
    tree: fc.oneof(
      { depthSize: 'small' },
      leaf,
      fc.array(tie('tree'), { maxLength: 4 }),
      fc.dictionary(fc.string({ maxLength: 4 }), tie('tree'), { maxKeys: 4 }),
    ),
  })).tree;

  it('never accepts what the full check refuses, and accepts every plain body the full check accepts', () => {
    fc.assert(
      fc.property(value, (candidate) => {
        if (plainBody(candidate, 0)) expect(accepts(candidate)).toBe(true);
      }),
      { numRuns: 5_000 },
    );
    for (const plain of [
      { a: [1, 'x', { b: null }], c: 2n, d: new Uint8Array(2), e: new Date(1), f: undefined },
      [true, false],
      'text',
      1.5,
    ])
      expect(plainBody(plain, 0)).toBe(true);
  });

  it('leaves depth to the full check at bodyDepthMax + 1', () => {
    let deep: unknown = 1;
    for (let level = 0; level < 70; level++) deep = [deep];
    expect(plainBody(deep, 0)).toBe(false);
    expect(accepts(deep)).toBe(false);
  });
});
