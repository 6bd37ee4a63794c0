// What the dispatcher answers for arguments it cannot use: a FosError, before anything changes, where
// it used to crash the process, throw a TypeError from deep inside, or leave a half-made change behind.
import { hasFosErrorCode, isFosError } from '@fos/base';
import { codeOf } from '@fos/base/testing';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createDispatcher } from './create-dispatcher.js';
import { dispatcherProcess, testMachine } from './internal/testing.js';
import { defineRpcService, dispatchRpc, methodOrdinal } from './rpc.js';
import { rawSendFunction } from './testing.js';

const throwing = new Proxy(
  {},
  {
    get: () => {
      throw new Error('read me not');
    },
  },
);

async function withProcess(
  run: (process: Awaited<ReturnType<typeof dispatcherProcess>>) => Promise<void>,
): Promise<void> {
  const { machine } = testMachine('local');
  try {
    await run(await dispatcherProcess(machine, 1, 'process'));
  } finally {
    await machine.shutdown();
  }
}

describe('the dispatcher refuses what it cannot use', () => {
  it('registers nothing when the kernel refuses the mailbox (it used to serve it anyway), nor a mailbox twice', () =>
    withProcess(async (process) => {
      const { dispatcher, context } = process;
      const foreign = { machine: context.machine, core: 3, mailbox: 99 }; // another core's: never this process's
      expect(() => dispatcher.register(foreign, { handler: () => null })).toThrow(/^PERMISSION_DENIED: /);
      expect(dispatcher.stats().mailboxes).toEqual([]);
      const own = await context.kernel.createMailbox();
      dispatcher.register(own.location, { handler: () => null });
      expect(() => dispatcher.register(own.location, { handler: () => null })).toThrow(
        /^BAD_REQUEST: the dispatcher serves .* already$/,
      );
      expect(() => dispatcher.register(dispatcher.replyAddress.location, { handler: () => null })).toThrow(/already$/);
      expect(() => dispatcher.register(own.location, { handler: 'answer' as never })).toThrow(
        /^BAD_REQUEST: the handler is not a function/,
      );
      expect(dispatcher.stats().mailboxes.map((mailbox) => mailbox.location)).toEqual([own.location]);
    }));

  it('rejects a thread operation whose destination, options or condition cannot be used, and the thread goes on', () =>
    withProcess(async ({ dispatcher }) => {
      const answers = await dispatcher.spawnThread('main', async (thread) => {
        const code = (promise: Promise<unknown>): Promise<string> => codeOf(promise);
        return [
          await code(thread.call(throwing as never, 'x')),
          await code(thread.call({ name: '/a' }, 'x', throwing)),
          await code(thread.wait({ signal: () => undefined } as never)),
          await code(thread.waitFor(42 as never)),
          await code(thread.sleep(Number.NaN)),
          await code(thread.callAll('calls' as never)),
          await thread.waitFor(Promise.resolve('still running')),
        ];
      });
      expect(answers).toEqual([
        'BAD_REQUEST',
        'BAD_REQUEST',
        'BAD_REQUEST',
        'BAD_REQUEST',
        'BAD_REQUEST',
        'BAD_REQUEST',
        'still running',
      ]);
    }));

  it('rejects spawnThread after stop with SHUTDOWN (it never settled) and a body that is not a function with BAD_REQUEST', () =>
    withProcess(async ({ dispatcher }) => {
      await expect(dispatcher.spawnThread('main', 'run' as never)).rejects.toThrow(
        /^BAD_REQUEST: a thread's body is not a function/,
      );
      dispatcher.stop();
      await expect(dispatcher.spawnThread('late', async () => 1)).rejects.toThrow(/^SHUTDOWN: /);
    }));

  it('createDispatcher with a reply name the kernel refuses destroys the mailbox it made (70 refusals leave room for mailboxes)', () =>
    withProcess(async ({ context }) => {
      const send = rawSendFunction(context.kernel, context.clock);
      for (let attempt = 0; attempt < 70; attempt++)
        expect(await codeOf(createDispatcher(context, { send, replyName: '/sys/name' }))).toBe('INVALID_NAME');
      expect(await codeOf(createDispatcher(context, { send, replyName: 'no/slash' }))).toBe('INVALID_NAME');
      await expect(context.kernel.createMailbox()).resolves.toMatchObject({ location: expect.anything() as unknown });
    }));

  it('rawSendFunction rejects a destination without a location with BAD_REQUEST (it failed an assertion)', () =>
    withProcess(async ({ context }) => {
      const send = rawSendFunction(context.kernel, context.clock);
      await expect(send({ name: '/a' }, 'x')).rejects.toThrow(
        /^BAD_REQUEST: rawSendFunction needs the location and capability of \/a$/,
      );
      expect(() => rawSendFunction({} as never, context.clock)).toThrow(
        /^BAD_REQUEST: the kernel must have the methods ukSend, abandonSend/,
      );
    }));
});

describe('the RPC runtime refuses what it cannot read', () => {
  const service = defineRpcService('Adder', { add: async (amount: number) => amount + 1 }, [
    {
      name: 'add',
      ordinal: methodOrdinal('Adder', 'add'),
      args: z.object({ amount: z.number() }),
      invoke: (impl, args) => impl.add(args.amount as number),
    },
  ]);

  it('answers a body or arguments that throw when read with BAD_REQUEST (zod threw the getter’s error, which crashed the server)', async () => {
    const failure = await dispatchRpc(service, throwing).catch((error: unknown) => error);
    expect(hasFosErrorCode(failure, 'BAD_REQUEST') && failure.message).toMatch(
      /^BAD_REQUEST: Adder: the request cannot be read/,
    );
    const inside = await dispatchRpc(service, { rpc: methodOrdinal('Adder', 'add'), args: throwing }).catch(
      (error: unknown) => error,
    );
    expect(isFosError(inside) && inside.code).toBe('BAD_REQUEST');
    // zod words its issues only when they are read, and then asks the value for its prototype again.
    const prototypeThrows = new Proxy(() => 1, {
      getPrototypeOf: () => {
        throw new Error('no prototype');
      },
    });
    expect(await codeOf(dispatchRpc(service, prototypeThrows))).toBe('BAD_REQUEST');
  });

  it('refuses an implementation without a function for each method (a request failed with a TypeError inside invoke)', () => {
    const methods = [{ name: 'add', ordinal: 1, args: z.object({}), invoke: (impl: { add(): number }) => impl.add() }];
    expect(() => defineRpcService('Adder', { add: 'one' }, methods as never)).toThrow(
      /^BAD_REQUEST: the implementation of Adder has no method add: \{"add":"one"\}$/,
    );
    expect(() => defineRpcService('Adder', null, methods as never)).toThrow(/has no method add: null$/);
  });

  it('refuses names that are not strings and a method list of the wrong shape', () => {
    expect(() => methodOrdinal(Symbol('Adder') as never, 'add')).toThrow(
      /^BAD_REQUEST: an interface name Symbol\(Adder\) is not a string$/,
    );
    expect(() => defineRpcService('Adder', {}, 'add' as never)).toThrow(
      /^BAD_REQUEST: the methods of Adder are not an array/,
    );
    expect(() =>
      defineRpcService('Adder', {}, [{ name: 'add', ordinal: -1, args: z.object({}), invoke: () => 1 }]),
    ).toThrow(/^BAD_REQUEST: the ordinal of add -1 is not a 32-bit unsigned integer$/);
  });
});
