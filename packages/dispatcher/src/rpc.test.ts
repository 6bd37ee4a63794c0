import { FosError, hasFosErrorCode, isFosError } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dispatcherProcess, testMachine } from './internal/testing.js';
import {
  defineRpcService,
  dispatchRpc,
  dispatcherTransport,
  loopbackTransport,
  methodOrdinal,
  rpcHandler,
  type RpcService,
} from './rpc.js';

interface CounterApi {
  add(amount: number, label?: string): Promise<number>;
  reset(): Promise<void>;
}

function counterService(calls: string[] = []): RpcService<CounterApi> {
  let total = 0;
  const impl: CounterApi = {
    add: async (amount, label) => {
      calls.push(`add ${amount} ${label ?? '-'}`);
      if (amount < 0) throw new FosError('CONFLICT', `negative amount ${amount}`);
      total += amount;
      return total;
    },
    reset: async () => {
      calls.push('reset');
      total = 0;
    },
  };
  return defineRpcService('CounterApi', impl, [
    {
      name: 'add',
      ordinal: methodOrdinal('CounterApi', 'add'),
      args: z.object({ amount: z.number(), label: z.string().optional() }),
      invoke: (target, args) => target.add(args.amount as number, args.label as string | undefined),
    },
    {
      name: 'reset',
      ordinal: methodOrdinal('CounterApi', 'reset'),
      args: z.object({}),
      invoke: (target) => target.reset(),
    },
  ]);
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return hasFosErrorCode(error, 'BAD_REQUEST') ? error.message : String(error);
  }
}

describe('the RPC runtime', () => {
  it('numbers methods by an FNV-1a hash of Interface.method', () => {
    expect(methodOrdinal('CounterApi', 'add')).toBe(methodOrdinal('CounterApi', 'add'));
    expect(methodOrdinal('CounterApi', 'add')).not.toBe(methodOrdinal('CounterApi', 'reset'));
    // FNV-1a 32 of "a.b", computed independently (Python reference implementation).
    expect(methodOrdinal('a', 'b')).toBe(0x108bf50c);
  });

  it('validates before the implementation sees anything, naming method, argument and path', async () => {
    const calls: string[] = [];
    const service = counterService(calls);
    const add = methodOrdinal('CounterApi', 'add');
    expect(await refusal(dispatchRpc(service, { rpc: add, args: { amount: 'one' } }))).toMatch(
      /^BAD_REQUEST: CounterApi\.add: argument amount: /,
    );
    expect(await refusal(dispatchRpc(service, { rpc: add, args: {} }))).toMatch(/CounterApi\.add: argument amount/);
    expect(await refusal(dispatchRpc(service, { rpc: 12345, args: {} }))).toMatch(/has no method with ordinal 12345/);
    expect(await refusal(dispatchRpc(service, 'not a request'))).toMatch(/not an RPC request/);
    expect(calls).toEqual([]);
    expect(await dispatchRpc(service, { rpc: add, args: { amount: 2, extra: 'stripped' } })).toBe(2);
    expect(calls).toEqual(['add 2 -']);
  });

  it('refuses two methods with one ordinal', () => {
    expect(() =>
      defineRpcService('X', {}, [
        { name: 'a', ordinal: 1, args: z.object({}), invoke: () => null },
        { name: 'b', ordinal: 1, args: z.object({}), invoke: () => null },
      ]),
    ).toThrow(/share ordinal 1/);
  });

  it('round-trips through the loopback transport, FosErrors included', async () => {
    const transport = loopbackTransport(counterService());
    expect(await transport.invoke(methodOrdinal('CounterApi', 'add'), 'CounterApi.add', { amount: 5 })).toBe(5);
    expect(await transport.invoke(methodOrdinal('CounterApi', 'reset'), 'CounterApi.reset', {})).toBeNull();
    const error = await transport
      .invoke(methodOrdinal('CounterApi', 'add'), 'CounterApi.add', { amount: -1 })
      .catch((caught: unknown) => caught);
    expect(isFosError(error) && error.code).toBe('CONFLICT');
  });

  it.each(['local', 'sim'] as const)('serves over dispatcher calls on %s fabric', async (kind) => {
    const { machine } = testMachine(kind, 3);
    try {
      const server = await dispatcherProcess(machine, 1, 'server');
      const address = await server.serve('/svc/counter', { handler: rpcHandler(counterService()) });
      const client = await dispatcherProcess(machine, 2, 'client');
      const results = await client.dispatcher.spawnThread('main', async (thread) => {
        const transport = dispatcherTransport(() => thread, address);
        const first = await transport.invoke(methodOrdinal('CounterApi', 'add'), 'CounterApi.add', {
          amount: 3,
          label: 'x',
        });
        const second = await transport.invoke(methodOrdinal('CounterApi', 'add'), 'CounterApi.add', { amount: 4 });
        const bad = await transport
          .invoke(methodOrdinal('CounterApi', 'add'), 'CounterApi.add', { amount: 'x' })
          .catch((error: unknown) => error);
        return [first, second, isFosError(bad) ? bad.code : 'no error'];
      });
      expect(results).toEqual([3, 7, 'BAD_REQUEST']);
    } finally {
      await machine.shutdown();
    }
  });
});
