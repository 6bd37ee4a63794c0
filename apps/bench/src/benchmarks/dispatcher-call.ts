import { createDispatcher, type Dispatcher, type ReplyAddress, type RequestHandler } from '@fos/dispatcher';
import { ukSendFunction } from '@fos/libfos-messaging';
import { assert, SystemClock } from '@fos/base';
import { LocalFabric, Machine, type ProcessContext } from '@fos/microkernel';
import type { Benchmark, BenchmarkSession } from '../harness.js';

/** Settings of {@link dispatcherCall}. */
export interface DispatcherCallSettings {
  /** Round trips per round, one in flight. */
  readonly roundTrips: number;
  /** Bytes of the `Uint8Array` payload. */
  readonly bodyBytes: number;
  /** The one core both processes run on. */
  readonly core: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

/** The defaults. */
export const dispatcherCallDefaults: DispatcherCallSettings = Object.freeze({
  roundTrips: 20_000,
  bodyBytes: 64,
  core: 1,
  rounds: 5,
  warmupRounds: 1,
});

/** The call timeout both sides carry as the request budget (the dispatcher's default). */
const budgetMs = 30_000;

/**
 * `dispatcher-call`: same-core request/response round trips through the dispatcher (a client thread's
 * `call`, a server thread per request answering with the payload), one in flight. Baseline
 * `raw-ukSend-call`: the same exchange written by hand over raw `ukSend` — the same request and
 * response envelopes (same fields, same payload, so the same bytes), a server that answers from its
 * readable callback, a client that sends and then receives on its reply mailbox.
 */
export function dispatcherCall(overrides: Partial<DispatcherCallSettings> = {}): Benchmark {
  const settings: DispatcherCallSettings = { ...dispatcherCallDefaults, ...overrides };
  return {
    name: 'dispatcher-call',
    unit: 'roundtrips/s',
    baselineName: 'raw-ukSend-call',
    settings: { fabric: 'local', ...settings, inFlight: 1, sameCore: true },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: () => openSession(settings),
  };
}

async function openSession(settings: DispatcherCallSettings): Promise<BenchmarkSession> {
  const clock = new SystemClock();
  const payload = new Uint8Array(settings.bodyBytes).map((_, index) => index);
  const machine = new Machine({ fabric: new LocalFabric({ cores: Math.max(2, settings.core + 1) }) });
  try {
    const server = await dispatcherProcess(machine, settings.core, 'bench-server');
    const service = await serve(server, '/bench/dispatcher');
    const client = await dispatcherProcess(machine, settings.core, 'bench-client');
    const raw = await rawPair(machine, settings.core);
    const perSecond = (startedMs: number): number => settings.roundTrips / ((clock.now() - startedMs) / 1000);
    return {
      measured: () =>
        client.dispatcher.spawnThread('bench', async (thread) => {
          const startedMs = clock.now();
          for (let index = 0; index < settings.roundTrips; index++) {
            const { body } = await thread.call(service, payload);
            assert(body instanceof Uint8Array && body.length === settings.bodyBytes, 'the answer carries the payload');
          }
          return perSecond(startedMs);
        }),
      baseline: async () => {
        const startedMs = clock.now();
        for (let token = 1; token <= settings.roundTrips; token++) {
          await raw.client.kernel.ukSend(raw.server.name, raw.server.location, raw.server.capability, {
            fos: 'request',
            token,
            replyTo: raw.reply,
            budget: budgetMs,
            body: payload,
          });
          const answer = (await raw.client.kernel.receive(raw.reply.location)).body as {
            token: number;
            body: Uint8Array;
          };
          assert(
            answer.token === token && answer.body.length === settings.bodyBytes,
            'the answer carries the token and the payload',
          );
        }
        return perSecond(startedMs);
      },
      close: () => machine.shutdown(),
    };
  } catch (error) {
    await machine.shutdown();
    throw error;
  }
}

/** A benchmark process with a dispatcher over raw ukSend. */
export interface BenchProcess {
  readonly context: ProcessContext;
  readonly dispatcher: Dispatcher;
}

/** Spawns a process with a dispatcher whose reply mailbox is `/bench/<name>/reply`. */
export async function dispatcherProcess(machine: Machine, core: number, name: string): Promise<BenchProcess> {
  let made: BenchProcess | undefined;
  await machine.spawn({
    core,
    name,
    function: async (context: ProcessContext) => {
      made = {
        context,
        dispatcher: await createDispatcher(context, {
          send: ukSendFunction(context.kernel, context.clock),
          replyName: `/bench/${name}/reply`,
        }),
      };
    },
  });
  assert(made !== undefined, 'the process entry ran');
  return made;
}

/** A mailbox named `name`, served by `handler` (default: answer the request's body). */
export async function serve(
  process: BenchProcess,
  name: string,
  handler: RequestHandler = (request) => request.body,
): Promise<ReplyAddress> {
  const mailbox = await process.context.kernel.createMailbox();
  await process.context.kernel.addName(mailbox.location, name);
  process.dispatcher.register(mailbox.location, { handler });
  return { name, location: mailbox.location, capability: mailbox.capability };
}

/** A named mailbox, as the hand-written pair addresses it. */
type RawAddress = ReplyAddress & { readonly name: string };

/** The hand-written pair: a server answering from its readable callback, and a client with a reply mailbox. */
async function rawPair(
  machine: Machine,
  core: number,
): Promise<{ client: ProcessContext; reply: RawAddress; server: RawAddress }> {
  let server: RawAddress | undefined;
  await machine.spawn({
    core,
    name: 'raw-server',
    function: async ({ kernel }: ProcessContext) => {
      const mailbox = await kernel.createMailbox();
      await kernel.addName(mailbox.location, '/bench/raw');
      kernel.onReadable(mailbox.location, async () => {
        for (
          let message = kernel.tryReceive(mailbox.location);
          message !== undefined;
          message = kernel.tryReceive(mailbox.location)
        ) {
          const request = message.body as { token: number; replyTo: RawAddress; body: Uint8Array };
          await kernel.ukSend(request.replyTo.name, request.replyTo.location, request.replyTo.capability, {
            fos: 'response',
            token: request.token,
            ok: true,
            body: request.body,
          });
        }
      });
      server = { name: '/bench/raw', location: mailbox.location, capability: mailbox.capability };
    },
  });
  let client: { context: ProcessContext; reply: RawAddress } | undefined;
  await machine.spawn({
    core,
    name: 'raw-client',
    function: async (context: ProcessContext) => {
      const mailbox = await context.kernel.createMailbox();
      await context.kernel.addName(mailbox.location, '/bench/raw-client/reply');
      client = {
        context,
        reply: { name: '/bench/raw-client/reply', location: mailbox.location, capability: mailbox.capability },
      };
    },
  });
  assert(server !== undefined && client !== undefined, 'both raw processes started');
  return { client: client.context, reply: client.reply, server };
}
