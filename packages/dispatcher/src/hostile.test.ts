// Any JavaScript value through every public call of the dispatcher: each answers success or a FosError
// whose code the README documents; after a refused call the dispatcher serves the same mailboxes and
// still answers an ordinary call.
import { readFileSync } from 'node:fs';
import { describedCharactersMax, describeValue, isFosError, type FosErrorCode, type MessageBody } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import type { Machine } from '@fos/microkernel';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { dispatcherProcess, testMachine, type DispatcherProcess } from './internal/testing.js';
import {
  createDispatcher,
  defineRpcService,
  Dispatcher,
  dispatcherTransport,
  dispatchRpc,
  loopbackTransport,
  methodOrdinal,
  rpcHandler,
  type Condition,
  type ReplyAddress,
  type RpcService,
  type Thread,
} from './index.js';
import { callTimeoutMsMax } from './limits.js';
import { rawSendFunction } from './testing.js';

const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
/** Mostly a well-formed value, sometimes a hostile one: most calls then get past their first checks. */
const either = (...valid: unknown[]): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 3 }, { arbitrary: anyValue, weight: 1 });
const notAFunction = anyValue.filter((value) => typeof value !== 'function');
const handlerOrNot = fc.oneof(
  fc.constant(() => 'served'),
  notAFunction,
);

/** What the calls run against: a client and a server process, the server's mailboxes, a spare mailbox of the client's. */
type World = {
  machine: Machine;
  client: DispatcherProcess;
  server: DispatcherProcess;
  echo: ReplyAddress;
  awaiting: ReplyAddress;
  answering: ReplyAddress;
  spare: ReplyAddress;
  spareReply: ReplyAddress;
  service: RpcService<{ add(amount: number): Promise<number> }>;
  /** What the server's handlers use, set by a call before it asks them. */
  next: { options?: unknown; body?: unknown };
};

let world: World;

async function spareMailbox(process: DispatcherProcess, name: string): Promise<ReplyAddress> {
  const mailbox = await process.context.kernel.createMailbox();
  await process.context.kernel.addName(mailbox.location, name);
  return { name, location: mailbox.location, capability: mailbox.capability };
}

beforeAll(async () => {
  const { machine } = testMachine('local');
  const server = await dispatcherProcess(machine, 1, 'server');
  const client = await dispatcherProcess(machine, 2, 'client');
  const next: World['next'] = {};
  // It answers a constant, not the body: some bodies a sender may send cannot be sent back (a sparse
  // array arrives with undefined items), and the caller would wait out its timeout.
  const echo = await server.serve('/svc/echo', { handler: () => 'pong' });
  const awaiting = await server.serve('/svc/await', {
    handler: (_, thread) => thread.respondAndAwait('waiting', next.options as never),
  });
  const answering = await server.serve('/svc/answer', {
    handler: async (_, thread) => void (await thread.respond(next.body as MessageBody)),
  });
  const service = defineRpcService('Adder', { add: async (amount: number) => amount + 1 }, [
    {
      name: 'add',
      ordinal: methodOrdinal('Adder', 'add'),
      args: z.object({ amount: z.number() }),
      invoke: (impl, args) => impl.add(args.amount as number),
    },
  ]);
  world = {
    machine,
    client,
    server,
    echo,
    awaiting,
    answering,
    spare: await spareMailbox(client, '/test/spare'),
    spareReply: await spareMailbox(client, '/test/spare-reply'),
    service,
    next,
  };
});

afterAll(() => world.machine.shutdown());

/** Runs `body` in a thread of the client and answers what it returned or threw. */
function inThread(body: (thread: Thread) => Promise<unknown>): Promise<unknown> {
  return world.client.dispatcher.spawnThread('hostile', async (thread) => body(thread));
}

const destination = (): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(world.echo, { ...world.echo, capability: 'AAAAAAAAAAAAAAAAAAAAAA' }), weight: 3 },
    {
      arbitrary: fc.record({
        name: either(world.echo.name, null),
        location: either(world.echo.location),
        capability: either(world.echo.capability),
      }),
      weight: 2,
    },
    { arbitrary: anyValue, weight: 1 },
  );
const callOptions = either(undefined, {}, { timeoutMs: 1_000 }, { timeoutMs: 0 });
const sendCodes: FosErrorCode[] = [
  'BAD_REQUEST',
  'MESSAGE_TOO_LARGE',
  'INVALID_NAME',
  'PERMISSION_DENIED',
  'UNREACHABLE',
  'NO_SUCH_NAME',
  'WOULD_BLOCK',
  'TIMEOUT',
];

/** The public calls, with well-formed or hostile arguments, and the codes each may answer. */
function calls(): ReadonlyArray<{
  name: string;
  codes: readonly FosErrorCode[];
  args: fc.Arbitrary<unknown[]>;
  call: (args: unknown[]) => unknown;
  runs?: number;
}> {
  const { client } = world;
  const dispatcher = client.dispatcher;
  return [
    {
      name: 'new Dispatcher',
      codes: ['BAD_REQUEST', 'PERMISSION_DENIED', 'UNREACHABLE'],
      args: fc.tuple(
        either(client.context.kernel),
        either(async () => undefined),
        either(client.context.clock),
        either(world.spareReply),
        either(() => undefined),
      ),
      call: ([kernel, send, clock, replyAddress, crash]) =>
        new Dispatcher({ kernel, send, clock, replyAddress, crash } as never),
    },
    {
      name: 'new Dispatcher(options)',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(anyValue),
      call: ([a]) => new Dispatcher(a as never),
    },
    {
      name: 'register',
      codes: ['BAD_REQUEST', 'PERMISSION_DENIED', 'UNREACHABLE'],
      args: fc.tuple(
        either(world.spare.location, world.echo.location, dispatcher.replyAddress.location),
        fc.oneof(fc.record({ handler: handlerOrNot, priority: either(0, 5), liveThreadsMax: either(1, 4) }), anyValue),
      ),
      call: ([location, options]) => {
        dispatcher.register(location as never, options as never);
        dispatcher.unregister(world.spare.location); // what was registered goes again
      },
    },
    {
      name: 'unregister',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(either(world.spare.location)),
      call: ([a]) => dispatcher.unregister(a as never),
    },
    {
      name: 'spawnThread',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(
        either('worker'),
        fc.oneof(
          fc.constant(async () => 1),
          notAFunction,
        ),
      ),
      call: ([name, body]) => dispatcher.spawnThread(name as string, body as never),
    },
    {
      name: 'setReplyName',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(either(dispatcher.replyAddress.name)),
      call: ([a]) => {
        const name = dispatcher.replyAddress.name as string;
        dispatcher.setReplyName(a as string);
        dispatcher.setReplyName(name); // a name the reply mailbox does not have would lose every answer
      },
    },
    {
      name: 'thread.call',
      codes: sendCodes,
      args: fc.tuple(destination(), anyValue, callOptions),
      call: ([to, body, options]) => inThread((thread) => thread.call(to as never, body as never, options as never)),
    },
    {
      name: 'thread.callAll',
      codes: [...sendCodes, 'LIMIT_EXCEEDED'],
      args: fc.tuple(
        fc.oneof(fc.array(fc.record({ destination: destination(), body: anyValue }), { maxLength: 3 }), anyValue),
        callOptions,
      ),
      call: ([specs, options]) => inThread((thread) => thread.callAll(specs as never, options as never)),
    },
    {
      name: 'thread.send',
      codes: sendCodes,
      args: fc.tuple(destination(), anyValue),
      call: ([to, body]) => inThread((thread) => thread.send(to as never, body as never)),
    },
    {
      name: 'thread.sleep',
      codes: ['BAD_REQUEST'],
      // A valid delay is no bad input: past 10 ms it only makes the run wait (a drawn 21,934 ms once
      // outlasted the test), so it is cut below 10 ms. Invalid ones (negative, NaN, past
      // callTimeoutMsMax, not numbers) stay as drawn.
      args: fc.tuple(
        either(0, 1).map((ms) => (typeof ms === 'number' && ms > 10 && ms <= callTimeoutMsMax ? ms % 10 : ms)),
      ),
      call: ([ms]) => inThread((thread) => thread.sleep(ms as number)),
    },
    {
      name: 'thread.wait',
      codes: ['BAD_REQUEST', 'TIMEOUT'],
      args: fc.tuple(fc.boolean(), callOptions),
      call: ([real, options]) =>
        inThread((thread) => {
          const condition: Condition =
            real === true
              ? dispatcher.createCondition()
              : { signal: () => undefined, broadcast: () => undefined, waiting: 0 };
          client.context.clock.setTimer(1, () => condition.broadcast());
          return thread.wait(condition, options as never);
        }),
    },
    {
      name: 'thread.wait(condition)',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(anyValue),
      call: ([condition]) => inThread((thread) => thread.wait(condition as never, { timeoutMs: 0 })),
    },
    {
      name: 'thread.waitFor',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(fc.oneof(fc.constant(Promise.resolve(1)), anyValue)),
      call: ([promise]) => inThread((thread) => thread.waitFor(promise as never)),
    },
    {
      name: 'thread.respondAndAwait',
      codes: ['BAD_REQUEST', 'TIMEOUT'],
      args: fc.tuple(callOptions),
      call: ([options]) =>
        inThread(async (thread) => {
          world.next.options = options;
          const { exchange } = await thread.call(world.awaiting, 'ask', { timeoutMs: 1_000 });
          await exchange.followUp('follow-up');
        }),
    },
    {
      name: 'thread.respond',
      codes: ['TIMEOUT'],
      args: fc.tuple(anyValue),
      call: ([body]) =>
        inThread((thread) => {
          world.next.body = body;
          // An answer the kernel refuses is counted, not delivered: the caller then waits out its timeout.
          return thread.call(world.answering, 'ask', { timeoutMs: 5 });
        }),
      runs: 200,
    },
    {
      name: 'methodOrdinal',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(either('Adder'), either('add')),
      call: ([a, b]) => methodOrdinal(a as string, b as string),
    },
    {
      name: 'defineRpcService',
      codes: ['BAD_REQUEST', 'CONFLICT'],
      args: fc.tuple(
        either('Adder'),
        anyValue,
        fc.oneof(
          fc.array(
            fc.record({
              name: either('add'),
              ordinal: either(1, 2),
              args: either(z.object({})),
              invoke: either(() => 1),
            }),
            { maxLength: 3 },
          ),
          anyValue,
        ),
      ),
      call: ([name, impl, methods]) => defineRpcService(name as string, impl, methods as never),
    },
    {
      name: 'dispatchRpc',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(
        either(world.service),
        fc.oneof(
          fc.record({
            rpc: either(methodOrdinal('Adder', 'add'), 7),
            args: fc.oneof(fc.record({ amount: either(1) }), anyValue),
          }),
          anyValue,
        ),
      ),
      call: ([service, body]) => dispatchRpc(service as never, body),
    },
    {
      name: 'rpcHandler',
      codes: ['BAD_REQUEST'],
      args: fc.tuple(either(world.service)),
      call: ([a]) => rpcHandler(a as never),
    },
    {
      name: 'loopbackTransport.invoke',
      codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'],
      args: fc.tuple(
        either(world.service),
        either(methodOrdinal('Adder', 'add')),
        either('Adder.add'),
        fc.oneof(fc.record({ amount: either(2) }), anyValue),
      ),
      call: ([service, ordinal, method, args]) =>
        loopbackTransport(service as never).invoke(ordinal as number, method as string, args as never),
    },
    {
      name: 'dispatcherTransport',
      codes: [...sendCodes, 'BAD_REQUEST'],
      args: fc.tuple(
        fc.oneof(fc.constant(undefined), notAFunction),
        destination(),
        callOptions,
        fc.record({ amount: either(2) }),
      ),
      call: ([currentThread, to, options, args]) =>
        inThread((thread) =>
          dispatcherTransport((currentThread ?? (() => thread)) as () => Thread, to as never, options as never).invoke(
            methodOrdinal('Echo', 'x'),
            'Echo.x',
            args as never,
          ),
        ),
    },
    {
      name: 'rawSendFunction',
      codes: sendCodes,
      args: fc.tuple(
        either(client.context.kernel),
        either(client.context.clock),
        either(undefined, { wouldBlock: 0, abandoned: 0 }),
        destination(),
        anyValue,
      ),
      call: ([kernel, clock, counters, to, body]) =>
        rawSendFunction(kernel as never, clock as never, counters as never)(to as never, body as never),
    },
    {
      name: 'createDispatcher',
      codes: ['BAD_REQUEST', 'LIMIT_EXCEEDED', 'INVALID_NAME'],
      args: fc.tuple(
        either(client.context),
        fc.record({
          send: either(async () => undefined),
          replyName: either('/test/client/reply', '/test/made', '/sys/name'),
          limits: either(undefined, { pendingOperationsMax: 4 }),
        }),
      ),
      call: async ([context, options]) => {
        const made = await createDispatcher(context as never, options as never);
        made.stop();
      },
      runs: 60,
    },
  ];
}

const runsPerCall = 500;
const wordedHere = new Set<FosErrorCode>(['BAD_REQUEST', 'LIMIT_EXCEEDED', 'SHUTDOWN', 'TIMEOUT', 'CONFLICT']);

describe('any JavaScript value through the public calls of @fos/dispatcher', () => {
  it(`every call answers success or a documented FosError; a refused call leaves the served mailboxes as they were (${runsPerCall} arguments per call)`, async () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const dispatcher = world.client.dispatcher;
    const served = (): unknown => [
      dispatcher.stats().mailboxes.map((mailbox) => mailbox.location),
      dispatcher.replyAddress,
    ];
    const met = new Set<FosErrorCode>();
    let callCount = 0;
    for (const { name, codes, args, call, runs } of calls()) {
      const startedMs = performance.now();
      await fc.assert(
        fc.asyncProperty(args, async (values) => {
          const before = served();
          callCount++;
          const callStartedMs = performance.now();
          try {
            await call(values);
          } catch (error) {
            if (!isFosError(error) || !codes.includes(error.code))
              throw new Error(
                `${name}(${values.map((value) => describeValue(value)).join(', ')}) threw ${String(error)}`,
              );
            // The codes the dispatcher words itself; the kernel's refusals (PERMISSION_DENIED of a capability
            // that is not one) are the kernel's to bound.
            if (wordedHere.has(error.code) && error.message.length >= 3 * describedCharactersMax + 200)
              throw new Error(
                `${name} answered a message of ${error.message.length} characters: ${error.message.slice(0, 300)}`,
              );
            met.add(error.code);
            expect(served()).toEqual(before);
          }
          if (process.env.HOSTILE_TIMES === '1' && performance.now() - callStartedMs > 100)
            console.log(
              'slow',
              name,
              values
                .map((value) => describeValue(value))
                .join(', ')
                .slice(0, 300),
            );
          // The dispatcher still answers an ordinary call.
          const answer = await inThread(
            async (thread) => (await thread.call(world.echo, 'ping', { timeoutMs: 1_000 })).body,
          ).catch(
            (error: unknown) =>
              `after ${name}(${values.map((value) => describeValue(value)).join(', ')}): ${String(error)}`,
          );
          expect(answer).toBe('pong');
        }),
        { numRuns: runs ?? runsPerCall },
      );
      if (process.env.HOSTILE_TIMES === '1') console.log(name, Math.round(performance.now() - startedMs), 'ms');
    }
    expect(callCount).toBeGreaterThanOrEqual(10_000);
    expect([...met].filter((code) => !documented.has(code))).toEqual([]);
    expect(met.has('BAD_REQUEST')).toBe(true);
  }, 120_000);
});
