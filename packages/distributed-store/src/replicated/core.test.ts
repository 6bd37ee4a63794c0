// The core as a state machine: inputs in, effects out, with the host's time as the only clock.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MessageBody } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { waitDieRules, withStoreRules } from '../internal/rules.js';
import { pendingGetWaitMsMax } from '../limits.js';
import type { OperationId, StoreReady } from './core-types.js';
import { StoreCore } from './core.js';
import { ReplicatedMember } from './member.js';
import { VirtualClock } from '@fos/sim';
import type { MemberName, StoreMessage } from './messages.js';

function fleet(names: readonly MemberName[]): Map<MemberName, StoreCore<string>> {
  return new Map(
    names.map((name) => [name, new StoreCore<string>({ name, peers: names.filter((other) => other !== name) })]),
  );
}

function core(cores: Map<MemberName, StoreCore<string>>, name: MemberName): StoreCore<string> {
  return cores.get(name) as StoreCore<string>;
}

/** The result of `id` among `ready`'s completions, as `ok`, an error code, or undefined when it did not complete. */
function outcome(ready: StoreReady<string>, id: OperationId): string | undefined {
  const completed = ready.completed.find((item) => item.id === id);
  if (completed === undefined) return undefined;
  return completed.result.ok ? 'ok' : completed.result.error.code;
}

/** Delivers every message, oldest first, until none is left; returns every core's completions. */
function settle(
  cores: Map<MemberName, StoreCore<string>>,
  first: { readonly from: MemberName; readonly ready: StoreReady<string> },
  nowMs = 0,
): Array<StoreReady<string>['completed'][number] & { member: MemberName }> {
  const inFlight: Array<{ from: MemberName; to: MemberName; message: StoreMessage<string> }> = first.ready.messages.map(
    ({ to, message }) => ({ from: first.from, to, message }),
  );
  const completed = first.ready.completed.map((item) => ({ ...item, member: first.from }));
  for (let next = inFlight.shift(); next !== undefined; next = inFlight.shift()) {
    const receiver = core(cores, next.to);
    receiver.step(next.from, next.message, nowMs);
    const ready = receiver.ready();
    inFlight.push(...ready.messages.map(({ to, message }) => ({ from: next.to, to, message })));
    completed.push(...ready.completed.map((item) => ({ ...item, member: next.to })));
  }
  return completed;
}

describe('StoreCore', () => {
  it('has no async code, promise or timer in it: time comes only as an input', () => {
    const files = [
      'replicated/core.ts',
      'replicated/core-types.ts',
      'internal/store-state.ts',
      'internal/two-phase-commit.ts',
      'internal/membership.ts',
      'internal/rules.ts',
    ];
    for (const file of files) {
      const code = readFileSync(fileURLToPath(new URL(`../${file}`, import.meta.url)), 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/\/\/.*$/gm, '');
      expect(
        code.match(
          /\basync\b|\bawait\b|Promise|\.then\(|setTimeout|setImmediate|setInterval|setTimer|queueMicrotask|Date\.now|performance|Math\.random|Clock/g,
        ),
        file,
      ).toBeNull();
    }
  });

  it('completes a lone member’s operations within propose', () => {
    const alone = new StoreCore<string>({ name: 'a', peers: [] });
    const inserted = alone.propose({ op: 'insert', key: 'k', value: 'v' }, 0);
    expect(outcome(alone.ready(), inserted)).toBe('ok');
    const read = alone.propose({ op: 'get', key: 'k' }, 0);
    expect(alone.ready().completed).toEqual([{ id: read, result: { ok: true, entry: { value: 'v', version: 1 } } }]);
    expect(alone.quiet).toBe(true);
  });

  it('asks every peer to vote and commits everywhere once all vote yes', () => {
    const cores = fleet(['a', 'b', 'c']);
    const a = core(cores, 'a');
    const id = a.propose({ op: 'insert', key: 'k', value: 'v' }, 0);
    const ready = a.ready();
    expect(ready.messages.map(({ to, message }) => `${message.kind}→${to}`)).toEqual([
      'voteRequest→b',
      'voteRequest→c',
    ]);
    expect(settle(cores, { from: 'a', ready })).toEqual([{ id, result: { ok: true, entry: undefined }, member: 'a' }]);
    for (const member of cores.values()) expect(member.snapshot()).toEqual([{ key: 'k', value: 'v', version: 1 }]);
    for (const member of cores.values()) expect(member.quiet).toBe(true);
  });

  it('answers CONFLICT on a no vote, and tells only those that voted yes to abort', () => {
    const cores = fleet(['a', 'b', 'c']);
    const a = core(cores, 'a');
    const id = a.propose({ op: 'insert', key: 'k', value: 'v' }, 0);
    const request = (a.ready().messages[0]?.message as Extract<StoreMessage<string>, { kind: 'voteRequest' }>).request;
    a.step('b', { kind: 'vote', request, yes: true }, 0);
    expect(a.ready().completed).toEqual([]);
    a.step('c', { kind: 'vote', request, yes: false }, 0);
    const ready = a.ready();
    expect(outcome(ready, id)).toBe('CONFLICT');
    expect(ready.messages).toEqual([{ to: 'b', message: { kind: 'outcome', request, key: 'k', commit: false } }]);
    expect(a.snapshot()).toEqual([]);
    expect(a.stats().conflicts).toBe(1);
  });

  it('makes a Get of a pending entry want a tick at its deadline, and answers TIMEOUT then, not before', () => {
    const cores = fleet(['a', 'b']);
    const [a, b] = [core(cores, 'a'), core(cores, 'b')];
    a.propose({ op: 'insert', key: 'k', value: 'v' }, 0);
    const voteRequest = a.ready().messages[0] as { to: MemberName; message: StoreMessage<string> };
    b.step('a', voteRequest.message, 0); // b votes yes: k is pending at b
    b.ready();
    const read = b.propose({ op: 'get', key: 'k' }, 10);
    expect(b.ready()).toEqual({ messages: [], completed: [], wakeAtMs: 10 + pendingGetWaitMsMax });
    b.tick(9 + pendingGetWaitMsMax);
    expect(b.ready().completed).toEqual([]);
    b.tick(10 + pendingGetWaitMsMax);
    const ready = b.ready();
    expect(outcome(ready, read)).toBe('TIMEOUT');
    expect(ready.wakeAtMs).toBeUndefined();
    expect(b.stats().getWaits).toBe(1);
  });

  it('answers a Get that waited out a pending entry with the value the outcome committed', () => {
    const cores = fleet(['a', 'b']);
    const [a, b] = [core(cores, 'a'), core(cores, 'b')];
    a.propose({ op: 'insert', key: 'k', value: 'v' }, 0);
    b.step('a', (a.ready().messages[0] as { message: StoreMessage<string> }).message, 0);
    const vote = b.ready().messages[0] as { message: StoreMessage<string> };
    const read = b.propose({ op: 'get', key: 'k' }, 0);
    b.ready();
    a.step('b', vote.message, 5);
    b.step('a', (a.ready().messages[0] as { message: StoreMessage<string> }).message, 5);
    expect(b.ready().completed).toEqual([{ id: read, result: { ok: true, entry: { value: 'v', version: 1 } } }]);
    expect(b.quiet).toBe(true);
  });

  it('answers operating errors as completions, never as exceptions', () => {
    const alone = new StoreCore<string>({ name: 'a', peers: [] });
    const join = alone.propose({ op: 'join', sponsor: 'b' }, 0);
    const leave = alone.propose({ op: 'leave' }, 0);
    const ready = alone.ready();
    expect(outcome(ready, join)).toBe('BAD_REQUEST');
    expect(outcome(ready, leave)).toBe('BAD_REQUEST');
    const newcomer = new StoreCore<string>({ name: 'n', peers: [], joining: true });
    const early = newcomer.propose({ op: 'get', key: 'k' }, 0);
    expect(outcome(newcomer.ready(), early)).toBeUndefined(); // it waits for installation
    expect(newcomer.quiet).toBe(false);
  });

  it('refuses a time that goes back or is not finite with BAD_REQUEST, changing nothing', () => {
    const alone = new StoreCore<string>({ name: 'a', peers: [] });
    alone.tick(5);
    expect(() => alone.tick(4)).toThrow(/^BAD_REQUEST: the time given to store member a goes back from 5 to 4$/);
    expect(() => alone.tick(Number.NaN)).toThrow(
      /^BAD_REQUEST: the time given to store member a is not a finite number: NaN$/,
    );
    expect(() => alone.propose({ op: 'insert', key: 'k', value: 'v' }, 4)).toThrow(/goes back/);
    expect(alone.ready()).toEqual({ messages: [], completed: [], wakeAtMs: undefined });
    expect(alone.propose({ op: 'insert', key: 'k', value: 'v' }, 5)).toBe(1);
  });

  it('refuses a malformed operation with BAD_REQUEST before anything changes: no id, no entry (a bigint key used to enter the table and break hash())', () => {
    const alone = new StoreCore<MessageBody>({ name: 'a', peers: [] });
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('no');
        },
      },
    );
    for (const [operation, why] of [
      [{ op: 'insert', key: 5n, value: 'v' }, /store key 5n is not a non-empty string/],
      [{ op: 'insert', key: 'k', value: () => 1 }, /message body at body is a function/],
      [{ op: 'update', key: 'k', value: 'v', expectedVersion: 0 }, /expected version 0 is not a positive integer/],
      [{ op: 'upsert', key: 'k', value: 'v' }, /op "upsert" is not insert, update or delete/],
      [{ op: 'join', sponsor: 'a' }, /member a cannot sponsor its own join/],
      [throwing, /a store operation cannot be read/],
      [null, /a store operation is not an object: null/],
    ] as const) {
      expect(() => alone.propose(operation as never, 0)).toThrow(why);
    }
    expect([alone.ready().completed, alone.snapshot(), alone.hash()]).toEqual([
      [],
      [],
      new StoreCore({ name: 'b', peers: [] }).hash(),
    ]);
    expect(alone.propose({ op: 'get', key: 'k' }, 0)).toBe(1);
  });

  it('copies a proposed value in: changing the object of the caller afterwards changes nothing in the table', () => {
    const alone = new StoreCore<{ owner: string }>({ name: 'a', peers: [] });
    const value = { owner: 'fs' };
    alone.propose({ op: 'insert', key: 'k', value }, 0);
    value.owner = 'changed';
    expect(alone.snapshot()).toEqual([{ key: 'k', value: { owner: 'fs' }, version: 1 }]);
  });

  it('refuses a malformed message before anything changes (an install whose table was a string counted its part and spread its characters into the table)', () => {
    const newcomer = new StoreCore<string>({ name: 'c', peers: [], joining: true });
    const refusals: Array<[unknown, RegExp]> = [
      [{ kind: 'install', change: 'a:1', part: 0, table: 'not a table' }, /an install's table is not an array/],
      [
        { kind: 'install', change: 'a:1', part: 0, table: [{ key: 'k', value: Symbol('v'), version: 1 }] },
        /message body at body is a symbol/,
      ],
      [{ kind: 'members', change: 'a:1', members: ['a', 'a'] }, /the members lists a member twice/],
      [{ kind: 'gossip', change: 'a:1' }, /kind "gossip" is not one of the protocol/],
      [{ kind: 'vote', request: 'a#1', yes: 'yes' }, /a vote "yes" is not a boolean/],
    ];
    for (const [message, why] of refusals) expect(() => newcomer.step('a', message as never, 0)).toThrow(why);
    expect(() => newcomer.step(7 as never, { kind: 'block', change: 'a:1' }, 0)).toThrow(
      /the sender 7 is not a string/,
    );
    // The first well-formed part is still part 0: nothing of the refused ones was counted.
    newcomer.step(
      'a',
      { kind: 'install', change: 'a:1', part: 0, table: [{ key: 'k', value: 'v', version: 1 }], members: ['a', 'c'] },
      0,
    );
    expect([newcomer.serving, newcomer.snapshot()]).toEqual([true, [{ key: 'k', value: 'v', version: 1 }]]);
  });

  it('refuses options with peers that are not a list of distinct names (a string of peers threw a TypeError, a peer listed twice was asked twice)', () => {
    expect(() => new StoreCore({ name: 'a', peers: 'bc' as never })).toThrow(
      /^BAD_REQUEST: the peers is not an array of member names: "bc"$/,
    );
    expect(() => new StoreCore({ name: 'a', peers: ['b', 'b'] })).toThrow(
      /^BAD_REQUEST: the peers lists a member twice/,
    );
    expect(() => new StoreCore({ name: '', peers: [] })).toThrow(
      /^BAD_REQUEST: member name "" is not a string of 1 to storeMemberNameCharactersMax/,
    );
    expect(() => new StoreCore(undefined as never)).toThrow(
      /^BAD_REQUEST: the options of a store member is not an object/,
    );
  });

  it('runs the rules a test gives it with withStoreRules, and wait-die otherwise', () => {
    const voteOn = (voter: StoreCore<string>) => {
      voter.step(
        'a',
        {
          kind: 'voteRequest',
          request: 'a#1',
          originator: 'a',
          modification: { op: 'update', key: 'k', value: 'v', expectedVersion: 7 },
        },
        0,
      );
      return voter.ready().messages;
    };
    expect(voteOn(new StoreCore<string>({ name: 'b', peers: ['a'] }))).toEqual([
      { to: 'a', message: { kind: 'vote', request: 'a#1', yes: false } },
    ]);
    const careless = new StoreCore<string>(
      withStoreRules({ name: 'b', peers: ['a'] }, { ...waitDieRules, voterChecksPrecondition: false }),
    );
    expect(voteOn(careless)).toEqual([{ to: 'a', message: { kind: 'vote', request: 'a#1', yes: true } }]);
  });
});

describe('ReplicatedMember', () => {
  it('rejects a get of a key that is not a string with BAD_REQUEST instead of throwing at the call', async () => {
    const member = new ReplicatedMember<string>({
      name: 'a',
      peers: [],
      transport: { send: () => undefined },
      clock: new VirtualClock(),
    });
    let promise: Promise<unknown> | undefined;
    expect(() => (promise = member.get(5 as never))).not.toThrow();
    await expect(promise).rejects.toThrow(/^BAD_REQUEST: store key 5 is not a non-empty string$/);
    await expect(member.join('a')).rejects.toThrow(/^BAD_REQUEST: member a cannot sponsor its own join$/);
  });

  it('refuses a transport without send, a clock without setTimer and a park that is not a function at construction', () => {
    const options = { name: 'a', peers: [], transport: { send: () => undefined }, clock: new VirtualClock() };
    expect(() => new ReplicatedMember({ ...options, transport: {} as never })).toThrow(
      /^BAD_REQUEST: the transport must have the methods send/,
    );
    expect(() => new ReplicatedMember({ ...options, clock: { now: () => 0 } as never })).toThrow(
      /^BAD_REQUEST: the clock must have the methods now, setTimer/,
    );
    expect(() => new ReplicatedMember({ ...options, park: 'thread' as never })).toThrow(
      /^BAD_REQUEST: park is not a function: "thread"$/,
    );
  });
});
