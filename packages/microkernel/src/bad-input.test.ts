// Regression tests for the bad inputs that once got past the checks of a public call: each used to
// answer a TypeError, a RangeError or an Error of a proxy instead of a FosError (or was accepted and
// did harm later); each now answers a documented code and changes nothing.
import { describe, expect, it } from 'vitest';
import { codeOf, codeOfCall } from '@fos/base/testing';
import { hashCapability } from './capability.js';
import { namedMailbox, processOn, testMachine, type TestFabricKind } from './internal/testing.js';
import { LocalFabric } from './local-fabric.js';
import { formatLocation, mailboxLocationSchema, sameLocation } from './location.js';
import { Machine } from './machine.js';
import { SimFabric } from './sim-fabric.js';
import { WorkerFabric } from './worker-fabric.js';

/** A proxy that throws on every operation, as a hostile caller may pass anywhere. */
function throwingProxy<T extends object>(target: T): T {
  return new Proxy(target, {
    get: () => {
      throw new Error('read me not');
    },
    getPrototypeOf: () => {
      throw new Error('read me not');
    },
    has: () => {
      throw new Error('read me not');
    },
    ownKeys: () => {
      throw new Error('read me not');
    },
    apply: () => {
      throw new Error('call me not');
    },
  });
}

/** An object whose getters throw: a location, options or a body that fails when read. */
function throwingGetters(...keys: string[]): object {
  const value = {};
  for (const key of keys)
    Object.defineProperty(value, key, {
      enumerable: true,
      get: () => {
        throw new Error(`a getter of ${key} that throws`);
      },
    });
  return value;
}

async function withWorld(
  kind: TestFabricKind,
  run: (parties: Awaited<ReturnType<typeof makeParties>>) => Promise<void>,
): Promise<void> {
  const { machine, crashes } = testMachine(kind, { cores: 3, seed: 3 });
  try {
    await run(await makeParties(machine, crashes));
  } finally {
    await machine.shutdown();
  }
}

/** An owner on core 1 with a mailbox `/bad/own`, a server on core 2 with `/bad/far`. */
async function makeParties(machine: Machine, crashes: string[]) {
  const owner = await processOn(machine, 1, 'owner');
  const server = await processOn(machine, 2, 'server');
  const own = await namedMailbox(owner.kernel, '/bad/own');
  const far = await namedMailbox(server.kernel, '/bad/far');
  return { machine, crashes, owner, server, own, far };
}

describe.each(['local', 'sim'] as const)('bad input on %s fabric', (kind) => {
  it('a location that throws when read is BAD_REQUEST for every call that takes one', () =>
    withWorld(kind, async ({ owner, own, far }) => {
      for (const location of [
        throwingProxy({}),
        throwingGetters('machine', 'core', 'mailbox'),
        throwingProxy(() => 1),
      ]) {
        const { kernel } = owner;
        expect(await codeOf(kernel.addName(location as never, '/bad/x'))).toBe('BAD_REQUEST');
        expect(await codeOf(kernel.mailboxNames(location as never))).toBe('BAD_REQUEST');
        expect(codeOfCall(() => kernel.tryReceive(location as never))).toBe('BAD_REQUEST');
        expect(await codeOf(kernel.ukSend('/bad/far', location as never, far.capability, 1))).toBe('BAD_REQUEST');
        expect(await codeOf(kernel.createChannel('/bad/far', location as never, far.capability))).toBe('BAD_REQUEST');
        expect(await codeOf(kernel.moveMailbox(location as never, far.location, far.capability))).toBe('BAD_REQUEST');
      }
      expect(await owner.kernel.mailboxNames(own.location)).toEqual(['/bad/own']);
    }));

  it('createMailbox refuses options that are null, throw when read or hold a symbol, and creates nothing', () =>
    withWorld(kind, async ({ machine, owner }) => {
      const before = machine.stats().mailboxes;
      for (const options of [
        null,
        5,
        throwingProxy({}),
        throwingGetters('queueMessagesMax'),
        { queueMessagesMax: Symbol('x') },
        { queueMessagesMax: 2n },
      ])
        expect(await codeOf(owner.kernel.createMailbox(options as never))).toBe('BAD_REQUEST');
      expect(machine.stats().mailboxes).toBe(before);
      expect((await owner.kernel.createMailbox({ queueMessagesMax: 2 })).location.core).toBe(1);
    }));

  it('onReadable refuses a callback that is not a function (it would have crashed the process at the next arrival)', () =>
    withWorld(kind, async ({ owner, server, own, crashes }) => {
      for (const callback of [5, 'run', {}, undefined])
        expect(codeOfCall(() => owner.kernel.onReadable(own.location, callback as never))).toBe('BAD_REQUEST');
      await server.kernel.ukSend('/bad/own', own.location, own.capability, 'arrives');
      expect((await owner.kernel.receive(own.location)).body).toBe('arrives');
      expect(crashes).toEqual([]);
    }));

  it('ukSend refuses options that are null, throw when read or name a symbol as resendOf, before numbering the send', () =>
    withWorld(kind, async ({ owner, far, server }) => {
      for (const options of [
        null,
        'x',
        throwingProxy({}),
        throwingGetters('resendOf'),
        { resendOf: Symbol('s') },
        { resendOf: '0' },
      ])
        expect(await codeOf(owner.kernel.ukSend('/bad/far', far.location, far.capability, 1, options as never))).toBe(
          'BAD_REQUEST',
        );
      // Nothing was numbered: the next send is the stream's first, and it is delivered.
      await owner.kernel.ukSend('/bad/far', far.location, far.capability, 'first');
      expect((await server.kernel.receive(far.location)).body).toBe('first');
    }));

  it('abandonSend refuses a sequence that is not a number (a symbol threw a TypeError)', () =>
    withWorld(kind, async ({ owner, far }) => {
      for (const sequence of [Symbol('s'), '0', null, throwingProxy({})])
        expect(codeOfCall(() => owner.kernel.abandonSend(far.location, sequence as never))).toBe('BAD_REQUEST');
    }));

  it('a body that throws when read is BAD_REQUEST on the kernel path and on a channel, and nothing arrives', () =>
    withWorld(kind, async ({ owner, server, far }) => {
      const channel = await owner.kernel.createChannel('/bad/far', far.location, far.capability);
      for (const body of [throwingGetters('body'), throwingProxy({}), { nested: throwingGetters('x') }]) {
        expect(await codeOf(owner.kernel.ukSend('/bad/far', far.location, far.capability, body as never))).toBe(
          'BAD_REQUEST',
        );
        expect(await codeOf(channel.send(body as never))).toBe('BAD_REQUEST');
      }
      expect(server.kernel.pendingMessages(far.location)).toBe(0);
      await channel.send('after');
      expect((await server.kernel.receive(far.location)).body).toBe('after');
    }));

  it('a process that throws a value whose prototype cannot be read crashes alone, and its mailboxes go', () =>
    withWorld(kind, async ({ machine, owner, server, own, crashes }) => {
      owner.guard(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- what a hostile process may throw
        throw throwingProxy({});
      });
      expect(await owner.exited).toMatchObject({ crashed: true });
      expect(crashes.join('\n')).toMatch(/owner .* crashed: an object that throws when read/);
      expect(await codeOf(server.kernel.ukSend('/bad/own', own.location, own.capability, 1))).toBe('UNREACHABLE');
      expect(machine.stats().mailboxes).toBe(1);
    }));
});

describe('bad input to machines, fabrics and helpers', () => {
  it('the exported helpers refuse what is not a location or a capability with a FosError', () => {
    for (const value of [null, undefined, 5n, Symbol('s'), throwingProxy({}), throwingProxy(() => 1)]) {
      expect(codeOfCall(() => formatLocation(value as never))).toBe('BAD_REQUEST');
      expect(codeOfCall(() => sameLocation(value as never, { machine: 'm0', core: 0, mailbox: 1 }))).toBe(
        'BAD_REQUEST',
      );
      expect(codeOfCall(() => hashCapability(value as never))).toBe('PERMISSION_DENIED');
      expect(mailboxLocationSchema.safeParse(value).success).toBe(false);
    }
    expect(formatLocation({ machine: 'm0', core: 1, mailbox: 2 })).toBe('m0/1/2');
  });

  it('new Machine refuses options that are null or throw when read, a bigint name, a non-function log', () => {
    const fabric = new LocalFabric({ cores: 1 });
    for (const options of [
      null,
      throwingProxy({}),
      throwingGetters('fabric'),
      { fabric: null },
      { fabric: throwingProxy({}) },
      { fabric, machine: 12n },
      { fabric, log: 'console' },
      { fabric, limits: throwingProxy({}) },
      { fabric, limits: new Uint8Array(100_000) },
    ]) {
      let message = '';
      expect(
        codeOfCall(() => {
          try {
            new Machine(options as never);
          } catch (error) {
            message = String(error);
            throw error;
          }
        }),
      ).toBe('BAD_REQUEST');
      expect(message.length).toBeLessThan(600);
    }
    // None of them connected a core: the fabric still serves a machine.
    expect(new Machine({ fabric }).coreCount).toBe(1);
    return fabric.close();
  });

  it('a refused Machine draws nothing from the fabric randomness (a seeded run replays the same)', () => {
    const fabric = new SimFabric({ cores: 1, seed: 9 });
    expect(codeOfCall(() => new Machine({ fabric, limits: { queueMessagesMax: 0 } }))).toBe('BAD_REQUEST');
    const refusedFirst = new Machine({ fabric }).kernelCapability;
    expect(refusedFirst).toBe(new Machine({ fabric: new SimFabric({ cores: 1, seed: 9 }) }).kernelCapability);
  });

  it('one fabric serves one machine: a second Machine on it is BAD_REQUEST (it used to share the cores)', async () => {
    for (const fabric of [new LocalFabric({ cores: 2 }), new SimFabric({ cores: 2, seed: 1 })]) {
      const machine = new Machine({ fabric });
      const draw = new SimFabric({ cores: 1, seed: 1 }).random;
      draw.fillBytes(new Uint8Array(16)); // what the first machine drew for its kernel capability
      expect(codeOfCall(() => new Machine({ fabric }))).toBe('BAD_REQUEST');
      if (fabric instanceof SimFabric) expect(fabric.random.nextUint32()).toBe(draw.nextUint32());
      const process = await processOn(machine, 0);
      const mailbox = await namedMailbox(process.kernel, '/one');
      const sender = await processOn(machine, 1);
      await sender.kernel.ukSend('/one', mailbox.location, mailbox.capability, 'once');
      expect((await process.kernel.receive(mailbox.location)).body).toBe('once');
      await machine.shutdown();
    }
  });

  it('spawn refuses options that throw when read and a function that throws when looked at', async () => {
    const { machine } = testMachine('local', { cores: 1 });
    try {
      expect(await codeOf(machine.spawn(throwingProxy({}) as never))).toBe('BAD_REQUEST');
      expect(await codeOf(machine.spawn(throwingGetters('core') as never))).toBe('BAD_REQUEST');
      expect(await codeOf(machine.spawn({ core: 0, module: throwingProxy(new URL('file:///x.js')) }))).toBe(
        'BAD_REQUEST',
      );
      // A function proxy: its `then` (looked up when a Promise resolves with it) and its call throw.
      expect(await codeOf(machine.spawn({ core: 0, function: throwingProxy(() => 1) }))).toBe('UNREACHABLE');
      expect(machine.stats().processes).toBe(0);
    } finally {
      await machine.shutdown();
    }
  });

  it('the fabrics refuse options that are null or throw when read, and cores, seeds and modules of any other type', () => {
    const refusals = [
      () => new LocalFabric(null as never),
      () => new LocalFabric(throwingProxy({}) as never),
      () => new LocalFabric({ cores: -1 }),
      () => new LocalFabric({ cores: 2n as never }),
      () => new LocalFabric({ cores: 1, random: {} as never }),
      () => new SimFabric({ cores: 1, seed: 'x' as never }),
      () => new SimFabric({ cores: 1, seed: 1, stepsMax: 0 }),
      () => new WorkerFabric({ cores: 1, hostModule: 5 as never }),
      () => new WorkerFabric({ cores: 1.5 }),
      () => new LocalFabric({ cores: 1 }).connect(Symbol('core') as never, () => undefined),
      () => new SimFabric({ cores: 1, seed: 1 }).connect(0, 'receive' as never),
    ];
    expect(refusals.map((make) => codeOfCall(make))).toEqual(refusals.map(() => 'BAD_REQUEST'));
    expect(codeOfCall(() => new LocalFabric({ cores: 257 }))).toBe('LIMIT_EXCEEDED');
  });
});
