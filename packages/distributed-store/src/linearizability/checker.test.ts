import { isFosError } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { checkOperations, historyOperationsMax, type Model, type Operation } from './index.js';

// A plain read/write register holding a number (0 at first): the checker knows nothing of the store.
type RegisterInput = { readonly kind: 'write'; readonly value: number } | { readonly kind: 'read' };
type RegisterOutput = number | undefined;
type RegisterOperation = Operation<RegisterInput, RegisterOutput>;

const registerModel: Model<number, RegisterInput, RegisterOutput> = {
  init: () => 0,
  step: (state, input, output) =>
    input.kind === 'write' ? { ok: true, state: input.value } : { ok: output === state, state },
  equal: (a, b) => a === b,
  describeOperation: (input, output) =>
    input.kind === 'write' ? `write(${input.value})` : `read() → ${String(output)}`,
  describeState: (state) => `register = ${state}`,
};

const write = (client: number, call: number, ret: number, value: number): RegisterOperation => ({
  client,
  input: { kind: 'write', value },
  output: undefined,
  call,
  return: ret,
});
const read = (client: number, call: number, ret: number, value: number): RegisterOperation => ({
  client,
  input: { kind: 'read' },
  output: value,
  call,
  return: ret,
});

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    return isFosError(error) ? error.code : 'not a FosError';
  }
  return undefined;
}

describe('checkOperations over a register (the algorithm is generic)', () => {
  it('accepts the classic history: a write concurrent with two reads, one seeing the old value and one the new', () => {
    // C0: |------ write(100) ------|
    // C1:    |-- read() → 100 --|
    // C2:      |- read() → 0 -|
    const history = [write(0, 0, 100, 100), read(1, 25, 75, 100), read(2, 30, 60, 0)];
    expect(checkOperations(registerModel, history).result).toBe('ok');
  });

  it('rejects the classic history where a read that starts after another read saw the new value sees the old one', () => {
    // C0: |------------ write(200) ------------|
    // C1:   |- read() → 200 -|
    // C2:                       |- read() → 0 -|
    const history = [write(0, 0, 100, 200), read(1, 10, 30, 200), read(2, 40, 90, 0)];
    const result = checkOperations(registerModel, history);
    expect(result.result).toBe('illegal');
    expect(result.partition?.linearizedPrefix).toEqual([history[0], history[1]]);
    expect(result.partition?.candidates).toEqual([history[2]]);
    expect(result.explanation).toContain('read() → 0');
    expect(result.explanation).toContain('register = 200');
  });

  it('accepts a sequential history and an empty one', () => {
    const history = [write(0, 0, 1, 1), read(1, 2, 3, 1), write(1, 4, 5, 2), read(0, 6, 7, 2)];
    expect(checkOperations(registerModel, history)).toEqual({
      result: 'ok',
      steps: expect.any(Number) as number,
      partitions: 1,
    });
    expect(checkOperations(registerModel, [])).toEqual({ result: 'ok', steps: 0, partitions: 1 });
  });

  it('finds the order by backtracking when the first one tried fails', () => {
    // Two concurrent writes, then a read of the first: only write(2) before write(1) explains it.
    const history = [write(0, 0, 10, 1), write(1, 0, 10, 2), read(2, 11, 12, 1)];
    expect(checkOperations(registerModel, history).result).toBe('ok');
    expect(checkOperations(registerModel, [...history, read(2, 13, 14, 2)]).result).toBe('illegal');
  });

  it('takes operations that touch (one answered at t, the other invoked at t) as concurrent', () => {
    expect(checkOperations(registerModel, [write(0, 0, 10, 1), read(1, 10, 20, 0)]).result).toBe('ok');
    expect(checkOperations(registerModel, [write(0, 0, 10, 1), read(1, 11, 20, 0)]).result).toBe('illegal');
  });

  it('places an unanswered operation anywhere after its call, or leaves it out', () => {
    const lost = write(0, 5, Number.POSITIVE_INFINITY, 7);
    expect(checkOperations(registerModel, [lost, read(1, 0, 1, 0), read(1, 10, 11, 0)]).result).toBe('ok'); // never happened
    expect(checkOperations(registerModel, [lost, read(1, 10, 11, 0), read(1, 20, 21, 7)]).result).toBe('ok'); // happened late
    expect(checkOperations(registerModel, [lost, read(1, 0, 1, 7)]).result).toBe('illegal'); // seen before its call
    expect(checkOperations(registerModel, [lost, read(1, 10, 11, 7), read(1, 20, 21, 0)]).result).toBe('illegal'); // seen, then undone
  });

  it('prunes with the memo: many concurrent writes of one value are not tried in every order', () => {
    const history: RegisterOperation[] = [];
    for (let client = 0; client < 14; client += 1) history.push(write(client, 0, 100, 1));
    history.push(read(14, 101, 102, 2));
    const result = checkOperations(registerModel, history);
    expect(result.result).toBe('illegal');
    expect(result.steps).toBeLessThan(2_000_000); // 14! orders without the memo; about 14 × 2^14 with it
  });

  it("answers 'unknown' when the step bound is hit", () => {
    const history = [write(0, 0, 10, 1), write(1, 0, 10, 2), read(2, 11, 12, 1)];
    const result = checkOperations(registerModel, history, { stepsMax: 2 });
    expect(result).toMatchObject({ result: 'unknown', steps: 2 });
    expect(result.explanation).toContain('gave up after 2 steps');
    expect(checkOperations(registerModel, history, { stepsMax: 1_000 }).result).toBe('ok');
  });

  it('checks each part on its own when the model partitions the history (P-compositionality)', () => {
    // Registers named by the client: client n only touches register n.
    const perClient: Model<number, RegisterInput, RegisterOutput> = {
      ...registerModel,
      partition: (operations) =>
        [0, 1, 2].map((client) => operations.filter((operation) => operation.client === client)),
      partitionKey: (operations) => `r${String(operations[0]?.client)}`,
    };
    const history = [write(0, 0, 1, 5), read(0, 2, 3, 5), write(1, 0, 1, 6), read(1, 2, 3, 6), read(2, 0, 1, 0)];
    expect(checkOperations(perClient, history)).toMatchObject({ result: 'ok', partitions: 3 });
    // Under the one-register model the same history is illegal: read(0) → 5 sees r1's write of 6 last, or r0's.
    expect(checkOperations(registerModel, history).result).toBe('illegal');
    const bad = checkOperations(perClient, [...history, read(1, 4, 5, 5)]);
    expect(bad.result).toBe('illegal');
    expect(bad.partition).toMatchObject({ index: 1, key: 'r1' });
    expect(bad.explanation).toContain('key "r1"');
  });

  it('refuses malformed operations and options with BAD_REQUEST', () => {
    expect(codeOf(() => checkOperations(registerModel, [read(0, 5, 4, 0)]))).toBe('BAD_REQUEST');
    expect(codeOf(() => checkOperations(registerModel, [read(0, Number.NaN, 4, 0)]))).toBe('BAD_REQUEST');
    expect(
      codeOf(() => checkOperations(registerModel, [read(0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY, 0)])),
    ).toBe('BAD_REQUEST');
    expect(codeOf(() => checkOperations(registerModel, [read(0, 0, Number.NaN, 0)]))).toBe('BAD_REQUEST');
    expect(codeOf(() => checkOperations(registerModel, [null as unknown as RegisterOperation]))).toBe('BAD_REQUEST');
    expect(codeOf(() => checkOperations(registerModel, [], { stepsMax: -1 }))).toBe('BAD_REQUEST');
    expect(codeOf(() => checkOperations(registerModel, [], { stepsMax: 1.5 }))).toBe('BAD_REQUEST');
  });

  it('refuses a history longer than historyOperationsMax with LIMIT_EXCEEDED', () => {
    const history = Array.from({ length: historyOperationsMax + 1 }, (_, index) => read(0, index, index, 0));
    expect(codeOf(() => checkOperations(registerModel, history))).toBe('LIMIT_EXCEEDED');
    expect(checkOperations(registerModel, history.slice(1)).result).toBe('ok');
  });
});
