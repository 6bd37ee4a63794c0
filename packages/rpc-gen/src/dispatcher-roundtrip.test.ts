// The generated golden code, compiled with this package, served and called through the dispatcher on
// both in-thread fabrics: the path a fleet's stubs take in production.
import { createDispatcher, dispatcherTransport, rpcHandler, type Dispatcher } from '@fos/dispatcher';
import { rawSendFunction } from '@fos/dispatcher/testing';
import { isFosError } from '@fos/base';
import { LocalFabric, Machine, SimFabric, type ProcessContext } from '@fos/microkernel';
import { describe, expect, it } from 'vitest';
import { createSampleApiClient, serveSampleApi } from './fixtures/generated/sample-api.rpc.js';
import { createSampleImpl } from './test/sample-impl.js';

async function dispatcherOn(
  machine: Machine,
  core: number,
  name: string,
): Promise<{ context: ProcessContext; dispatcher: Dispatcher }> {
  let made: { context: ProcessContext; dispatcher: Dispatcher } | undefined;
  await machine.spawn({
    core,
    name,
    function: async (context) => {
      made = {
        context,
        dispatcher: await createDispatcher(context, {
          send: rawSendFunction(context.kernel, context.clock),
          replyName: `/rpc/${name}/reply`,
        }),
      };
    },
  });
  if (made === undefined) throw new Error('the entry did not run');
  return made;
}

describe.each(['local', 'sim'] as const)('generated stubs through the dispatcher on %s fabric', (kind) => {
  it('round-trips every kind of argument and result, and re-raises FosError codes', async () => {
    const machine = new Machine({
      fabric: kind === 'local' ? new LocalFabric({ cores: 3 }) : new SimFabric({ cores: 3, seed: 9 }),
      log: () => undefined,
    });
    try {
      const server = await dispatcherOn(machine, 1, 'server');
      const impl = createSampleImpl();
      const mailbox = await server.context.kernel.createMailbox();
      await server.context.kernel.addName(mailbox.location, '/svc/sample');
      server.dispatcher.register(mailbox.location, { handler: rpcHandler(serveSampleApi(impl)) });
      const address = { name: '/svc/sample', location: mailbox.location, capability: mailbox.capability };
      const client = await dispatcherOn(machine, 2, 'client');
      const results = await client.dispatcher.spawnThread('main', async (thread) => {
        const api = createSampleApiClient(dispatcherTransport(() => thread, address));
        const bytes = Uint8Array.of(1, 2, 3);
        await api.put('a', bytes);
        const taken = await api.put('a', bytes).catch((error: unknown) => error);
        return {
          echo: await api.echo('hi', 2),
          add: await api.add(2n ** 62n, 5n),
          get: await api.get('a'),
          missing: await api.get('b'),
          strict: await api.get('b', true).catch((error: unknown) => (isFosError(error) ? error.code : 'no error')),
          taken: isFosError(taken) ? taken.code : 'no error',
          move: await api.move({ x: 1, y: 2 }, [3, 4], ['label', 2]),
          handle: await api.handle({ type: 'stop', code: null }),
          later: await api.later(new Date(0)),
          ping: await api.ping(),
          nothing: await api.nothing(),
        };
      });
      expect(results).toEqual({
        echo: ['hi', 'hi'],
        add: 2n ** 62n + 5n,
        get: expect.any(Uint8Array) as unknown,
        missing: null,
        strict: 'NO_SUCH_NAME',
        taken: 'NAME_EXISTS',
        move: { x: 7, y: 10 },
        handle: 'stop',
        later: new Date(3_600_000),
        ping: undefined,
        nothing: null,
      });
      expect([...results.get!]).toEqual([1, 2, 3]);
      expect(impl.calls.get('put')).toBe(2);
    } finally {
      await machine.shutdown();
    }
  });
});
