// Any JavaScript value through every public call of the store: each answers success or a FosError whose
// code the README documents, and a refused call leaves the table (its hash) and the counters as they were.
import { readFileSync } from 'node:fs';
import { describedCharactersMax, describeValue, isFosError, type FosErrorCode, type MessageBody } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { VirtualClock } from '@fos/sim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalStore, ReplicatedMember, StoreCore, type StoreMessage } from './index.js';
import {
  checkerOperations,
  checkOperations,
  createStoreModel,
  plantedBugRules,
  progressFailures,
  runFailures,
  simulateStore,
  storeModel,
  sweepSeeds,
  waitDieRules,
  withStoreRules,
  type CheckOptions,
  type Model,
  type StoreRules,
} from './testing.js';

const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
/** Mostly a well-formed value, sometimes a hostile one: most calls then get past their first checks. */
const either = (...valid: unknown[]): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 3 }, { arbitrary: anyValue, weight: 1 });

const modification = fc.oneof(
  fc.record({ op: either('insert'), key: either('k1', 'k2', ''), value: either('v', { owner: 'fs' }) }),
  fc.record({ op: either('update'), key: either('k1'), value: either('w'), expectedVersion: either(1, 2, 0) }),
  fc.record({ op: either('delete'), key: either('k1', 'k3'), expectedVersion: either(1, 2) }),
);
const operation = fc.oneof(
  modification,
  fc.record({ op: either('get'), key: either('k1', 'k2') }),
  fc.record({ op: either('join'), sponsor: either('b', 'a') }),
  fc.record({ op: either('leave', 'nap') }),
  anyValue,
);
const message: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ kind: either('voteRequest'), request: either('b#9'), originator: either('b'), modification }),
  fc.record({ kind: either('vote'), request: either('a#2', 'a#9'), yes: either(true, false) }),
  fc.record({ kind: either('outcome'), request: either('b#9'), key: either('k1'), commit: either(true, false) }),
  fc.record({
    kind: either('membershipRequest'),
    change: fc.record({ change: either('c:1'), op: either('join', 'leave'), member: either('c', 'b') }),
    replyTo: either('b'),
  }),
  fc.record({ kind: either('membershipDone'), change: either('a:1'), error: either(undefined, 'no') }),
  fc.record({ kind: either('block', 'blocked', 'installed', 'membersApplied', 'gossip'), change: either('c:1') }),
  fc.record({
    kind: either('install'),
    change: either('c:1'),
    part: either(0, 1, -1),
    table: fc.oneof(
      fc.array(fc.record({ key: either('k9'), value: anyValue, version: either(1, 2) }), { maxLength: 2 }),
      anyValue,
    ),
    members: either(undefined, ['a', 'b'], ['a', 'a']),
  }),
  fc.record({
    kind: either('members'),
    change: either('c:1'),
    members: either(['a', 'b'], ['b']),
    ack: either(undefined, true),
  }),
  anyValue,
);

/** A local store, two replicated cores with a modification in flight, and a lone replicated member. */
async function fixture(): Promise<{
  store: LocalStore<never>;
  a: StoreCore<MessageBody>;
  member: ReplicatedMember<never>;
  state: () => { tables: unknown; counters: unknown };
  works: () => Promise<void>;
}> {
  const store = new LocalStore<never>({ entriesMax: 3 });
  await store.insert('k0', 0 as never);
  await store.insert('k1', 'v' as never);
  await store.insert('k2', { owner: 'fs' } as never);
  await store.update('k2', { owner: 'fs2' } as never, 1);
  const a = new StoreCore<MessageBody>({ name: 'a', peers: ['b'] });
  const b = new StoreCore<MessageBody>({ name: 'b', peers: ['a'] });
  a.propose({ op: 'insert', key: 'k1', value: 'v' }, 10);
  for (const { message } of a.ready().messages) b.step('a', message, 10);
  for (const { message } of b.ready().messages) a.step('b', message, 10);
  for (const { message } of a.ready().messages) b.step('a', message, 10);
  b.ready();
  a.propose({ op: 'insert', key: 'k2', value: 'w' }, 10); // its vote request stays in flight
  a.ready();
  const member = new ReplicatedMember<never>({
    name: 'm',
    peers: [],
    transport: { send: () => undefined },
    clock: new VirtualClock(10),
  });
  await member.insert('k1', 'v' as never);
  // The tables, and what else an argument's refusal must leave alone (an operation that ran and met
  // CONFLICT counts it, and that is no refusal of its arguments).
  const state = (): { tables: unknown; counters: unknown } => ({
    tables: [store.hash(), store.size, a.hash(), member.hash()],
    counters: [a.stats(), a.quiet, [...a.peers], a.serving, member.stats(), member.quiet, member.serving],
  });
  const works = async (): Promise<void> => {
    // Each still answers an ordinary call.
    const full = store.size >= 3;
    const inserted = await store.insert('probe', 'p' as never).then(
      () => 'ok',
      (error: unknown) => (isFosError(error) ? error.code : error),
    );
    expect(inserted).toBe(full ? 'LIMIT_EXCEEDED' : 'ok');
    expect(await store.get('probe')).toEqual(full ? undefined : { value: 'p', version: 1 });
    expect(typeof a.propose({ op: 'get', key: 'k1' }, Number.MAX_VALUE)).toBe('number');
    expect(Array.isArray(a.ready().completed)).toBe(true);
    expect(a.hash()).toMatch(/^[0-9a-f]{16}$/);
    // A peer's well-formed message may have told the member it left (SHUTDOWN from then on), or to block
    // (modifications then wait for the coordinator): trusted peers may. A Get of an untouched key answers.
    const left = !member.serving;
    const quiet = member.quiet;
    const probe = quiet ? member.insert('probe', 'p' as never).then(() => member.get('probe')) : member.get('probe');
    const answered = await probe.catch((error: unknown) => (isFosError(error) ? error.code : error));
    if (left) expect(answered).toBe('SHUTDOWN');
    else expect(answered).toEqual(quiet ? { value: 'p', version: 1 } : undefined);
  };
  return { store, a, member, state, works };
}

type Fixture = Awaited<ReturnType<typeof fixture>>;

const storeCodes: FosErrorCode[] = ['BAD_REQUEST', 'MESSAGE_TOO_LARGE', 'CONFLICT', 'LIMIT_EXCEEDED'];
const memberCodes: FosErrorCode[] = ['BAD_REQUEST', 'MESSAGE_TOO_LARGE', 'CONFLICT', 'SHUTDOWN'];

/** The public calls of the library entry, with well-formed or hostile arguments, and the codes each may answer. */
const calls: ReadonlyArray<{
  name: string;
  codes: readonly FosErrorCode[];
  args: fc.Arbitrary<unknown[]>;
  call: (fixture: Fixture, args: unknown[]) => unknown;
}> = [
  {
    name: 'new LocalStore',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(fc.oneof(fc.record({ entriesMax: either(1, 10) }), anyValue)),
    call: (_, [a]) => new LocalStore(a as never),
  },
  {
    name: 'LocalStore.insert',
    codes: storeCodes,
    args: fc.tuple(either('k1', 'k3', ''), anyValue),
    call: ({ store }, [a, b]) => store.insert(a as string, b as never),
  },
  {
    name: 'LocalStore.update',
    codes: storeCodes,
    args: fc.tuple(either('k1', 'k2'), anyValue, either(1, 2, 0)),
    call: ({ store }, [a, b, c]) => store.update(a as string, b as never, c as number),
  },
  {
    name: 'LocalStore.delete',
    codes: storeCodes,
    args: fc.tuple(either('k1', 'k2'), either(1, 2)),
    call: ({ store }, [a, b]) => store.delete(a as string, b as number),
  },
  {
    name: 'LocalStore.get',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either('k1', 'none')),
    call: ({ store }, [a]) => store.get(a as string),
  },
  {
    name: 'new StoreCore',
    codes: ['BAD_REQUEST', 'LIMIT_EXCEEDED'],
    args: fc.tuple(
      either('a', ''),
      either(['b'], [], ['a'], ['b', 'b']),
      either(undefined, 64, 0),
      either(undefined, true),
    ),
    call: (_, [name, peers, installChunkBytesMax, joining]) =>
      new StoreCore({ name, peers, installChunkBytesMax, joining } as never),
  },
  {
    name: 'new StoreCore(options)',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(anyValue),
    call: (_, [a]) => new StoreCore(a as never),
  },
  {
    name: 'StoreCore.propose',
    codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'],
    args: fc.tuple(operation, either(10, 11, 5)),
    call: ({ a }, [o, t]) => a.propose(o as never, t as number),
  },
  {
    name: 'StoreCore.step',
    codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'],
    args: fc.tuple(either('b', 'c'), message, either(10, 12)),
    call: ({ a }, [from, m, t]) => a.step(from as string, m as StoreMessage<MessageBody>, t as number),
  },
  {
    name: 'StoreCore.tick',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(10, 2_000, 3)),
    call: ({ a }, [t]) => a.tick(t as number),
  },
  {
    name: 'new ReplicatedMember',
    codes: ['BAD_REQUEST', 'LIMIT_EXCEEDED'],
    args: fc.tuple(
      either('m'),
      either({ send: () => undefined }),
      either(new VirtualClock()),
      either(undefined, <T>(promise: Promise<T>) => promise),
    ),
    call: (_, [name, transport, clock, park]) =>
      new ReplicatedMember({ name, peers: [], transport, clock, park } as never),
  },
  {
    name: 'ReplicatedMember.insert',
    codes: memberCodes,
    args: fc.tuple(either('k1', 'k2'), anyValue),
    call: ({ member }, [a, b]) => member.insert(a as string, b as never),
  },
  {
    name: 'ReplicatedMember.update',
    codes: memberCodes,
    args: fc.tuple(either('k1'), anyValue, either(1, 2)),
    call: ({ member }, [a, b, c]) => member.update(a as string, b as never, c as number),
  },
  {
    name: 'ReplicatedMember.delete',
    codes: memberCodes,
    args: fc.tuple(either('k1'), either(1, 3)),
    call: ({ member }, [a, b]) => member.delete(a as string, b as number),
  },
  {
    name: 'ReplicatedMember.get',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either('k1', 'k9')),
    call: ({ member }, [a]) => member.get(a as string),
  },
  {
    name: 'ReplicatedMember.join',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either('x', 'm')),
    call: ({ member }, [a]) => member.join(a as string),
  },
  {
    name: 'ReplicatedMember.receive',
    codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'],
    args: fc.tuple(either('x'), message),
    call: ({ member }, [from, m]) => member.receive(from as string, m as StoreMessage<never>),
  },
];

const runsPerCall = 600;

describe('any JavaScript value through the public calls of @fos/distributed-store', () => {
  it(`every call answers success or a documented FosError, and a refused call changes nothing (${runsPerCall} arguments per call)`, async () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const met = new Set<FosErrorCode>();
    let callCount = 0;
    for (const { name, codes, args, call } of calls) {
      await fc.assert(
        fc.asyncProperty(args, async (values) => {
          const made = await fixture();
          const before = made.state();
          callCount++;
          try {
            await call(made, values);
          } catch (error) {
            if (!isFosError(error) || !codes.includes(error.code))
              throw new Error(
                `${name}(${values.map((value) => describeValue(value)).join(', ')}) threw ${String(error)}`,
              );
            expect(error.message.length).toBeLessThan(3 * describedCharactersMax + 200);
            met.add(error.code);
            const after = made.state();
            expect(after.tables).toEqual(before.tables);
            if (error.code === 'BAD_REQUEST' || error.code === 'MESSAGE_TOO_LARGE')
              expect(after.counters).toEqual(before.counters);
          }
          await made.works();
        }),
        { numRuns: runsPerCall },
      );
    }
    expect(callCount).toBeGreaterThanOrEqual(10_000);
    expect([...met].filter((code) => !documented.has(code))).toEqual([]);
    expect([...met].sort()).toEqual(['BAD_REQUEST', 'CONFLICT', 'LIMIT_EXCEEDED']);
  }, 60_000);
});

const notANumber = anyValue.filter((value) => typeof value !== 'number');
const storeInput = fc.oneof(
  fc.record({ op: either('insert'), key: either('a'), value: either('v1', { n: 1 }) }),
  fc.record({ op: either('update'), key: either('a'), value: either('v2'), expectedVersion: either(1, 2) }),
  fc.record({ op: either('delete'), key: either('a'), expectedVersion: either(1) }),
  fc.record({ op: either('get'), key: either('a', 'b') }),
);
const storeOutput = either({ ok: true }, { ok: false, code: 'CONFLICT' }, { value: 'v1', version: 1 }, undefined, {
  unknown: true,
});
const storeState = either(undefined, { value: 'v1', version: 1 }, { value: { n: 1 }, version: 2 });
const history = fc.oneof(
  {
    arbitrary: fc.array(
      fc.record({
        client: either(0, 1),
        call: either(0, 5),
        return: either(10, Infinity),
        input: storeInput,
        output: storeOutput,
      }),
      { maxLength: 4 },
    ),
    weight: 3,
  },
  { arbitrary: anyValue, weight: 1 },
);
const smallRun = simulateStore(3, { members: 2, clients: 2, operationsPerClient: 3, membershipChanges: 1 });
const contendedRun = simulateStore(4, {
  members: 2,
  clients: 2,
  operationsPerClient: 2,
  workload: 'contended',
  membershipChanges: 0,
});

/** The public calls of the testing entry, with well-formed or hostile arguments, and the codes each may answer. */
const testingCalls: ReadonlyArray<{
  name: string;
  codes: readonly FosErrorCode[];
  args: fc.Arbitrary<unknown[]>;
  call: (args: unknown[]) => unknown;
  runs?: number;
}> = [
  {
    name: 'checkOperations',
    codes: ['BAD_REQUEST', 'LIMIT_EXCEEDED'],
    args: fc.tuple(
      either(storeModel, createStoreModel({ conflictsMayBeSpurious: true })),
      history,
      either({}, { stepsMax: 100 }),
    ),
    call: ([model, operations, options]) =>
      checkOperations(model as Model<unknown, unknown, unknown>, operations as never, options as CheckOptions),
  },
  {
    name: 'createStoreModel',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either({}, { conflictsMayBeSpurious: true })),
    call: ([a]) => createStoreModel(a as never),
  },
  {
    name: 'storeModel.step',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(storeState, storeInput, storeOutput),
    call: ([a, b, c]) => storeModel.step(a as never, b as never, c as never),
  },
  {
    name: 'storeModel.equal',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(storeState, storeState),
    call: ([a, b]) => storeModel.equal(a as never, b as never),
  },
  {
    name: 'storeModel.hash',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(storeState),
    call: ([a]) => storeModel.hash?.(a as never),
  },
  {
    name: 'storeModel.partition',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(history),
    call: ([a]) => storeModel.partition?.(a as never),
  },
  {
    name: 'storeModel.partitionKey',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(history),
    call: ([a]) => storeModel.partitionKey?.(a as never),
  },
  {
    name: 'storeModel.describeOperation',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(storeInput, storeOutput),
    call: ([a, b]) => storeModel.describeOperation?.(a as never, b as never),
  },
  {
    name: 'storeModel.describeState',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(storeState),
    call: ([a]) => storeModel.describeState?.(a as never),
  },
  {
    name: 'waitDieRules.arbitrate',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(undefined, { request: 'b#1', originator: 'b' }), either('a', 'c')),
    call: ([a, b]) => waitDieRules.arbitrate(a as never, b as string),
  },
  {
    name: 'withStoreRules',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      either({ name: 'a', peers: [] }),
      either(waitDieRules, plantedBugRules({ modifyDuringJoin: true }), { ...waitDieRules, applyOnlyIfOwner: 1 }),
    ),
    call: ([a, b]) => {
      const symbols = (): number => {
        try {
          return Object.getOwnPropertySymbols(a).length;
        } catch {
          return -1;
        }
      };
      const before = symbols();
      try {
        return withStoreRules(a as object, b as StoreRules);
      } catch (error) {
        expect(symbols()).toBe(before); // refused: the options took no rules
        throw error;
      }
    },
  },
  {
    name: 'plantedBugRules',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either({}, { thesisPreemption: true }, { nope: true })),
    call: ([a]) => plantedBugRules(a as never),
  },
  {
    name: 'simulateStore',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      either(1, 2, -7),
      fc.oneof(
        fc.record({
          members: fc.oneof(fc.constantFrom(1, 2, 0), notANumber),
          clients: fc.oneof(fc.constantFrom(1, 2), notANumber),
          operationsPerClient: fc.oneof(fc.constantFrom(1, 3), notANumber),
          membershipChanges: fc.oneof(fc.constantFrom(0, 1), notANumber),
          workload: either('mixed', 'contended'),
          retries: fc.oneof(fc.constantFrom(0, 2), notANumber),
          plantedBugs: either(undefined, {}),
        }),
        anyValue,
      ),
    ),
    call: ([a, b]) => simulateStore(a as number, b as never),
    runs: 150,
  },
  {
    name: 'sweepSeeds',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(
        fc.record({
          first: either(1),
          count: fc.oneof(fc.constantFrom(0, 1), notANumber),
          workloads: either(['mixed'], ['other']),
        }),
        anyValue,
      ),
    ),
    call: ([a]) => sweepSeeds(a as never),
    runs: 150,
  },
  {
    name: 'checkerOperations',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(smallRun.history, [])),
    call: ([a]) => checkerOperations(a as never),
  },
  {
    name: 'progressFailures',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(contendedRun.logical, [])),
    call: ([a]) => progressFailures(a as never),
  },
  {
    name: 'runFailures',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(
        either(smallRun),
        fc
          .record({
            history: either(smallRun.history),
            members: either(smallRun.members),
            logical: either(smallRun.logical),
            stuckClients: either(0),
            membershipFailures: either([]),
          })
          .map((fields) => ({ ...smallRun, ...fields })),
      ),
    ),
    call: ([a]) => runFailures(a as never),
  },
];

describe('any JavaScript value through the public calls of @fos/distributed-store/testing', () => {
  it('every call answers success or a documented FosError', () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const met = new Set<FosErrorCode>();
    let callCount = 0;
    for (const { name, codes, args, call, runs } of testingCalls) {
      fc.assert(
        fc.property(args, (values) => {
          callCount++;
          try {
            call(values);
          } catch (error) {
            if (!isFosError(error) || !codes.includes(error.code))
              throw new Error(
                `${name}(${values.map((value) => describeValue(value)).join(', ')}) threw ${String(error)}`,
              );
            expect(error.message.length).toBeLessThan(3 * describedCharactersMax + 200);
            met.add(error.code);
          }
        }),
        { numRuns: runs ?? 400 },
      );
    }
    expect(callCount).toBeGreaterThanOrEqual(5_000);
    expect([...met].filter((code) => !documented.has(code))).toEqual([]);
    expect([...met]).toEqual(['BAD_REQUEST']);
  }, 60_000);
});
