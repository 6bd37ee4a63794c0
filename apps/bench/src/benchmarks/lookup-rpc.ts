import { defaultLibfosLimits, nameServiceApiOrdinals, type Libfos, type LookupResult } from '@fos/libfos-messaging';
import { assert, encodeBody, SystemClock, type MessageBody } from '@fos/base';
import type { Benchmark, BenchmarkSession } from '../harness.js';
import { bootNamed, libfosOn, perSecond, serveNamed, type NamedInstance } from './naming.js';

/** Settings of {@link lookupRpc}. */
export interface LookupRpcSettings {
  /** Round trips per round, one in flight. */
  readonly lookups: number;
  readonly cores: number;
  /** Where the client runs; the name-service member (and the baseline's service) run on core 0. */
  readonly clientCore: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

/** The defaults: about 150–250 ms a round on a 2-core machine. */
export const lookupRpcDefaults: LookupRpcSettings = Object.freeze({
  lookups: 2_000,
  cores: 4,
  clientCore: 1,
  rounds: 5,
  warmupRounds: 1,
});

/** The name every Lookup asks for (a direct name of a mailbox of the client). */
export const lookupTarget = '/bench/target';

/** The generated client's request body for `lookup(lookupTarget)`, field for field. */
const lookupRequest: MessageBody = { rpc: nameServiceApiOrdinals.lookup, args: { name: lookupTarget } };

/** The core `boot` runs the first name-service member on. */
const nameServerCore = 0;

/**
 * `lookup-rpc` (thesis Figure 6-1, one name-service member): a client process on core 1 makes
 * uncached Lookup round trips, `libfos.nameService.lookup('/bench/target')` — an RPC through the
 * generated name-service client to the member on core 0, which validates the arguments, reads its
 * store and answers the entry. One in flight, never cached. Baseline `dispatcher-call`: the same
 * client, in a dispatcher thread, `thread.call`s a plain served mailbox on core 0 (no name
 * resolution, the destination known) whose handler answers at once; the request is the very wire
 * body of a Lookup (`{ rpc, args: { name } }`) and the answer an object of the Lookup result's shape
 * and fields, so both carry the same bytes each way, under the same call timeout.
 */
export function lookupRpc(overrides: Partial<LookupRpcSettings> = {}): Benchmark {
  const settings: LookupRpcSettings = { ...lookupRpcDefaults, ...overrides };
  return {
    name: 'lookup-rpc',
    unit: 'lookups/s',
    baselineName: 'dispatcher-call',
    settings: {
      fabric: 'local',
      ...settings,
      serverCore: nameServerCore,
      name: lookupTarget,
      requestBytes: encodeBody(lookupRequest).length,
      inFlight: 1,
      cached: false,
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: () => openSession(settings),
  };
}

/** A round of uncached Lookups of {@link lookupTarget} through `client`'s name-service RPC client; returns lookups/s. */
export function lookupRound(client: Libfos, lookups: number, clock: SystemClock): Promise<number> {
  return client.dispatcher.spawnThread('lookup-rpc', async () => {
    const startedMs = clock.now();
    for (let index = 0; index < lookups; index++) {
      const result = await client.nameService.lookup(lookupTarget);
      assert(result.type === 'direct', 'the target is a direct name');
    }
    return perSecond(lookups, clock.now() - startedMs);
  });
}

/**
 * A name-service client on `clientCore` that can Lookup {@link lookupTarget} (registered to a mailbox of
 * its own) and answer to named reply addresses (its canonical alias registered).
 */
export async function lookupClient(booted: NamedInstance, clientCore: number): Promise<Libfos> {
  const client = await libfosOn(booted.instance, clientCore, 'lookup-client');
  // Replies then travel checked to a named mailbox, for the name server and the plain service alike.
  await client.getCanonicalAlias();
  await serveNamed(client, lookupTarget, booted.root);
  return client;
}

async function openSession(settings: LookupRpcSettings): Promise<BenchmarkSession> {
  const clock = new SystemClock();
  const booted = await bootNamed(settings.cores);
  try {
    const client = await lookupClient(booted, settings.clientCore);
    const sample = await client.nameService.lookup(lookupTarget);
    assert(sample.type === 'direct', 'the target is a direct name');
    const plainServer = await libfosOn(booted.instance, nameServerCore, 'plain-server');
    const plainMailbox = await plainServer.createMailbox();
    await plainServer.kernel.addName(plainMailbox.location, '/bench/plain');
    // A fresh answer per request, as the name server builds one: the Lookup result's fields and values.
    const answer = (): LookupResult => ({
      type: 'direct',
      name: lookupTarget,
      location: sample.location,
      publishedCapability: sample.publishedCapability,
      ttlMs: sample.ttlMs,
    });
    assert(sameBytes(answer(), sample), 'the plain answer is as big as a Lookup result');
    plainServer.serve(plainMailbox.location, { handler: answer });
    const plain = { name: '/bench/plain', location: plainMailbox.location, capability: plainMailbox.capability };
    // The call timeout libfos's name-service transport passes (its default limit).
    const options = { timeoutMs: defaultLibfosLimits.nameServiceCallTimeoutMs };
    return {
      measured: () => lookupRound(client, settings.lookups, clock),
      // spawnThread + thread.call straight to the known location: no name resolution, no cache.
      baseline: () =>
        client.dispatcher.spawnThread('dispatcher-call', async (thread) => {
          const startedMs = clock.now();
          for (let index = 0; index < settings.lookups; index++) {
            const { body } = await thread.call(plain, lookupRequest, options);
            assert((body as LookupResult).type === 'direct', 'the plain service answers a Lookup-shaped body');
          }
          return perSecond(settings.lookups, clock.now() - startedMs);
        }),
      close: () => booted.instance.shutdown(),
    };
  } catch (error) {
    await booted.instance.shutdown();
    throw error;
  }
}

/** Whether two bodies encode to the same number of bytes. */
function sameBytes(left: LookupResult, right: LookupResult): boolean {
  return encodeBody(left).length === encodeBody(right).length;
}
