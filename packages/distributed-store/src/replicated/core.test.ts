// The core as a state machine: inputs in, effects out, with the host's time as the only clock.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { AssertionError } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { waitDieRules, withStoreRules } from '../internal/rules.js';
import { pendingGetWaitMsMax } from '../limits.js';
import type { OperationId, StoreReady } from './core-types.js';
import { StoreCore } from './core.js';
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

  it('asserts that time never goes back', () => {
    const alone = new StoreCore<string>({ name: 'a', peers: [] });
    alone.tick(5);
    expect(() => alone.tick(4)).toThrow(AssertionError);
    expect(() => alone.tick(Number.NaN)).toThrow(AssertionError);
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
