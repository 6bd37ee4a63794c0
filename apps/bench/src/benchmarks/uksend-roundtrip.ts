import { MessageChannel } from 'node:worker_threads';
import { assert, encodeBody, SystemClock } from '@fos/base';
import { LocalFabric, Machine, type MailboxLocation, type ProcessContext } from '@fos/microkernel';
import type { Benchmark, BenchmarkSession } from '../harness.js';

/** Settings of {@link ukSendRoundtrip}. */
export interface UkSendRoundtripSettings {
  /** Round trips per round, one in flight. */
  readonly roundTrips: number;
  /** Bytes of the `Uint8Array` body. */
  readonly bodyBytes: number;
  readonly cores: number;
  readonly clientCore: number;
  readonly echoCore: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

/** The defaults: about 10 s on a laptop core. */
export const ukSendRoundtripDefaults: UkSendRoundtripSettings = Object.freeze({
  roundTrips: 20_000,
  bodyBytes: 64,
  cores: 4,
  clientCore: 1,
  echoCore: 2,
  rounds: 5,
  warmupRounds: 1,
});

interface Address {
  readonly name: string;
  readonly location: MailboxLocation;
  readonly capability: string;
}

/**
 * `ukSend-roundtrip`: round trips between two processes on different cores of a `LocalFabric`, one
 * message in flight, each way a `ukSend` of a `bodyBytes`-byte `Uint8Array` (encoded, checked by the
 * owning kernel, delivered through a `MessageChannel`, acknowledged). Baseline
 * `messagechannel-roundtrip`: the same encoded bytes posted over a bare `MessageChannel` in the same
 * thread and posted back, one in flight, a fresh copy each way.
 */
export function ukSendRoundtrip(overrides: Partial<UkSendRoundtripSettings> = {}): Benchmark {
  const settings: UkSendRoundtripSettings = { ...ukSendRoundtripDefaults, ...overrides };
  return {
    name: 'ukSend-roundtrip',
    unit: 'roundtrips/s',
    baselineName: 'messagechannel-roundtrip',
    settings: { fabric: 'local', ...settings, inFlight: 1 },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: () => openSession(settings),
  };
}

async function openSession(settings: UkSendRoundtripSettings): Promise<BenchmarkSession> {
  const clock = new SystemClock();
  const body = new Uint8Array(settings.bodyBytes).map((_, index) => index);
  const machine = new Machine({ fabric: new LocalFabric({ cores: settings.cores }) });
  const baseline = openMessageChannelEcho();
  try {
    const { context: client, reply } = await spawnClient(machine, settings.clientCore);
    const echo = await spawnEcho(machine, settings.echoCore, reply);
    const encoded = encodeBody(body);
    const perSecond = (startedMs: number): number => settings.roundTrips / ((clock.now() - startedMs) / 1000);
    return {
      measured: async () => {
        const { kernel } = client;
        const startedMs = clock.now();
        for (let index = 0; index < settings.roundTrips; index++) {
          await kernel.ukSend(echo.name, echo.location, echo.capability as never, body);
          const answer = await kernel.receive(reply.location);
          assert(
            answer.body instanceof Uint8Array && answer.body.length === settings.bodyBytes,
            'the echo carries the body back',
          );
        }
        return perSecond(startedMs);
      },
      baseline: async () => {
        const startedMs = clock.now();
        for (let index = 0; index < settings.roundTrips; index++) {
          const answer = await baseline.roundTrip(encoded);
          assert(answer.length === encoded.length, 'the echo carries the bytes back');
        }
        return perSecond(startedMs);
      },
      close: async () => {
        baseline.close();
        await machine.shutdown();
      },
    };
  } catch (error) {
    baseline.close();
    await machine.shutdown();
    throw error;
  }
}

/** The client: a reply mailbox; the benchmark drives its system calls from outside, one call at a time. */
async function spawnClient(machine: Machine, core: number): Promise<{ context: ProcessContext; reply: Address }> {
  let captured: ProcessContext | undefined;
  const handle = await machine.spawn({
    core,
    name: 'bench-client',
    function: async (context: ProcessContext) => {
      captured = context;
      const mailbox = await context.kernel.createMailbox();
      await context.kernel.addName(mailbox.location, '/bench/client');
      return { name: '/bench/client', location: mailbox.location, capability: mailbox.capability };
    },
  });
  assert(captured !== undefined, 'the client entry ran');
  return { context: captured, reply: handle.result as unknown as Address };
}

/** The echo server: sends every body it receives back to `reply`, in order. */
async function spawnEcho(machine: Machine, core: number, reply: Address): Promise<Address> {
  const handle = await machine.spawn({
    core,
    name: 'bench-echo',
    function: async ({ kernel }: ProcessContext) => {
      const mailbox = await kernel.createMailbox();
      await kernel.addName(mailbox.location, '/bench/echo');
      // The kernel runs this callback one run at a time, so replies leave in arrival order.
      kernel.onReadable(mailbox.location, async () => {
        for (
          let message = kernel.tryReceive(mailbox.location);
          message !== undefined;
          message = kernel.tryReceive(mailbox.location)
        ) {
          await kernel.ukSend(reply.name, reply.location, reply.capability as never, message.body);
        }
      });
      return { name: '/bench/echo', location: mailbox.location, capability: mailbox.capability };
    },
  });
  return handle.result as unknown as Address;
}

/** A bare `MessageChannel` echo in this thread: each side posts a fresh copy, moved, as LocalFabric moves its bytes. */
function openMessageChannelEcho(): { roundTrip(bytes: Uint8Array): Promise<Uint8Array>; close(): void } {
  const { port1: clientPort, port2: echoPort } = new MessageChannel();
  echoPort.on('message', (bytes: Uint8Array) => {
    const copy = bytes.slice();
    echoPort.postMessage(copy, [copy.buffer]);
  });
  let waiting: ((bytes: Uint8Array) => void) | undefined;
  clientPort.on('message', (bytes: Uint8Array) => {
    const wake = waiting;
    waiting = undefined;
    assert(wake !== undefined, 'an echo answers a round trip in flight');
    wake(bytes);
  });
  return {
    roundTrip: (bytes) =>
      new Promise((resolve) => {
        assert(waiting === undefined, 'one round trip in flight');
        waiting = resolve;
        const copy = bytes.slice();
        clientPort.postMessage(copy, [copy.buffer]);
      }),
    close: () => {
      clientPort.close();
      echoPort.close();
    },
  };
}
