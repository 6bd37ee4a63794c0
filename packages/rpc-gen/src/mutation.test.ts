import { dispatchRpc, methodOrdinal } from '@fos/dispatcher';
import { isFosError } from '@fos/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SampleApi } from './fixtures/sample-api.js';
import { serveSampleApi } from './fixtures/generated/sample-api.rpc.js';

// The oracle: hand-written judgements of what each method accepts, independent of zod and of the
// generated schemas. An object member accepts any non-array object (what a schema of members
// checks); a Record<string, T> wants a plain object; numbers must be finite (a message carries no
// NaN); members and arguments not in the interface are ignored (they are stripped).
type Judge = (value: unknown) => boolean;
const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isPlainRecord = (value: unknown): value is Record<string, unknown> =>
  isObject(value) && (Object.getPrototypeOf(value) === Object.prototype || Object.getPrototypeOf(value) === null);
const isString: Judge = (value) => typeof value === 'string';
const isNumber: Judge = (value) => typeof value === 'number' && Number.isFinite(value);
const isBoolean: Judge = (value) => typeof value === 'boolean';
const isBytes: Judge = (value) => value instanceof Uint8Array;
const isDate: Judge = (value) => value instanceof Date && !Number.isNaN(value.getTime());
const optional =
  (judge: Judge): Judge =>
  (value) =>
    value === undefined || judge(value);
const nullable =
  (judge: Judge): Judge =>
  (value) =>
    value === null || judge(value);
const arrayOf =
  (judge: Judge): Judge =>
  (value) =>
    Array.isArray(value) && value.every((item) => judge(item));
const recordOf =
  (judge: Judge): Judge =>
  (value) =>
    isPlainRecord(value) && Object.values(value).every((item) => judge(item));
const oneOf =
  (...allowed: unknown[]): Judge =>
  (value) =>
    allowed.some((candidate) => Object.is(candidate, value));
const isPoint: Judge = (value) => isObject(value) && isNumber(value.x) && isNumber(value.y);
const isLevel = oneOf(1, 2, 3);
const isColor = oneOf('red', 'green', 'blue');
const isShape: Judge = (value) => {
  if (!isObject(value)) return false;
  if (value.type === 'circle') return isPoint(value.center) && isNumber(value.radius);
  if (value.type === 'polygon') return arrayOf(isPoint)(value.points) && optional(isBoolean)(value.closed);
  return false;
};
const isEvent: Judge = (value) => {
  if (!isObject(value)) return false;
  if (value.type === 'start') return isNumber(value.at);
  if (value.type === 'stop') return optional(isString)(value.reason) && nullable(isNumber)(value.code);
  return false;
};
const isDrawing: Judge = (value) =>
  isObject(value) &&
  isString(value.title) &&
  arrayOf(isShape)(value.shapes) &&
  optional(isColor)(value.color) &&
  arrayOf(isString)(value.tags) &&
  nullable(isPoint)(value.origin) &&
  recordOf(isNumber)(value.weights) &&
  optional(isBytes)(value.thumbnail) &&
  isDate(value.created) &&
  Array.isArray(value.layers) &&
  value.layers.length === 2 &&
  isString(value.layers[0]) &&
  isNumber(value.layers[1]);
const isPair: Judge = (value) => Array.isArray(value) && value.length === 2 && isNumber(value[0]) && isNumber(value[1]);
const isLabel: Judge = (value) =>
  Array.isArray(value) &&
  (value.length === 1 || value.length === 2) &&
  isString(value[0]) &&
  optional(isNumber)(value[1]);
const isQuery: Judge = (value) =>
  isObject(value) &&
  recordOf(isNumber)(value.counts) &&
  arrayOf(isLevel)(value.levels) &&
  optional(nullable(isNumber))(value.limit);

/** Per method: its arguments by name with their judges. */
const oracle: Record<string, Record<string, Judge>> = {
  echo: { text: isString, times: optional(isNumber) },
  add: { a: (value) => typeof value === 'bigint', b: (value) => typeof value === 'bigint' },
  put: { name: isString, bytes: isBytes, overwrite: optional(isBoolean) },
  draw: { drawing: isDrawing },
  move: { from: isPoint, by: isPair, label: optional(isLabel) },
  classify: {
    level: isLevel,
    mode: oneOf('fast', 'exact', false),
    key: (value) => isString(value) || isNumber(value),
    flag: nullable(isBoolean),
  },
  handle: { event: isEvent },
  tally: { query: isQuery },
  later: { at: isDate },
};

function judge(method: string, args: Record<string, unknown>): boolean {
  return Object.entries(oracle[method] ?? {}).every(([name, check]) => check(args[name]));
}

// Valid argument objects, written from the interface by hand.
const finite = fc.double({ noNaN: true, noDefaultInfinity: true });
const point = fc.record({ x: finite, y: finite });
const level = fc.constantFrom(1, 2, 3);
const shape = fc.oneof(
  fc.record({ type: fc.constant('circle'), center: point, radius: finite }),
  fc.record(
    { type: fc.constant('polygon'), points: fc.array(point, { maxLength: 3 }), closed: fc.boolean() },
    { requiredKeys: ['type', 'points'] },
  ),
);
const validCalls: fc.Arbitrary<{ method: string; args: Record<string, unknown> }> = fc.oneof(
  fc
    .record({ text: fc.string(), times: fc.nat(5) }, { requiredKeys: ['text'] })
    .map((args) => ({ method: 'echo', args })),
  fc
    .record({
      a: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      b: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
    })
    .map((args) => ({ method: 'add', args })),
  fc
    .record(
      { name: fc.string(), bytes: fc.uint8Array({ maxLength: 8 }), overwrite: fc.boolean() },
      { requiredKeys: ['name', 'bytes'] },
    )
    .map((args) => ({ method: 'put', args })),
  fc
    .record({
      drawing: fc.record(
        {
          title: fc.string(),
          shapes: fc.array(shape, { maxLength: 3 }),
          color: fc.constantFrom('red', 'green', 'blue'),
          tags: fc.array(fc.string(), { maxLength: 3 }),
          origin: fc.option(point, { nil: null }),
          weights: fc.dictionary(fc.string(), finite, { maxKeys: 3 }),
          thumbnail: fc.uint8Array({ maxLength: 4 }),
          created: fc.date({ noInvalidDate: true }),
          layers: fc.tuple(fc.string(), finite),
        },
        { requiredKeys: ['title', 'shapes', 'tags', 'origin', 'weights', 'created', 'layers'] },
      ),
    })
    .map((args) => ({ method: 'draw', args })),
  fc
    .record(
      {
        from: point,
        by: fc.tuple(finite, finite),
        label: fc.oneof(fc.tuple(fc.string()), fc.tuple(fc.string(), finite)),
      },
      { requiredKeys: ['from', 'by'] },
    )
    .map((args) => ({ method: 'move', args })),
  fc
    .record({
      level,
      mode: fc.constantFrom('fast', 'exact', false),
      key: fc.oneof(fc.string(), finite),
      flag: fc.option(fc.boolean(), { nil: null }),
    })
    .map((args) => ({ method: 'classify', args })),
  fc
    .record({
      event: fc.oneof(
        fc.record({ type: fc.constant('start'), at: finite }),
        fc.record(
          { type: fc.constant('stop'), reason: fc.string(), code: fc.option(finite, { nil: null }) },
          { requiredKeys: ['type', 'code'] },
        ),
      ),
    })
    .map((args) => ({ method: 'handle', args })),
  fc
    .record({
      query: fc.record(
        {
          counts: fc.dictionary(fc.string(), finite, { maxKeys: 3 }),
          levels: fc.array(level, { maxLength: 3 }),
          limit: fc.option(finite, { nil: null }),
        },
        { requiredKeys: ['counts', 'levels'] },
      ),
    })
    .map((args) => ({ method: 'tally', args })),
  fc.record({ at: fc.date({ noInvalidDate: true }) }).map((args) => ({ method: 'later', args })),
);

// Values a mutation puts in place of a field: other types, near-miss literals, broken nested values.
const replacements: readonly (() => unknown)[] = [
  () => 'text',
  () => '',
  () => 'circle',
  () => 'polygon',
  () => 'stop',
  () => 'red',
  () => 'purple',
  () => 'fast',
  () => 'slow',
  () => 0,
  () => 2,
  () => 4,
  () => -1.5,
  () => Number.NaN,
  () => Number.POSITIVE_INFINITY,
  () => 7n,
  () => true,
  () => false,
  () => null,
  () => undefined,
  () => [],
  () => [1, 2],
  () => ['x'],
  () => ['x', 'y'],
  () => ({}),
  () => ({ x: 1 }),
  () => ({ x: 1, y: 2 }),
  () => ({ type: 'circle' }),
  () => ({ type: 'start', at: '1' }),
  () => new Uint8Array([1]),
  () => new Date(0),
  () => new Date(Number.NaN),
];

type PathKey = string | number;

function paths(value: unknown, prefix: PathKey[] = []): PathKey[][] {
  if (Array.isArray(value))
    return value.flatMap((item: unknown, index) => [[...prefix, index], ...paths(item, [...prefix, index])]);
  if (isPlainRecord(value))
    return Object.entries(value).flatMap(([key, item]) => [[...prefix, key], ...paths(item, [...prefix, key])]);
  return [];
}

function parentOf(root: unknown, path: readonly PathKey[]): Record<PathKey, unknown> {
  let node = root;
  for (const key of path.slice(0, -1)) node = (node as Record<PathKey, unknown>)[key];
  return node as Record<PathKey, unknown>;
}

type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'drop' | 'replace' | 'extra'; readonly pick: number; readonly replacement: number };

/** Applies `mutation` to a copy of `args`; answers the copy and the argument it touched (if any). */
function mutate(
  args: Record<string, unknown>,
  mutation: Mutation,
): { args: Record<string, unknown>; argument: string | undefined } {
  const copy = structuredClone(args);
  const all = paths(copy);
  if (mutation.kind === 'none' || all.length === 0) return { args: copy, argument: undefined };
  const path = all[mutation.pick % all.length] ?? [];
  const key = path[path.length - 1] ?? '';
  const parent = parentOf(copy, path);
  if (mutation.kind === 'drop') {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (mutation.kind === 'replace') {
    parent[key] = replacements[mutation.replacement % replacements.length]?.();
  } else {
    const target = parent[key];
    if (isPlainRecord(target)) target.unexpectedMember = 'x';
    else copy.unexpectedArgument = 1;
  }
  return { args: copy, argument: String(path[0]) };
}

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 1, arbitrary: fc.constant({ kind: 'none' } as const) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom('drop', 'replace', 'replace', 'extra'),
      pick: fc.nat(),
      replacement: fc.nat(),
    }),
  },
);

function countingImpl(calls: string[]): SampleApi {
  const names = [
    'echo',
    'add',
    'put',
    'get',
    'draw',
    'move',
    'classify',
    'handle',
    'tally',
    'later',
    'ping',
    'nothing',
  ];
  return Object.fromEntries(
    names.map((name) => [
      name,
      async () => {
        calls.push(name);
        return null;
      },
    ]),
  ) as unknown as SampleApi;
}

describe('dispatchRpc with the generated schemas', () => {
  it('rejects every mutated payload the oracle judges invalid before the implementation, and serves every valid one once', async () => {
    const verdicts = { valid: 0, invalid: 0 };
    await fc.assert(
      fc.asyncProperty(validCalls, mutations, async ({ method, args }, mutation) => {
        expect(judge(method, args)).toBe(true);
        const mutated = mutate(args, mutation);
        const calls: string[] = [];
        const service = serveSampleApi(countingImpl(calls));
        const request = { rpc: methodOrdinal('SampleApi', method), args: mutated.args };
        if (judge(method, mutated.args)) {
          verdicts.valid += 1;
          await dispatchRpc(service, request);
          expect(calls).toEqual([method]);
          return;
        }
        verdicts.invalid += 1;
        let caught: unknown;
        try {
          await dispatchRpc(service, request);
        } catch (error) {
          caught = error;
        }
        expect(isFosError(caught) && caught.code).toBe('BAD_REQUEST');
        expect(String((caught as Error).message)).toContain(`SampleApi.${method}: argument ${mutated.argument}`);
        expect(calls).toEqual([]);
      }),
      { seed: 42, numRuns: 10_000 },
    );
    expect(verdicts.invalid).toBeGreaterThan(4_000);
    expect(verdicts.valid).toBeGreaterThan(1_000);
  });

  it('answers BAD_REQUEST to an unknown ordinal and to a body that is not a request', async () => {
    const calls: string[] = [];
    const service = serveSampleApi(countingImpl(calls));
    for (const body of [
      { rpc: methodOrdinal('SampleApi', 'missing'), args: {} },
      { rpc: -1, args: {} },
      { rpc: methodOrdinal('SampleApi', 'ping') },
      'ping',
    ]) {
      await expect(dispatchRpc(service, body)).rejects.toSatisfy(
        (error) => isFosError(error) && error.code === 'BAD_REQUEST',
      );
    }
    expect(calls).toEqual([]);
  });
});
