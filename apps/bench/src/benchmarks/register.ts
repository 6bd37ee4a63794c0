import type { RegisterRequest } from '@fos/libfos-messaging';
import { assert, SystemClock } from '@fos/base';
import type { Benchmark, BenchmarkSession } from '../harness.js';
import { lookupClient, lookupRound } from './lookup-rpc.js';
import { bootNamed, perSecond } from './naming.js';

/** Settings of {@link register}. */
export interface RegisterSettings {
  /** Register + unregister pairs per round, one request in flight. */
  readonly pairs: number;
  /** Uncached Lookups per baseline round. */
  readonly lookups: number;
  readonly cores: number;
  /** Where the client runs; the name-service member runs on core 0. */
  readonly clientCore: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

/** The defaults: about 150–250 ms a round on a 2-core machine. */
export const registerDefaults: RegisterSettings = Object.freeze({
  pairs: 600,
  lookups: 2_000,
  cores: 4,
  clientCore: 1,
  rounds: 5,
  warmupRounds: 1,
});

/**
 * `register` (thesis Figure 6-2, one name-service member): a client process on core 1 registers the
 * direct name `/bench/r/<i>` (under the root namespace capability; destination a mailbox of its own,
 * its send capability published) and unregisters it with the name capability the registration
 * returned, through the generated name-service client (`libfos.nameService.register` and
 * `.unregister`: two RPCs to the member on core 0). One request in flight; the unit is pairs per
 * second. Baseline `lookup-rpc`: the same client's uncached Lookups per second, as in `lookup-rpc`,
 * in the same run. The thesis saw a ratio of about 0.47.
 */
export function register(overrides: Partial<RegisterSettings> = {}): Benchmark {
  const settings: RegisterSettings = { ...registerDefaults, ...overrides };
  return {
    name: 'register',
    unit: 'pairs/s',
    baselineName: 'lookup-rpc',
    settings: { fabric: 'local', ...settings, serverCore: 0, inFlight: 1, baselineUnit: 'lookups/s' },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: () => openSession(settings),
  };
}

async function openSession(settings: RegisterSettings): Promise<BenchmarkSession> {
  const clock = new SystemClock();
  const booted = await bootNamed(settings.cores);
  try {
    const client = await lookupClient(booted, settings.clientCore);
    const mailbox = await client.createMailbox();
    const destination: RegisterRequest['destination'] = {
      type: 'direct',
      location: mailbox.location,
      publishedCapability: mailbox.capability,
    };
    let next = 0;
    return {
      measured: () =>
        client.dispatcher.spawnThread('register', async () => {
          const startedMs = clock.now();
          for (let index = 0; index < settings.pairs; index++) {
            const name = `/bench/r/${next++}`;
            const { nameCapability } = await client.nameService.register({
              name,
              capability: booted.root,
              destination,
            });
            assert(typeof nameCapability === 'string', 'a registration answers the name capability');
            await client.nameService.unregister({ name, capability: nameCapability });
          }
          return perSecond(settings.pairs, clock.now() - startedMs);
        }),
      baseline: () => lookupRound(client, settings.lookups, clock),
      close: () => booted.instance.shutdown(),
    };
  } catch (error) {
    await booted.instance.shutdown();
    throw error;
  }
}
