// Any JavaScript value through every public call of the store: each answers success or a FosError whose
// code the README documents, and a refused call leaves the table (its hash) and the counters as they were.
import { readFileSync } from 'node:fs';
import { describedCharactersMax, describeValue, isFosError, type FosErrorCode, type MessageBody } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { VirtualClock } from '@fos/sim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LocalStore, ReplicatedMember, StoreCore, type StoreMessage } from './index.js';

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
