import { nextTurn } from '@fos/base';
import { runSeeds, SeededRandom, tierCount } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { namedMailbox, processOn, sendWithRetry, sleep } from './internal/testing.js';
import { Machine } from './machine.js';
import { SimFabric } from './sim-fabric.js';

interface Delivery {
  readonly sender: string;
  readonly index: number;
}

/**
 * Many senders on random cores pipeline sends to two small mailboxes, re-sending whatever is refused;
 * the receivers drain slowly. Returns, per receiver, the deliveries in arrival order, and the trace hash.
 */
async function manySendersRun(seed: number): Promise<{ arrivals: Delivery[][]; expected: number; traceHash: string }> {
  const fabric = new SimFabric({ cores: 4, seed });
  const machine = new Machine({ fabric, log: () => undefined });
  const choices = new SeededRandom(seed).fork('scenario');
  try {
    const receivers = await Promise.all(
      [0, 3].map(async (core, index) => {
        const process = await processOn(machine, core, `receiver-${index}`);
        return { process, ...(await namedMailbox(process.kernel, `/svc/receiver${index}`, { queueMessagesMax: 3 })) };
      }),
    );
    const senderCount = 5;
    const messagesPerReceiver = 6;
    const sends: Array<Promise<number>> = [];
    for (let sender = 0; sender < senderCount; sender++) {
      const process = await processOn(machine, choices.nextInt(4), `sender-${sender}`);
      for (let index = 0; index < messagesPerReceiver; index++) {
        receivers.forEach((receiver, receiverIndex) => {
          sends.push(
            sendWithRetry(
              process.kernel,
              process.clock,
              `/svc/receiver${receiverIndex}`,
              receiver.location,
              receiver.capability,
              { sender: process.process, index },
              choices,
            ),
          );
        });
      }
    }
    const expected = senderCount * messagesPerReceiver;
    const arrivals = await Promise.all(
      receivers.map(async (receiver) => {
        const got: Delivery[] = [];
        while (got.length < expected) {
          const message = receiver.process.kernel.tryReceive(receiver.location);
          if (message === undefined) await sleep(receiver.process.clock, 1 + choices.nextInt(3));
          else got.push(message.body as unknown as Delivery);
        }
        return got;
      }),
    );
    await Promise.all(sends);
    await fabric.quiet();
    return { arrivals, expected, traceHash: fabric.network.trace.hash() };
  } finally {
    await machine.shutdown();
  }
}

/** Seeds of the many-senders sweep: 1,000 in `pnpm test`, 10,000 in `pnpm test:long`. */
const manySendersSeeds = tierCount({ fast: 1_000, long: 10_000 });

describe('SimFabric', () => {
  it(
    `keeps single-stream order across cores for many senders under ${manySendersSeeds} seeds`,
    async () => {
      const count = await runSeeds(
        async (seed) => {
          const { arrivals, expected } = await manySendersRun(seed);
          for (const got of arrivals) {
            expect(got).toHaveLength(expected);
            const lastIndex = new Map<string, number>();
            for (const delivery of got) {
              expect(delivery.index).toBe((lastIndex.get(delivery.sender) ?? -1) + 1);
              lastIndex.set(delivery.sender, delivery.index);
            }
          }
        },
        { seeds: manySendersSeeds },
      );
      expect(count).toBeGreaterThanOrEqual(1);
    },
    // A bound on a hang only: ~30 s on a quiet 2-core machine, four times that beside other work.
    tierCount({ fast: 600_000, long: 6_000_000 }),
  );

  it('replays a seed exactly and shuffles differently under another seed', async () => {
    const first = await manySendersRun(42);
    const again = await manySendersRun(42);
    const other = await manySendersRun(43);
    expect(again.traceHash).toBe(first.traceHash);
    expect(again.arrivals).toEqual(first.arrivals);
    expect(other.traceHash).not.toBe(first.traceHash);
  });

  it('mints the same capabilities from the same seed', async () => {
    const capabilities = await Promise.all(
      [7, 7, 8].map(async (seed) => {
        const machine = new Machine({ fabric: new SimFabric({ cores: 2, seed }) });
        const process = await processOn(machine, 1);
        const { capability } = await process.kernel.createMailbox();
        await machine.shutdown();
        return [machine.kernelCapability, capability];
      }),
    );
    expect(capabilities[1]).toEqual(capabilities[0]);
    expect(capabilities[2]).not.toEqual(capabilities[0]);
  });

  it('jumps the virtual clock only when nothing can be delivered', async () => {
    const fabric = new SimFabric({ cores: 2, seed: 5 });
    const machine = new Machine({ fabric });
    const process = await processOn(machine, 0);
    const before = fabric.clock.now();
    await sleep(process.clock, 10_000);
    expect(fabric.clock.now() - before).toBe(10_000);
    await machine.shutdown();
  });

  it('holds still (no delivery, no timer) until every hold is released', async () => {
    const fabric = new SimFabric({ cores: 2, seed: 3 });
    const machine = new Machine({ fabric });
    try {
      const process = await processOn(machine, 0);
      const first = fabric.hold();
      const second = fabric.hold();
      let fired = false;
      process.clock.setTimer(5, () => (fired = true));
      let quiet = false;
      void fabric.quiet().then(() => (quiet = true));
      for (let turn = 0; turn < 20; turn++) await nextTurn();
      expect({ fired, quiet, now: fabric.clock.now() }).toEqual({ fired: false, quiet: false, now: 0 });
      first();
      first(); // a second call of one release changes nothing: the other hold still stands
      for (let turn = 0; turn < 20; turn++) await nextTurn();
      expect({ fired, quiet }).toEqual({ fired: false, quiet: false });
      second();
      await fabric.quiet();
      expect({ fired, quiet, now: fabric.clock.now() }).toEqual({ fired: true, quiet: true, now: 5 });
      // Closed while held: the release answers whoever waits for quiet.
      const late = fabric.hold();
      const waited = fabric.quiet();
      await fabric.close();
      late();
      await waited;
    } finally {
      await machine.shutdown();
    }
  });

  it('is held while the module of a spawned process loads, and released once it has', async () => {
    class CountedHolds extends SimFabric {
      taken = 0;
      released = 0;
      override hold(): () => void {
        this.taken++;
        const release = super.hold();
        return () => {
          this.released++;
          release();
        };
      }
    }
    const fabric = new CountedHolds({ cores: 2, seed: 4 });
    const machine = new Machine({ fabric });
    try {
      const module = new URL('./fixtures/worker-processes.mjs', import.meta.url);
      const started = await machine.spawn({ core: 1, module, entry: 'mirror', args: { hello: 1 } });
      expect(started.result).toMatchObject({ args: { hello: 1 }, core: 1 });
      await machine.spawn({ core: 1, function: () => null });
      // A missing module is released too (the spawn fails, the run goes on).
      await expect(
        machine.spawn({ core: 1, module: new URL('./fixtures/absent.mjs', import.meta.url) }),
      ).rejects.toThrow(/BAD_REQUEST/);
      expect({ taken: fabric.taken, released: fabric.released }).toEqual({ taken: 2, released: 2 });
      await fabric.quiet();
    } finally {
      await machine.shutdown();
    }
  });
});
