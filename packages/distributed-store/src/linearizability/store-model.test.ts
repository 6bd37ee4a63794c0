import { isFosError } from '@fos/base';
import { describe, expect, it } from 'vitest';
import {
  checkOperations,
  createStoreModel,
  historyOperationsMax,
  storeModel,
  type StoreInput,
  type StoreOperation,
  type StoreOutput,
} from './index.js';

const never = Number.POSITIVE_INFINITY;
const OK: StoreOutput = { ok: true };
const CONFLICT: StoreOutput = { ok: false, code: 'CONFLICT' };
const UNKNOWN: StoreOutput = { unknown: true };

function op(client: number, call: number, ret: number, input: StoreInput, output: StoreOutput): StoreOperation {
  return { client, call, return: ret, input, output };
}
const insert = (
  client: number,
  call: number,
  ret: number,
  key: string,
  value: unknown,
  output: StoreOutput = OK,
): StoreOperation => op(client, call, ret, { op: 'insert', key, value }, output);
const update = (
  client: number,
  call: number,
  ret: number,
  key: string,
  value: unknown,
  expectedVersion: number,
  output: StoreOutput = OK,
): StoreOperation => op(client, call, ret, { op: 'update', key, value, expectedVersion }, output);
const remove = (
  client: number,
  call: number,
  ret: number,
  key: string,
  expectedVersion: number,
  output: StoreOutput = OK,
): StoreOperation => op(client, call, ret, { op: 'delete', key, expectedVersion }, output);
const get = (
  client: number,
  call: number,
  ret: number,
  key: string,
  seen: { value: unknown; version: number } | undefined,
): StoreOperation => op(client, call, ret, { op: 'get', key }, seen);

function check(history: readonly StoreOperation[]): string {
  return checkOperations(storeModel, history).result;
}

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isFosError(error) ? error.code : 'not a FosError';
  }
  return undefined;
}

describe('storeModel', () => {
  it('accepts a sequential history with every operation and both outcomes', () => {
    const history = [
      get(0, 0, 1, 'a', undefined),
      update(0, 2, 3, 'a', 'x', 1, CONFLICT),
      remove(0, 4, 5, 'a', 1, CONFLICT),
      insert(0, 6, 7, 'a', { owner: 'fs', n: 1 }),
      insert(1, 8, 9, 'a', 'other', CONFLICT),
      get(1, 10, 11, 'a', { value: { n: 1, owner: 'fs' }, version: 1 }), // properties in another order: equal
      update(1, 12, 13, 'a', [1, 2], 1),
      update(0, 14, 15, 'a', 'stale', 1, CONFLICT),
      get(0, 16, 17, 'a', { value: [1, 2], version: 2 }),
      remove(0, 18, 19, 'a', 1, CONFLICT),
      remove(1, 20, 21, 'a', 2),
      get(1, 22, 23, 'a', undefined),
    ];
    expect(check(history)).toBe('ok');
  });

  it('rejects a stale read after a completed update', () => {
    const history = [
      insert(0, 0, 1, 'a', 'v1'),
      update(0, 2, 3, 'a', 'v2', 1),
      get(1, 4, 5, 'a', { value: 'v1', version: 1 }),
    ];
    const result = checkOperations(storeModel, history);
    expect(result.result).toBe('illegal');
    expect(result.partition?.key).toBe('a');
    expect(result.partition?.linearizedPrefix).toEqual(history.slice(0, 2));
    expect(result.partition?.candidates).toEqual([history[2]]);
    expect(result.explanation).toContain('key "a": not linearizable');
    expect(result.explanation).toContain('State after the prefix: v2 "v2"');
    expect(result.explanation).toContain('client 1 [4, 5] get("a") → v1 "v1"');
  });

  it('accepts a get concurrent with an update seeing either value', () => {
    const before = [insert(0, 0, 1, 'a', 'v1'), update(0, 2, 10, 'a', 'v2', 1)];
    expect(check([...before, get(1, 3, 8, 'a', { value: 'v1', version: 1 })])).toBe('ok');
    expect(check([...before, get(1, 3, 8, 'a', { value: 'v2', version: 2 })])).toBe('ok');
    expect(check([...before, get(1, 3, 8, 'a', { value: 'v2', version: 1 })])).toBe('illegal'); // a version that never held that value
  });

  it('rejects two concurrent inserts that both succeed, and accepts them when one answers CONFLICT', () => {
    expect(check([insert(0, 0, 10, 'a', 'x'), insert(1, 1, 9, 'a', 'y')])).toBe('illegal');
    expect(check([insert(0, 0, 10, 'a', 'x'), insert(1, 1, 9, 'a', 'y', CONFLICT)])).toBe('ok');
    expect(check([insert(0, 0, 10, 'a', 'x', CONFLICT), insert(1, 1, 9, 'a', 'y')])).toBe('ok');
    // …but then a later read must see the winner.
    expect(
      check([
        insert(0, 0, 10, 'a', 'x', CONFLICT),
        insert(1, 1, 9, 'a', 'y'),
        get(2, 11, 12, 'a', { value: 'x', version: 1 }),
      ]),
    ).toBe('illegal');
  });

  it('rejects a CONFLICT whose precondition held throughout, unless conflicts may be spurious', () => {
    const history = [
      insert(0, 0, 1, 'a', 'v1'),
      update(1, 2, 3, 'a', 'v2', 1, CONFLICT),
      get(1, 4, 5, 'a', { value: 'v1', version: 1 }),
    ];
    expect(check(history)).toBe('illegal');
    expect(check([insert(0, 0, 1, 'a', 'v1'), remove(1, 2, 3, 'a', 1, CONFLICT)])).toBe('illegal');
    expect(check([insert(0, 0, 1, 'a', 'v1'), insert(1, 2, 3, 'b', 'v1', CONFLICT)])).toBe('illegal');
    // Explainable when a concurrent update moved the version first.
    expect(
      check([insert(0, 0, 1, 'a', 'v1'), update(1, 2, 10, 'a', 'v2', 1, CONFLICT), update(2, 3, 9, 'a', 'v3', 1)]),
    ).toBe('ok');
    const spurious = createStoreModel({ conflictsMayBeSpurious: true });
    expect(checkOperations(spurious, history).result).toBe('ok');
    // A spurious CONFLICT still has no effect.
    expect(
      checkOperations(spurious, [...history.slice(0, 2), get(1, 4, 5, 'a', { value: 'v2', version: 2 })]).result,
    ).toBe('illegal');
  });

  it('restarts versions at 1 after a delete and an insert', () => {
    const history = [
      insert(0, 0, 1, 'a', 'v1'),
      update(0, 2, 3, 'a', 'v2', 1),
      remove(0, 4, 5, 'a', 2),
      insert(0, 6, 7, 'a', 'w1'),
    ];
    expect(
      check([
        ...history,
        get(1, 8, 9, 'a', { value: 'w1', version: 1 }),
        update(1, 10, 11, 'a', 'w2', 1),
        get(1, 12, 13, 'a', { value: 'w2', version: 2 }),
      ]),
    ).toBe('ok');
    expect(check([...history, update(1, 8, 9, 'a', 'w2', 3)])).toBe('illegal'); // the old numbering is gone
    expect(
      check([...history, update(1, 8, 9, 'a', 'w2', 3, CONFLICT), get(1, 10, 11, 'a', { value: 'w1', version: 1 })]),
    ).toBe('ok');
  });

  it('assumes an unanswered operation happened when a later read needs it', () => {
    const history = [
      insert(0, 0, 1, 'a', 'v1'),
      update(0, 2, never, 'a', 'v2', 1, UNKNOWN),
      get(1, 5, 6, 'a', { value: 'v2', version: 2 }),
    ];
    expect(check(history)).toBe('ok');
    // Even long after the reads that did not see it yet.
    expect(
      check([
        insert(0, 0, 1, 'a', 'v1'),
        update(0, 2, never, 'a', 'v2', 1, UNKNOWN),
        get(1, 5, 6, 'a', { value: 'v1', version: 1 }),
        get(1, 50, 51, 'a', { value: 'v2', version: 2 }),
      ]),
    ).toBe('ok');
    // But not before it was invoked.
    expect(
      check([
        insert(0, 0, 1, 'a', 'v1'),
        get(1, 2, 3, 'a', { value: 'v2', version: 2 }),
        update(0, 4, never, 'a', 'v2', 1, UNKNOWN),
      ]),
    ).toBe('illegal');
  });

  it('assumes an unanswered operation did not happen when the reads say so, but not both', () => {
    const lost = insert(0, 0, never, 'b', 'x', UNKNOWN);
    expect(check([lost, get(1, 5, 6, 'b', undefined), get(1, 7, 8, 'b', undefined)])).toBe('ok');
    expect(
      check([
        lost,
        get(1, 5, 6, 'b', undefined),
        insert(1, 7, 8, 'b', 'y'),
        get(1, 9, 10, 'b', { value: 'y', version: 1 }),
      ]),
    ).toBe('ok');
    expect(check([lost, get(1, 1, 2, 'b', { value: 'x', version: 1 }), get(1, 3, 4, 'b', undefined)])).toBe('illegal'); // seen, then gone
    // A get that timed out says nothing.
    expect(check([insert(0, 0, 1, 'a', 'v1'), op(1, 2, never, { op: 'get', key: 'a' }, UNKNOWN)])).toBe('ok');
  });

  it('rejects a read of a value never written', () => {
    expect(check([insert(0, 0, 1, 'a', 'v1'), get(1, 0, 5, 'a', { value: 'v0', version: 1 })])).toBe('illegal');
    expect(check([get(1, 0, 5, 'a', { value: 'v1', version: 1 })])).toBe('illegal');
  });

  it('checks each key on its own and reports the key at fault', () => {
    const history = [
      insert(0, 0, 1, 'a', 1),
      insert(1, 0, 1, 'b', 1),
      insert(2, 0, 1, 'c', 1),
      update(0, 2, 5, 'a', 2, 1),
      get(1, 3, 4, 'a', { value: 1, version: 1 }),
      update(1, 6, 7, 'b', 2, 1),
      get(2, 8, 9, 'b', { value: 1, version: 1 }), // stale
      remove(2, 2, 3, 'c', 1),
      get(0, 8, 9, 'c', undefined),
    ];
    const result = checkOperations(storeModel, history);
    expect(result).toMatchObject({ result: 'illegal', partitions: 3, partition: { index: 1, key: 'b' } });
    expect(result.partition?.operations).toHaveLength(3);
    expect(result.explanation).toMatch(/^key "b": not linearizable \(3 operations\)/);
    expect(check(history.filter((operation) => operation.input.key !== 'b'))).toBe('ok');
  });

  it("answers 'unknown' when stepsMax is tiny", () => {
    const history = [
      insert(0, 0, 10, 'a', 'x', CONFLICT),
      insert(1, 1, 9, 'a', 'y'),
      get(2, 11, 12, 'a', { value: 'y', version: 1 }),
    ];
    expect(checkOperations(storeModel, history, { stepsMax: 1 })).toMatchObject({
      result: 'unknown',
      steps: 1,
      partition: { key: 'a' },
    });
    expect(checkOperations(storeModel, history, { stepsMax: 0 }).result).toBe('unknown');
    expect(checkOperations(storeModel, history).result).toBe('ok');
  });

  it('refuses a history longer than historyOperationsMax with LIMIT_EXCEEDED', () => {
    const history = Array.from({ length: historyOperationsMax + 1 }, (_, index) =>
      get(0, index, index, `k${index % 7}`, undefined),
    );
    expect(codeOf(() => checkOperations(storeModel, history))).toBe('LIMIT_EXCEEDED');
  });

  it('refuses malformed store operations with BAD_REQUEST', () => {
    const bad: unknown[] = [
      insert(0, 0, 1, 'a', 'x', UNKNOWN), // an unknown outcome with a response time
      insert(0, 0, 1, '', 'x'),
      op(0, 0, 1, { op: 'upsert', key: 'a' } as unknown as StoreInput, OK),
      update(0, 0, 1, 'a', 'x', 0),
      remove(0, 0, 1, 'a', 1.5),
      op(0, 0, 1, { op: 'insert', key: 'a' } as unknown as StoreInput, OK),
      get(0, 0, 1, 'a', { version: 1 } as unknown as { value: unknown; version: number }),
      get(0, 0, 1, 'a', { value: 'x', version: 0 }),
      insert(0, 0, 1, 'a', 'x', { ok: false, code: 'TIMEOUT' } as unknown as StoreOutput),
      insert(0, 0, 1, 'a', 'x', { value: 'x', version: 1 }),
      insert(0, 3, 1, 'a', 'x'),
    ];
    for (const operation of bad)
      expect(codeOf(() => checkOperations(storeModel, [operation as StoreOperation]))).toBe('BAD_REQUEST');
  });
});

describe('the store model with values and arguments it cannot read', () => {
  it('answers a history value a message cannot carry with BAD_REQUEST (a function failed an assertion inside the search)', () => {
    const history = [
      { client: 0, call: 0, return: 1, input: { op: 'insert', key: 'a', value: () => 1 }, output: { ok: true } },
    ];
    expect(() => checkOperations(storeModel, history as never)).toThrow(
      /^BAD_REQUEST: store operation 0: the insert's value is not a message body/,
    );
  });

  it('answers an output that throws when read, or a method called with what it cannot read, with BAD_REQUEST', () => {
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('no');
        },
      },
    );
    const history = [{ client: 0, call: 0, return: 1, input: { op: 'get', key: 'a' }, output: throwing }];
    expect(() => checkOperations(storeModel, history as never)).toThrow(
      /^BAD_REQUEST: storeModel.partition: an argument throws when read$/,
    );
    expect(() => storeModel.step(undefined, null as never, { ok: true })).toThrow(
      /^BAD_REQUEST: storeModel.step: the input null is not an object$/,
    );
    expect(() => storeModel.equal({ value: Symbol('v'), version: 1 }, undefined)).not.toThrow();
    expect(() => storeModel.equal({ value: Symbol('v'), version: 1 }, { value: 1, version: 1 })).toThrow(
      /^BAD_REQUEST: storeModel.equal: the value of a state is not a message body/,
    );
    expect(() => checkOperations({ init: () => 0 } as never, [])).toThrow(
      /^BAD_REQUEST: the model's step is not a function/,
    );
    expect(() => createStoreModel({ conflictsMayBeSpurious: 'yes' as never })).toThrow(
      /^BAD_REQUEST: conflictsMayBeSpurious "yes" is not a boolean$/,
    );
  });
});
