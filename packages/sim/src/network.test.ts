import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';
import { SimNetwork } from './network.js';
import { SeededRandom } from './random.js';

function createNetwork<M>(seed = 1, traceEntriesMax?: number): { network: SimNetwork<M>; clock: VirtualClock } {
  const clock = new VirtualClock();
  const options = { random: new SeededRandom(seed), clock };
  const network = new SimNetwork<M>(traceEntriesMax === undefined ? options : { ...options, traceEntriesMax });
  return { network, clock };
}

interface Numbered {
  key: string;
  index: number;
}

/** Three senders each send 15 numbered messages to each of three receivers on two finer streams and the default one. */
async function runFifoScenario(
  seed: number,
): Promise<{ network: SimNetwork<Numbered>; outOfOrder: string[]; deliveries: string[] }> {
  const { network } = createNetwork<Numbered>(seed);
  const lastIndex = new Map<string, number>();
  const outOfOrder: string[] = [];
  const deliveries: string[] = [];
  const receivers = ['r0', 'r1', 'r2'];
  for (const receiver of receivers) {
    network.addEndpoint(receiver, (from, message) => {
      const stream = `${from}->${receiver}#${message.key}`;
      deliveries.push(`${stream}:${message.index}`);
      if ((lastIndex.get(stream) ?? -1) !== message.index - 1) outOfOrder.push(`${stream}:${message.index}`);
      lastIndex.set(stream, message.index);
    });
  }
  const keys = ['a', 'b', 'default'];
  for (let index = 0; index < 15; index++) {
    for (const sender of ['s0', 's1', 's2']) {
      for (const receiver of receivers) {
        for (const key of keys) network.send(sender, receiver, { key, index }, key === 'default' ? undefined : key);
      }
    }
  }
  await network.runUntilQuiet(10_000);
  return { network, outOfOrder, deliveries };
}

describe('SimNetwork ordering and determinism', () => {
  it('keeps FIFO within every stream across many seeds while shuffling the global order', async () => {
    const hashes = new Set<string>();
    for (let seed = 0; seed < 20; seed++) {
      const { network, outOfOrder, deliveries } = await runFifoScenario(seed);
      expect(outOfOrder).toEqual([]);
      expect(network.delivered).toBe(405);
      expect(network.inFlight).toBe(0);
      // The global order is not the send order: streams interleave.
      expect(deliveries.slice(0, 5)).not.toEqual([
        's0->r0#a:0',
        's0->r0#b:0',
        's0->r0#default:0',
        's0->r1#a:0',
        's0->r1#b:0',
      ]);
      hashes.add(network.trace.hash());
    }
    expect(hashes.size).toBe(20);
  });

  it('replays a seed exactly: same trace hash and entries', async () => {
    const first = await runFifoScenario(123);
    const second = await runFifoScenario(123);
    expect(second.network.trace.hash()).toBe(first.network.trace.hash());
    expect(second.network.trace.entries).toEqual(first.network.trace.entries);
    expect(second.deliveries).toEqual(first.deliveries);
    expect((await runFifoScenario(124)).network.trace.hash()).not.toBe(first.network.trace.hash());
  });

  it('hashes every delivery even when the kept trace is shorter', async () => {
    const { network } = createNetwork<number>(5, 3);
    const full = createNetwork<number>(5).network;
    for (const current of [network, full]) {
      current.addEndpoint('b', () => undefined);
      for (let index = 0; index < 10; index++) current.send('a', 'b', index);
      await current.runUntilQuiet(100);
    }
    expect(network.trace.entries.map((entry) => entry.description)).toEqual(['7', '8', '9']);
    expect(network.trace.entries[0]).toMatchObject({ step: 8, timeMs: 0, from: 'a', to: 'b', stream: 'a->b' });
    expect(network.trace.hash()).toBe(full.trace.hash());
    expect(network.trace.format(2)).toBe(
      [
        '... 8 earlier deliveries not shown',
        '#9 t=0ms a->b: 8',
        '#10 t=0ms a->b: 9',
        `trace hash ${network.trace.hash()}`,
      ].join('\n'),
    );
  });

  it('describes bigint and Uint8Array messages by default, and uses a custom describe', async () => {
    const { network } = createNetwork<unknown>();
    network.addEndpoint('b', () => undefined);
    network.send('a', 'b', { big: 12n, bytes: new Uint8Array([1, 255]) }, 'k');
    await network.runUntilQuiet(10);
    expect(network.trace.entries[0]).toMatchObject({
      stream: 'a->b#k',
      description: '{"big":"12n","bytes":"Uint8Array(01ff)"}',
    });
    const custom = new SimNetwork<number>({
      random: new SeededRandom(1),
      clock: new VirtualClock(),
      describe: (value) => `n=${value}`,
    });
    custom.addEndpoint('b', () => undefined);
    custom.send('a', 'b', 3);
    custom.step();
    expect(custom.trace.entries[0]!.description).toBe('n=3');
  });
});

describe('SimNetwork endpoints and faults', () => {
  it('delivers and traces a message the default describe cannot show (a cycle, a proxy that throws) instead of failing the step', async () => {
    const { network } = createNetwork<unknown>();
    const received: unknown[] = [];
    network.addEndpoint('b', (_, message) => void received.push(message));
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    const throwing = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('no keys');
        },
        get: () => {
          throw new Error('no');
        },
      },
    );
    network.send('a', 'b', cyclic);
    network.send('a', 'b', throwing);
    await network.runUntilQuiet(10);
    expect(received).toHaveLength(2);
    expect(received[0]).toBe(cyclic);
    expect(received[1]).toBe(throwing);
    expect(network.trace.entries.map((entry) => entry.description)).toEqual([
      '{"name":"loop","self":"[cycle]"}',
      'an object that throws when read',
    ]);
  });

  it('refuses a deliver that is not a function and ids, senders and stream keys that are not strings, changing nothing', () => {
    const { network } = createNetwork<string>();
    network.addEndpoint('b', () => undefined);
    expect(() => network.addEndpoint('a', 'deliver' as never)).toThrow(/^BAD_REQUEST: .*deliver must be a function/);
    expect(() => network.send(Symbol('from') as never, 'b', 'x')).toThrow(
      /^BAD_REQUEST: .*from must be a string, got Symbol\(from\)/,
    );
    expect(() => network.send('a', 'b', 'x', 7 as never)).toThrow(/^BAD_REQUEST: .*streamKey must be a string, got 7/);
    expect(() => network.crash(12n as never)).toThrow(/^BAD_REQUEST: .*id must be a string, got 12n/);
    expect(() => network.delayStream('a', {} as never, 5)).toThrow(/^BAD_REQUEST: .*to must be a string/);
    expect([network.inFlight, network.dropped, network.isCrashed('b')]).toEqual([0, 0, false]);
    expect(() => network.send('a', 'a', 'x')).toThrow(/^NO_SUCH_NAME: /);
  });

  it('refuses a malformed partition and keeps the one before it', () => {
    const { network } = createNetwork<string>();
    for (const id of ['a', 'b']) network.addEndpoint(id, () => undefined);
    network.partition([['a'], ['b']]);
    for (const groups of ['a', [['a'], 'b'], [['a', 5]], [['a'], ['a']]]) {
      expect(() => network.partition(groups as never)).toThrow(/^BAD_REQUEST: SimNetwork.partition: /);
    }
    network.send('a', 'b', 'across');
    expect([network.inFlight, network.dropped]).toEqual([0, 1]);
  });

  it('refuses options that are not an object, throw when read, or lack a random source or clock', () => {
    const random = new SeededRandom(1);
    const clock = new VirtualClock();
    expect(() => new SimNetwork(null as never)).toThrow(
      /^BAD_REQUEST: SimNetwork: options must be an object, got null$/,
    );
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('no');
        },
      },
    );
    expect(() => new SimNetwork(throwing as never)).toThrow(/^BAD_REQUEST: SimNetwork: options cannot be read/);
    expect(() => new SimNetwork({ random: {} as never, clock })).toThrow(
      /^BAD_REQUEST: SimNetwork: random must have the methods nextInt/,
    );
    expect(() => new SimNetwork({ random, clock: { now: () => 0 } as never })).toThrow(
      /clock must have the methods now, setTimer, fireNext/,
    );
    expect(() => new SimNetwork({ random, clock, describe: 'json' as never })).toThrow(
      /^BAD_REQUEST: SimNetwork: describe must be a function/,
    );
  });

  it('rejects duplicate endpoints, unknown destinations and unknown fault targets', () => {
    const { network } = createNetwork<string>();
    network.addEndpoint('a', () => undefined);
    expect(() => network.addEndpoint('a', () => undefined)).toThrow(/^NAME_EXISTS: .*"a" exists/);
    expect(() => network.send('a', 'nobody', 'hi')).toThrow(/^NO_SUCH_NAME: .*unknown endpoint "nobody"/);
    expect(() => network.crash('nobody')).toThrow(/crash.*"nobody"/);
    expect(() => network.partition([['a'], ['a']])).toThrow(/^BAD_REQUEST: .*"a".*groups 0 and 1/);
    expect(
      () => new SimNetwork({ random: new SeededRandom(1), clock: new VirtualClock(), traceEntriesMax: -1 }),
    ).toThrow(/traceEntriesMax.*-1/);
  });

  it('crash: the endpoint neither receives nor sends and its in-flight messages are dropped', async () => {
    const { network } = createNetwork<string>();
    const received: string[] = [];
    network.addEndpoint('a', (from, message) => void received.push(`a<-${from}:${message}`));
    network.addEndpoint('b', (from, message) => void received.push(`b<-${from}:${message}`));
    network.addEndpoint('c', (from, message) => void received.push(`c<-${from}:${message}`));
    network.send('a', 'b', 'one');
    network.send('a', 'b', 'two');
    network.send('b', 'a', 'three');
    network.send('a', 'c', 'kept');
    network.crash('b');
    expect(network.isCrashed('b')).toBe(true);
    expect(network.isCrashed('a')).toBe(false);
    expect(network.inFlight).toBe(1);
    expect(network.dropped).toBe(3);
    network.send('a', 'b', 'after');
    network.send('b', 'c', 'from the dead');
    expect(network.dropped).toBe(5);
    await network.runUntilQuiet(100);
    expect(received).toEqual(['c<-a:kept']);
  });

  it('removeEndpoint drops what is in flight to it; adding it again models a restart', async () => {
    const { network } = createNetwork<string>();
    const received: string[] = [];
    network.addEndpoint('a', (_from, message) => void received.push(`a:${message}`));
    network.addEndpoint('b', (_from, message) => void received.push(`b:${message}`));
    network.send('a', 'b', 'lost');
    network.send('b', 'a', 'still delivered');
    network.crash('b');
    network.removeEndpoint('b');
    expect(() => network.send('a', 'b', 'x')).toThrow(/unknown endpoint "b"/);
    network.addEndpoint('b', (_from, message) => void received.push(`b again:${message}`));
    expect(network.isCrashed('b')).toBe(false);
    network.send('a', 'b', 'hello');
    await network.runUntilQuiet(100);
    expect(received).toEqual(['b again:hello']);
  });

  it('pause holds messages to and from an endpoint; resume releases them in order', async () => {
    const { network } = createNetwork<number>(4);
    const received: string[] = [];
    network.addEndpoint('a', (from, message) => void received.push(`${from}->a:${message}`));
    network.addEndpoint('b', (from, message) => void received.push(`${from}->b:${message}`));
    network.pause('b');
    for (let index = 0; index < 5; index++) network.send('a', 'b', index);
    network.send('b', 'a', 99);
    expect(await network.runUntilQuiet(100)).toBe(0);
    expect(network.hasWork()).toBe(false);
    expect(network.inFlight).toBe(6);
    network.resume('b');
    await network.runUntilQuiet(100);
    expect(received.filter((line) => line.startsWith('a->b'))).toEqual([
      'a->b:0',
      'a->b:1',
      'a->b:2',
      'a->b:3',
      'a->b:4',
    ]);
    expect(received).toContain('b->a:99');
    expect(network.dropped).toBe(0);
  });

  it('delayStream delays a stream by virtual time; 0 clears the delay', async () => {
    const { network, clock } = createNetwork<string>();
    const received: string[] = [];
    network.addEndpoint('b', (_from, message) => void received.push(`${message}@${clock.now()}`));
    network.addEndpoint('c', (_from, message) => void received.push(`${message}@${clock.now()}`));
    network.delayStream('a', 'b', 50);
    network.send('a', 'b', 'late', 'any key');
    network.send('a', 'c', 'prompt');
    expect(network.step()).toBe(true);
    expect(network.step()).toBe(false);
    expect(network.hasWork()).toBe(true);
    await network.runUntilQuiet(100);
    expect(received).toEqual(['prompt@0', 'late@50']);
    network.delayStream('a', 'b', 0);
    network.send('a', 'b', 'cleared');
    await network.runUntilQuiet(100);
    expect(received).toEqual(['prompt@0', 'late@50', 'cleared@50']);
    expect(() => network.delayStream('a', 'b', -3)).toThrow(/-3/);
  });

  it('partition drops messages across groups, in flight too; heal restores', async () => {
    const { network } = createNetwork<string>();
    const received: string[] = [];
    for (const id of ['a', 'b', 'c', 'd', 'e'])
      network.addEndpoint(id, (from, message) => void received.push(`${from}->${id}:${message}`));
    network.send('a', 'b', 'in flight across');
    network.send('b', 'c', 'in flight within');
    network.partition([['a'], ['b', 'c']]);
    expect(network.dropped).toBe(1);
    network.send('a', 'c', 'across');
    network.send('c', 'b', 'within');
    network.send('d', 'e', 'unlisted together');
    network.send('d', 'a', 'unlisted to listed');
    expect(network.dropped).toBe(3);
    await network.runUntilQuiet(100);
    expect(received.sort()).toEqual(['b->c:in flight within', 'c->b:within', 'd->e:unlisted together']);
    network.heal();
    network.send('a', 'c', 'healed');
    await network.runUntilQuiet(100);
    expect(received).toContain('a->c:healed');
  });
});

describe('SimNetwork.runUntilQuiet', () => {
  it('moves the clock only when nothing is deliverable: a timer at t=100 fires after every message of t=0', async () => {
    const { network, clock } = createNetwork<number>(8);
    const log: string[] = [];
    clock.setTimer(100, () => {
      log.push(`timer@${clock.now()}`);
      network.send('timer', 'a', -1);
    });
    const bounce =
      (self: string, other: string) =>
      (_from: string, count: number): void => {
        log.push(`${self}:${count}@${clock.now()}`);
        if (count > 0 && count < 20) network.send(self, other, count + 1);
      };
    network.addEndpoint('a', bounce('a', 'b'));
    network.addEndpoint('b', bounce('b', 'a'));
    network.send('b', 'a', 1);
    network.send('a', 'b', 1);
    const steps = await network.runUntilQuiet(1_000);
    const timerIndex = log.indexOf('timer@100');
    expect(timerIndex).toBe(log.length - 2);
    expect(log.slice(0, timerIndex).every((line) => line.endsWith('@0'))).toBe(true);
    expect(log.at(-1)).toBe('a:-1@100');
    expect(steps).toBe(network.delivered + 1);
    expect(clock.now()).toBe(100);
  });

  it('rejects with stepsMax in the message when the run never becomes quiet', async () => {
    const { network } = createNetwork<string>();
    network.addEndpoint('a', () => network.send('a', 'b', 'ping'));
    network.addEndpoint('b', () => network.send('b', 'a', 'pong'));
    network.send('a', 'b', 'ping');
    await expect(network.runUntilQuiet(25)).rejects.toThrow(/^LIMIT_EXCEEDED: .*stepsMax=25/);
    expect(network.delivered).toBe(25);
    await expect(network.runUntilQuiet(-1)).rejects.toThrow(/^BAD_REQUEST: .*stepsMax.*-1/);
  });

  it('stops early when until() holds', async () => {
    const { network } = createNetwork<string>();
    let received = 0;
    network.addEndpoint('a', () => {
      received++;
      network.send('b', 'a', 'again');
    });
    network.send('b', 'a', 'start');
    expect(await network.runUntilQuiet(1_000, { until: () => received >= 7 })).toBe(7);
  });

  it('settles async deliver functions that send after awaits, also across virtual sleeps', async () => {
    const { network, clock } = createNetwork<number>(2);
    const sleep = (delayMs: number): Promise<void> => new Promise((resolve) => clock.setTimer(delayMs, resolve));
    const seen: number[] = [];
    network.addEndpoint('server', async (from, value) => {
      await Promise.resolve();
      await new Promise<void>((resolve) => queueMicrotask(resolve));
      await (async () => {
        await Promise.resolve().then(() => Promise.resolve());
      })();
      if (value % 10 === 0) await sleep(5);
      network.send('server', from, value + 1);
    });
    network.addEndpoint('client', async (_from, value) => {
      await Promise.resolve();
      seen.push(value);
      if (value < 30) network.send('client', 'server', value + 1);
    });
    network.send('client', 'server', 0);
    await network.runUntilQuiet(1_000);
    expect(seen).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31]);
    // The server slept 5 ms at the values 0, 10, 20 and 30.
    expect(clock.now()).toBe(20);
  });

  it('rejects with the error of a throwing or rejecting deliver function', async () => {
    const { network } = createNetwork<string>();
    network.addEndpoint('sync', () => {
      throw new Error('sync boom');
    });
    network.send('x', 'sync', 'go');
    await expect(network.runUntilQuiet(10)).rejects.toThrow('sync boom');
    const second = createNetwork<string>().network;
    second.addEndpoint('async', async () => {
      await Promise.resolve();
      throw new Error('async boom');
    });
    second.send('x', 'async', 'go');
    await expect(second.runUntilQuiet(10)).rejects.toThrow('async boom');
  });
});
