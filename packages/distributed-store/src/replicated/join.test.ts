// A join carries the table to the newcomer in parts: a table of any size fits messages of
// messageBytesMax, and the newcomer serves only once the last part is in.
import { encodeBody, messageBytesMax } from '@fos/base';
import { VirtualClock } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { installChunkBytesDefault } from '../limits.js';
import { ReplicatedMember } from './member.js';
import type { MemberName, StoreMessage } from './messages.js';

type Envelope = { readonly from: MemberName; readonly to: MemberName; readonly message: StoreMessage<string> };

/** Members (added with `add`) whose messages wait in one list and are delivered in order. */
function fleet(options: { readonly installChunkBytesMax?: number } = {}) {
  const clock = new VirtualClock();
  const queued: Envelope[] = [];
  const sent: Envelope[] = [];
  const members = new Map<MemberName, ReplicatedMember<string>>();
  const add = (name: MemberName, peers: readonly MemberName[], joining: boolean) => {
    const member = new ReplicatedMember<string>({
      name,
      peers,
      clock,
      joining,
      ...options,
      transport: {
        send: (to, message) => {
          queued.push({ from: name, to, message });
          sent.push({ from: name, to, message });
        },
      },
    });
    members.set(name, member);
    return member;
  };
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  const deliverOne = async (): Promise<Envelope | undefined> => {
    await settle();
    const item = queued.shift();
    if (item !== undefined) members.get(item.to)?.receive(item.from, item.message);
    await settle();
    return item;
  };
  return {
    add,
    queued,
    sent,
    deliverOne,
    /** Delivers until nothing is queued, stopping before the first message `stop` matches. */
    async deliverAll(stop?: (item: Envelope) => boolean): Promise<void> {
      for (;;) {
        await settle();
        const next = queued[0];
        if (next === undefined || stop?.(next) === true) return;
        await deliverOne();
      }
    },
  };
}

/** Fills the store through `member` with `count` entries of about `valueBytes` each. */
async function fill(
  run: ReturnType<typeof fleet>,
  member: ReplicatedMember<string>,
  count: number,
  valueBytes: number,
): Promise<void> {
  for (let index = 0; index < count; index++) {
    const inserted = member.insert(`/key/${String(index).padStart(5, '0')}`, `${index}:`.padEnd(valueBytes, 'x'));
    await run.deliverAll();
    await inserted;
  }
}

describe('join with a large table', () => {
  it('carries a table far beyond messageBytesMax in parts that each fit, and the newcomer holds it whole', async () => {
    const run = fleet();
    const m1 = run.add('m1', ['m2'], false);
    run.add('m2', ['m1'], false);
    await fill(run, m1, 1500, 200);
    const tableBytes = encodeBody(m1.snapshot(), Number.MAX_SAFE_INTEGER).length;
    expect(tableBytes).toBeGreaterThan(4 * messageBytesMax);
    const newcomer = run.add('m3', [], true);
    const joined = newcomer.join('m2');
    await run.deliverAll();
    await joined;
    const parts = run.sent.filter((item) => item.message.kind === 'install');
    expect(parts.length).toBeGreaterThan(tableBytes / installChunkBytesDefault - 1);
    for (const part of parts) expect(encodeBody(part.message).length).toBeLessThan(messageBytesMax / 2);
    expect(parts.map((part) => (part.message.kind === 'install' ? part.message.part : -1))).toEqual(
      parts.map((_, index) => index),
    );
    expect(newcomer.hash()).toBe(m1.hash());
    expect(newcomer.peers).toEqual(['m1', 'm2']);
    expect(newcomer.quiet).toBe(true);
    expect((await newcomer.get('/key/01499'))?.value.startsWith('1499:')).toBe(true);
  });

  it('serves nothing until the last part is in, and takes an empty table in one part', async () => {
    const run = fleet({ installChunkBytesMax: 64 });
    const m1 = run.add('m1', [], false);
    await fill(run, m1, 5, 40);
    const newcomer = run.add('m2', [], true);
    const joined = newcomer.join('m1');
    let got: string | undefined;
    const early = newcomer.get('/key/00004').then((entry) => (got = entry?.value));
    const isLast = (item: Envelope) => item.message.kind === 'install' && item.message.members !== undefined;
    await run.deliverAll(isLast);
    expect(run.sent.filter((item) => item.message.kind === 'install').length).toBe(5);
    expect(newcomer.serving).toBe(false);
    expect(newcomer.quiet).toBe(false);
    expect(got).toBeUndefined();
    await run.deliverAll();
    await joined;
    await early;
    expect(got?.startsWith('4:')).toBe(true);
    expect(newcomer.hash()).toBe(m1.hash());

    const empty = fleet();
    empty.add('e1', [], false);
    const second = empty.add('e2', [], true);
    const secondJoined = second.join('e1');
    await empty.deliverAll();
    await secondJoined;
    expect(empty.sent.filter((item) => item.message.kind === 'install')).toHaveLength(1);
    expect(second.snapshot()).toEqual([]);
  });

  it('refuses a chunk bound that is not a positive integer', () => {
    expect(
      () =>
        new ReplicatedMember<string>({
          name: 'm1',
          peers: [],
          clock: new VirtualClock(),
          transport: { send: () => undefined },
          installChunkBytesMax: 0,
        }),
    ).toThrow(/installChunkBytesMax/);
  });
});
