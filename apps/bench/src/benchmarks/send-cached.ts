import { assert, SystemClock } from '@fos/base';
import type { Benchmark, BenchmarkSession } from '../harness.js';
import { bootNamed, libfosOn, perSecond, serveNamed } from './naming.js';

/** Settings of {@link sendCached}. */
export interface SendCachedSettings {
  /** Round trips per round, one in flight. */
  readonly roundTrips: number;
  /** Bytes of the `Uint8Array` payload. */
  readonly bodyBytes: number;
  readonly cores: number;
  readonly clientCore: number;
  readonly echoCore: number;
  /** Calls by name made before the first round, so that the client's cache holds the echo's entry. */
  readonly warmCalls: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

/** The defaults: about 150–250 ms a round on a 2-core machine. */
export const sendCachedDefaults: SendCachedSettings = Object.freeze({
  roundTrips: 2_000,
  bodyBytes: 64,
  cores: 4,
  clientCore: 1,
  echoCore: 2,
  warmCalls: 10,
  rounds: 5,
  warmupRounds: 1,
});

/** The ratio `send-cached` aims at (the cost of sending by name over a warm cache: at most 15 %). */
export const sendCachedGoal = 0.85;

/** The echo's name. */
const echoName = '/bench/echo';

/**
 * `send-cached`: a client process on core 1 calls `libfos.call('/bench/echo', payload)` by name — the
 * name resolved through its warm name cache (Table 4.1's send by name: validate the name, resolve it
 * from the cache, pick the published capability, `thread.call`) — to a served echo mailbox on core 2
 * registered under that name; one in flight. Baseline `raw-call`: the same client's dispatcher
 * thread `thread.call`s `{ name: '/bench/echo', location, capability }` straight to the known
 * location (no name resolution), the same payload to the same echo. Goal: ratio ≥ 0.85.
 */
export function sendCached(overrides: Partial<SendCachedSettings> = {}): Benchmark {
  const settings: SendCachedSettings = { ...sendCachedDefaults, ...overrides };
  return {
    name: 'send-cached',
    unit: 'roundtrips/s',
    baselineName: 'raw-call',
    settings: { fabric: 'local', ...settings, inFlight: 1, cached: true, goal: `ratio >= ${sendCachedGoal}` },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: () => openSession(settings),
  };
}

async function openSession(settings: SendCachedSettings): Promise<BenchmarkSession> {
  const clock = new SystemClock();
  const payload = new Uint8Array(settings.bodyBytes).map((_, index) => index);
  const booted = await bootNamed(settings.cores);
  try {
    const echo = await libfosOn(booted.instance, settings.echoCore, 'bench-echo');
    const mailbox = await serveNamed(echo, echoName, booted.root);
    const client = await libfosOn(booted.instance, settings.clientCore, 'bench-client');
    // Fills the cache (one Lookup) and registers the client's canonical alias for replies.
    for (let index = 0; index < settings.warmCalls; index++) await client.call(echoName, payload);
    const direct = { name: echoName, location: mailbox.location, capability: mailbox.capability };
    const check = (body: unknown): void =>
      assert(body instanceof Uint8Array && body.length === settings.bodyBytes, 'the echo answers the payload');
    return {
      measured: () =>
        client.dispatcher.spawnThread('send-cached', async () => {
          const lookups = client.stats().lookups;
          const startedMs = clock.now();
          for (let index = 0; index < settings.roundTrips; index++) check((await client.call(echoName, payload)).body);
          const elapsedMs = clock.now() - startedMs;
          // At most one refresh, when the entry's TTL ran out during the round.
          assert(client.stats().lookups - lookups <= 1, 'the calls resolve from the cache');
          return perSecond(settings.roundTrips, elapsedMs);
        }),
      baseline: () =>
        client.dispatcher.spawnThread('raw-call', async (thread) => {
          const startedMs = clock.now();
          for (let index = 0; index < settings.roundTrips; index++) check((await thread.call(direct, payload)).body);
          return perSecond(settings.roundTrips, clock.now() - startedMs);
        }),
      close: () => booted.instance.shutdown(),
    };
  } catch (error) {
    await booted.instance.shutdown();
    throw error;
  }
}
