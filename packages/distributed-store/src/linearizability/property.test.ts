import { hasFosErrorCode, type MessageBody } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { LocalStore } from '../local-store.js';
import { checkOperations, storeModel, type StoreInput, type StoreOperation, type StoreOutput } from './index.js';

// Property tests over seeded random histories. fast-check is not a dependency of this package (yet):
// a small xorshift generator stands in, and each property runs over many seeds. Every history is a
// real sequential execution against LocalStore, so the model is also checked against the store.

/** A deterministic generator of integers in [0, n). */
type Random = (n: number) => number;

function xorshift(seed: number): Random {
  let state = (seed * 0x9e3779b1) >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state % n;
  };
}

const values: readonly MessageBody[] = [0, 1, 'a', 'b', { n: 1 }, { n: 2, tag: 'x' }, [1, 2], null];

interface HistoryShape {
  readonly operations: number;
  readonly keys: number;
  readonly clients: number;
  /** How far an operation's interval may reach, in linearization slots, before and after its point. */
  readonly widening: number;
  /** Out of 100: how often a modification is recorded as unanswered (its effect still happened). */
  readonly unansweredPercent: number;
}

/** Runs random operations one at a time on a LocalStore and records what it answered, at points 10, 20, 30… */
async function sequentialExecution(
  random: Random,
  shape: HistoryShape,
): Promise<Array<{ input: StoreInput; output: StoreOutput }>> {
  const store = new LocalStore<MessageBody>();
  const executed: Array<{ input: StoreInput; output: StoreOutput }> = [];
  for (let index = 0; index < shape.operations; index += 1) {
    const key = `k${random(shape.keys)}`;
    const current = await store.get(key);
    // Mostly the version the key is at, so that modifications mostly succeed; sometimes a stale one.
    const version =
      current === undefined
        ? 1 + random(2)
        : random(5) === 0
          ? Math.max(1, current.version + random(3) - 1)
          : current.version;
    const value = values[random(values.length)] ?? 0;
    const roll = random(10);
    const input: StoreInput =
      roll < 3
        ? { op: 'get', key }
        : roll < 5
          ? { op: 'insert', key, value }
          : roll < 8
            ? { op: 'update', key, value, expectedVersion: version }
            : { op: 'delete', key, expectedVersion: version };
    let output: StoreOutput;
    try {
      if (input.op === 'get') output = await store.get(key);
      else {
        if (input.op === 'insert') await store.insert(key, input.value as MessageBody);
        else if (input.op === 'update') await store.update(key, input.value as MessageBody, input.expectedVersion);
        else await store.delete(key, input.expectedVersion);
        output = { ok: true };
      }
    } catch (error) {
      if (!hasFosErrorCode(error, 'CONFLICT')) throw error;
      output = { ok: false, code: 'CONFLICT' };
    }
    executed.push({ input, output });
  }
  return executed;
}

/**
 * Spreads a sequential execution over clients and widens every operation's interval around its point
 * (10 × (index+1)) without letting one client's operations overlap. The points stay inside the
 * intervals, so the sequential order is still a valid linearization: the history stays linearizable.
 */
function widen(
  random: Random,
  executed: ReadonlyArray<{ input: StoreInput; output: StoreOutput }>,
  shape: HistoryShape,
  roundRobin: boolean,
): StoreOperation[] {
  const clients = executed.map((_, index) => (roundRobin ? index % shape.clients : random(shape.clients)));
  const point = (index: number): number => 10 * (index + 1);
  const lastReturn = new Map<number, number>();
  return executed.map(({ input, output }, index) => {
    const client = clients[index] ?? 0;
    const next = clients.indexOf(client, index + 1);
    const earliest = (lastReturn.get(client) ?? -1) + 1;
    const call = Math.max(earliest, point(index) - random(10 * shape.widening + 1));
    const latest = next === -1 ? point(index) + 10 * shape.widening : point(next) - 1;
    const ret = Math.min(latest, point(index) + random(10 * shape.widening + 1));
    lastReturn.set(client, ret);
    if (input.op !== 'get' && random(100) < shape.unansweredPercent) {
      return { client, input, output: { unknown: true }, call, return: Number.POSITIVE_INFINITY };
    }
    return { client, input, output, call, return: ret };
  });
}

/** Replaces one get's output by a value nobody ever wrote; undefined when the history has no get. */
function corruptOneGet(
  random: Random,
  history: readonly StoreOperation[],
): { history: StoreOperation[]; key: string } | undefined {
  const gets = history.flatMap((operation, index) => (operation.input.op === 'get' ? [index] : []));
  if (gets.length === 0) return undefined;
  const target = gets[random(gets.length)] ?? 0;
  const corrupted = history.slice();
  const operation = history[target] as StoreOperation;
  corrupted[target] = { ...operation, output: { value: { neverWritten: target }, version: 1 + random(3) } };
  return { history: corrupted, key: operation.input.key };
}

describe('checkOperations over histories of LocalStore (seeded properties)', () => {
  it('answers ok for any widening of a sequential execution, unanswered operations included', async () => {
    for (let seed = 1; seed <= 300; seed += 1) {
      const random = xorshift(seed);
      const shape: HistoryShape = {
        operations: 5 + random(60),
        keys: 1 + random(3),
        clients: 1 + random(6),
        widening: random(6),
        unansweredPercent: random(3) * 5,
      };
      const history = widen(random, await sequentialExecution(random, shape), shape, false);
      const result = checkOperations(storeModel, history);
      expect({ seed, result: result.result, explanation: result.explanation }).toEqual({
        seed,
        result: 'ok',
        explanation: undefined,
      });
    }
  });

  it('answers illegal, at the right key, once one get reads a value never written', async () => {
    let checked = 0;
    for (let seed = 1; seed <= 300; seed += 1) {
      const random = xorshift(seed);
      const shape: HistoryShape = {
        operations: 5 + random(60),
        keys: 1 + random(3),
        clients: 1 + random(6),
        widening: random(6),
        unansweredPercent: random(3) * 5,
      };
      const corrupted = corruptOneGet(random, widen(random, await sequentialExecution(random, shape), shape, false));
      if (corrupted === undefined) continue;
      checked += 1;
      const result = checkOperations(storeModel, corrupted.history);
      expect({ seed, result: result.result, key: result.partition?.key }).toEqual({
        seed,
        result: 'illegal',
        key: corrupted.key,
      });
    }
    expect(checked).toBeGreaterThan(250);
  });

  it('checks 8 clients × 100 concurrent operations on 3 keys well under a second', async () => {
    for (const seed of [11, 12, 13]) {
      const random = xorshift(seed);
      const shape: HistoryShape = { operations: 800, keys: 3, clients: 8, widening: 7, unansweredPercent: 1 };
      const history = widen(random, await sequentialExecution(random, shape), shape, true);
      // The widening really makes the clients concurrent: most operations overlap another one.
      const overlapping = history.filter((a) =>
        history.some((b) => a !== b && a.call <= b.return && b.call <= a.return),
      ).length;
      expect(overlapping).toBeGreaterThan(700);
      const started = performance.now();
      const ok = checkOperations(storeModel, history);
      const corrupted = corruptOneGet(random, history);
      const illegal = corrupted === undefined ? undefined : checkOperations(storeModel, corrupted.history);
      const elapsed = performance.now() - started;
      expect(ok.result).toBe('ok');
      expect(illegal?.result).toBe('illegal');
      expect(elapsed).toBeLessThan(1_000);
    }
  });
});
