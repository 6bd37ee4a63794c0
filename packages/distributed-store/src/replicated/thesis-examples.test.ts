// The thesis's own examples (§4.4.2), with the message order forced by hand, showing what the protocol
// here does in each. Members are named so that the one the thesis gives priority has the lowest name.
import { hasFosErrorCode } from '@fos/base';
import { VirtualClock } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { ReplicatedMember } from './member.js';
import type { MemberName, StoreMessage } from './messages.js';

/** The answer of a modification, taken at once so that a refusal is never an unhandled rejection. */
function answer(modification: Promise<void>): Promise<string> {
  return modification.then(
    () => 'ok',
    (error: unknown) => (hasFosErrorCode(error, 'CONFLICT') ? 'CONFLICT' : String(error)),
  );
}

type Envelope = { readonly from: MemberName; readonly to: MemberName; readonly message: StoreMessage<string> };

/**
 * Members over a transport whose messages wait in a list until the test delivers them, in its order.
 * A delivery steps the receiving member's core at once; the test then lets the callers' promises run.
 */
function fleet(names: readonly MemberName[]) {
  const clock = new VirtualClock();
  const queued: Envelope[] = [];
  const members = new Map<MemberName, ReplicatedMember<string>>();
  for (const name of names) {
    members.set(
      name,
      new ReplicatedMember<string>({
        name,
        peers: names.filter((other) => other !== name),
        clock,
        transport: { send: (to, message) => queued.push({ from: name, to, message }) },
      }),
    );
  }
  const member = (name: MemberName) => members.get(name) as ReplicatedMember<string>;
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  return {
    member,
    queued,
    /** Delivers the first queued message matching `match` (from, to, kind), then lets promises run. */
    async deliver(from: MemberName, to: MemberName, kind: StoreMessage<string>['kind']): Promise<void> {
      await settle();
      const index = queued.findIndex((item) => item.from === from && item.to === to && item.message.kind === kind);
      expect(
        index,
        `a ${kind} from ${from} to ${to} is queued (queued: ${queued.map((item) => `${item.message.kind} ${item.from}→${item.to}`).join(', ')})`,
      ).toBeGreaterThanOrEqual(0);
      const [item] = queued.splice(index, 1) as [Envelope];
      member(item.to).receive(item.from, item.message);
      await settle();
    },
    /** Delivers everything still queued, oldest first, until nothing is left. */
    async drain(): Promise<void> {
      await settle();
      for (let item = queued.shift(); item !== undefined; item = queued.shift()) {
        member(item.to).receive(item.from, item.message);
        await settle();
      }
    },
    settle,
  };
}

describe('the thesis examples (§4.4.2)', () => {
  it('A/B: B (priority) confirmed A’s request, then begins a conflicting one: it waits, so A’s SUCCESS stands', async () => {
    // B is "m1" (lowest name: priority), A is "m2".
    const f = fleet(['m1', 'm2']);
    const started = f.member('m2').insert('k', 'start');
    await f.drain();
    await started;
    const fromA = f.member('m2').update('k', 'A', 1);
    await f.deliver('m2', 'm1', 'voteRequest'); // B confirms A's request…
    const fromB = answer(f.member('m1').update('k', 'B', 1)); // …then begins a conflicting one: it sleeps on the arbiter.
    await f.settle();
    expect(f.queued.map((item) => item.message.kind)).toEqual(['vote']); // B sent no vote request of its own
    await f.deliver('m1', 'm2', 'vote');
    await fromA; // A's update succeeded…
    await f.deliver('m2', 'm1', 'outcome');
    // …and B's, woken after A's outcome, finds version 2 and is refused: it never overwrote A's.
    expect(await fromB).toBe('CONFLICT');
    expect(await f.member('m1').get('k')).toEqual({ value: 'A', version: 2 });
    expect(await f.member('m2').get('k')).toEqual({ value: 'A', version: 2 });
  });

  it('A/B/C late completion, B with priority over A: C makes B’s request wait for A’s late outcome', async () => {
    // B = "m1" (priority), A = "m2", C = "m3".
    const f = fleet(['m1', 'm2', 'm3']);
    const started = f.member('m2').insert('k', 'start');
    await f.drain();
    await started;
    const fromA = f.member('m2').update('k', 'A', 1);
    await f.deliver('m2', 'm1', 'voteRequest');
    await f.deliver('m2', 'm3', 'voteRequest');
    await f.deliver('m1', 'm2', 'vote');
    await f.deliver('m3', 'm2', 'vote');
    await fromA;
    await f.deliver('m2', 'm1', 'outcome'); // A and B complete; C's outcome is late.
    const fromB = answer(f.member('m1').update('k', 'B', 2));
    await f.deliver('m1', 'm2', 'voteRequest');
    await f.deliver('m1', 'm3', 'voteRequest'); // C still holds A's request: B (priority) sleeps on it.
    expect(f.queued.filter((item) => item.from === 'm3')).toEqual([]);
    await f.deliver('m2', 'm3', 'outcome'); // A's late outcome: C completes A's update, then votes on B's.
    await f.drain();
    expect(await fromB).toBe('ok');
    for (const name of ['m1', 'm2', 'm3']) expect(await f.member(name).get('k')).toEqual({ value: 'B', version: 3 });
  });

  it('A/B/C late completion, A with priority over B: C refuses B’s request at once instead', async () => {
    // A = "m1" (priority), B = "m2", C = "m3".
    const f = fleet(['m1', 'm2', 'm3']);
    const started = f.member('m1').insert('k', 'start');
    await f.drain();
    await started;
    const fromA = f.member('m1').update('k', 'A', 1);
    await f.deliver('m1', 'm2', 'voteRequest');
    await f.deliver('m1', 'm3', 'voteRequest');
    await f.deliver('m2', 'm1', 'vote');
    await f.deliver('m3', 'm1', 'vote');
    await fromA;
    await f.deliver('m1', 'm2', 'outcome');
    const fromB = answer(f.member('m2').update('k', 'B', 2));
    await f.deliver('m2', 'm1', 'voteRequest');
    await f.deliver('m2', 'm3', 'voteRequest'); // C holds A's request, and A has priority: C refuses B.
    await f.drain();
    expect(await fromB).toBe('CONFLICT');
    for (const name of ['m1', 'm2', 'm3']) expect(await f.member(name).get('k')).toEqual({ value: 'A', version: 2 });
    for (const name of ['m1', 'm2', 'm3']) expect(f.member(name).quiet).toBe(true);
  });
});

describe('membership changes, with forced message order', () => {
  it('a member that leaves stops serving before anyone may modify again (the sweep found seed 9748)', async () => {
    const f = fleet(['m1', 'm2']);
    const seeded = answer(f.member('m1').insert('k', 'old'));
    await f.drain();
    expect(await seeded).toBe('ok');
    const leaving = f.member('m2').leave();
    await f.deliver('m2', 'm1', 'membershipRequest');
    await f.deliver('m1', 'm2', 'block');
    await f.deliver('m2', 'm1', 'blocked');
    // m1, alone from now on, must not commit until m2 has stopped serving its (soon stale) copy.
    const insert = answer(f.member('m1').update('k', 'new', 1));
    await f.settle();
    expect(await f.member('m2').get('k')).toEqual({ value: 'old', version: 1 });
    expect(f.member('m1').stats().committed).toBe(1);
    await f.deliver('m1', 'm2', 'members');
    await expect(f.member('m2').get('k')).rejects.toThrow(/SHUTDOWN/);
    await f.drain();
    await leaving;
    expect(await insert).toBe('ok');
    expect(f.member('m1').peers).toEqual([]);
    expect(await f.member('m1').get('k')).toEqual({ value: 'new', version: 2 });
  });
});
