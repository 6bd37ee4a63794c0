// `pnpm bench peers`: fos beside what a Node user would pick for the same work, in one run on one
// machine — Moleculer's in-process broker for a same-core RPC, etcd for the name table.
import type { Libfos, RegisterRequest } from '@fos/libfos-messaging';
import { assert, SystemClock } from '@fos/base';
import type { Etcd3 } from 'etcd3';
import type { ServiceBroker } from 'moleculer';
import {
  formatResultLine,
  measureBenchmark,
  type Benchmark,
  type BenchmarkResult,
  type BenchmarkSuite,
  type RunOptions,
} from '../harness.js';
import { findEtcd, startEtcd, type EtcdServer } from './etcd-server.js';
import { lookupClient, lookupTarget } from './lookup-rpc.js';
import { bootNamed, perSecond, type NamedInstance } from './naming.js';
import { openRpcStubPair, stubRound } from './rpc-stub.js';

/** Settings of {@link peers}. */
export interface PeersSettings {
  /** Calls per round of the RPC pair (fos and Moleculer alike), one in flight. */
  readonly rpcCalls: number;
  /** Bytes of the `Uint8Array` payload the RPC pair echoes. */
  readonly bodyBytes: number;
  /** Lookups (fos) and gets (etcd) per round, all in-flight workers together. */
  readonly lookups: number;
  /** Register + unregister (fos) and put + delete (etcd) pairs per round, all workers together. */
  readonly pairs: number;
  /** Requests in flight of the etcd pairs: one pair of benchmarks per value. */
  readonly inFlight: readonly number[];
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Whether to run the etcd pairs (they are skipped, with the reason, when etcd is not found). */
  readonly etcd: boolean;
}

/** The defaults: about a minute on a 2-core machine. */
export const peersDefaults: PeersSettings = Object.freeze({
  rpcCalls: 10_000,
  bodyBytes: 64,
  lookups: 2_000,
  pairs: 400,
  inFlight: Object.freeze([1, 64]),
  rounds: 5,
  warmupRounds: 1,
  etcd: true,
});

/** What `results/peers.json` holds besides the machine and the date. */
export interface PeersReport {
  readonly settings: PeersSettings;
  readonly results: readonly BenchmarkResult[];
  /** Pairs not run, each with why. */
  readonly skipped: readonly { readonly pairs: string; readonly reason: string }[];
  /** The etcd that ran, if one did. */
  readonly etcd?: { readonly binary: string; readonly version: string; readonly dataDirectory: string };
  readonly moleculer: string;
}

/** The core both processes of the fos RPC run on. */
const rpcCore = 1;
/** Where the name-service client runs (the member runs on core 0). */
const clientCore = 1;

/**
 * `peers`: one `RESULT` line per pair, fos measured, the peer its baseline, in one run.
 * - `peers-rpc` vs `moleculer-call`: a same-core fos RPC through the generated `BenchApi` stub
 *   (`rpc-stub`'s) against Moleculer's local `broker.call` of an echo action, the same payload.
 * - `peers-lookup-<n>` vs `etcd-get-<n>`: uncached name-service Lookups against etcd gets of a key
 *   holding the same Lookup result, n requests in flight.
 * - `peers-register-<n>` vs `etcd-put-delete-<n>`: Register + Unregister of a fresh direct name against
 *   put + delete of a fresh key holding the same destination, n in flight.
 */
export function peers(overrides: Partial<PeersSettings> = {}): BenchmarkSuite & { readonly settings: PeersSettings } {
  const settings: PeersSettings = { ...peersDefaults, ...overrides };
  return { name: 'peers', settings, run: (options) => runPeers(settings, options) };
}

async function runPeers(
  settings: PeersSettings,
  options: Omit<RunOptions, 'resultsDirectory'>,
): Promise<Record<string, unknown>> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const results: BenchmarkResult[] = [];
  const skipped: { pairs: string; reason: string }[] = [];
  const measure = async (benchmark: Benchmark): Promise<void> => {
    const result = await measureBenchmark(benchmark, options);
    results.push(result);
    print(formatResultLine(result));
  };
  const moleculer = await loadMoleculer();
  await measure(rpcPair(settings, moleculer));
  let etcd: PeersReport['etcd'];
  const found = settings.etcd ? findEtcd() : { reason: 'etcd pairs turned off (settings.etcd = false)' };
  if (found.binary === undefined) {
    print(`peers: etcd pairs skipped: ${found.reason}`);
    skipped.push({ pairs: 'peers-lookup-*, peers-register-*', reason: found.reason });
  } else {
    const { Etcd3 } = await import('etcd3');
    let client: Etcd3 | undefined;
    let server: EtcdServer;
    try {
      server = await startEtcd(found.binary, async (endpoint) => {
        client ??= new Etcd3({ hosts: endpoint });
        await client.get('/fos-bench/ready').string();
      });
    } catch (error) {
      client?.close();
      throw error;
    }
    try {
      assert(client !== undefined, 'etcd answered through the client');
      print(`peers: ${server.version} at ${server.endpoint}, data in ${server.dataDirectory}`);
      etcd = { binary: server.binary, version: server.version, dataDirectory: server.dataDirectory };
      for (const inFlight of settings.inFlight) await measure(lookupPair(settings, client, inFlight));
      for (const inFlight of settings.inFlight) await measure(registerPair(settings, client, inFlight));
    } finally {
      client?.close();
      await server.stop();
    }
  }
  const report: PeersReport = {
    settings,
    results,
    skipped,
    ...(etcd === undefined ? {} : { etcd }),
    moleculer: moleculer.version,
  };
  return { ...report };
}

/** Moleculer's broker class and version, loaded only when the peers run. */
async function loadMoleculer(): Promise<{ ServiceBroker: typeof ServiceBroker; version: string }> {
  const moleculer = (await import('moleculer')).default;
  return { ServiceBroker: moleculer.ServiceBroker, version: moleculer.ServiceBroker.MOLECULER_VERSION };
}

function rpcPair(
  settings: PeersSettings,
  moleculer: { ServiceBroker: typeof ServiceBroker; version: string },
): Benchmark {
  return {
    name: 'peers-rpc',
    unit: 'calls/s',
    baselineName: 'moleculer-call',
    settings: {
      calls: settings.rpcCalls,
      bodyBytes: settings.bodyBytes,
      inFlight: 1,
      fos: 'generated BenchApi stub, two processes on one core (LocalFabric)',
      moleculer: `${moleculer.version}, in-process broker, local call, no transporter`,
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const clock = new SystemClock();
      const payload = new Uint8Array(settings.bodyBytes).map((_, index) => index);
      const pair = await openRpcStubPair(rpcCore);
      const broker = new moleculer.ServiceBroker({
        nodeID: 'fos-bench',
        logger: false,
        metrics: false,
        tracing: false,
      });
      broker.createService({
        name: 'bench',
        actions: { echo: (context: { params: { payload: Uint8Array } }) => context.params.payload },
      });
      try {
        await broker.start();
      } catch (error) {
        await pair.machine.shutdown();
        throw error;
      }
      return {
        measured: () => stubRound(pair, payload, settings.rpcCalls, clock),
        baseline: async () => {
          const startedMs = clock.now();
          for (let index = 0; index < settings.rpcCalls; index++) {
            const answer: Uint8Array = await broker.call('bench.echo', { payload });
            assert(answer.length === settings.bodyBytes, 'the action answers the payload');
          }
          return perSecond(settings.rpcCalls, clock.now() - startedMs);
        },
        close: async () => {
          await broker.stop();
          await pair.machine.shutdown();
        },
      };
    },
  };
}

/** `total` operations by `workers` concurrent loops (each takes the next index until all are taken); returns operations/s. */
export async function inFlightRound(
  clock: SystemClock,
  total: number,
  workers: number,
  worker: (next: () => number | undefined) => Promise<void>,
): Promise<number> {
  let taken = 0;
  const next = (): number | undefined => (taken < total ? taken++ : undefined);
  const startedMs = clock.now();
  await Promise.all(Array.from({ length: Math.min(workers, total) }, () => worker(next)));
  assert(taken === total, 'every operation ran');
  return perSecond(total, clock.now() - startedMs);
}

/** A booted instance with a name-service client, as `lookup-rpc` sets it up. */
async function openNamed(): Promise<{ booted: NamedInstance; client: Libfos }> {
  const booted = await bootNamed(4);
  try {
    return { booted, client: await lookupClient(booted, clientCore) };
  } catch (error) {
    await booted.instance.shutdown();
    throw error;
  }
}

function lookupPair(settings: PeersSettings, etcd: Etcd3, inFlight: number): Benchmark {
  const clock = new SystemClock();
  return {
    name: `peers-lookup-${inFlight}`,
    unit: 'lookups/s',
    baselineName: `etcd-get-${inFlight}`,
    settings: { lookups: settings.lookups, inFlight, cached: false, fosMembers: 1, etcdMembers: 1 },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const { booted, client } = await openNamed();
      // etcd holds what the name service answers for the name: the Lookup result, as JSON.
      const value = JSON.stringify(await client.nameService.lookup(lookupTarget));
      await etcd.put(lookupTarget).value(value);
      return {
        measured: () =>
          inFlightRound(clock, settings.lookups, inFlight, (next) =>
            client.dispatcher.spawnThread('lookup', async () => {
              while (next() !== undefined) {
                const result = await client.nameService.lookup(lookupTarget);
                assert(result.type === 'direct', 'the target is a direct name');
              }
            }),
          ),
        baseline: () =>
          inFlightRound(clock, settings.lookups, inFlight, async (next) => {
            while (next() !== undefined) {
              const answer = await etcd.get(lookupTarget).string();
              assert(answer === value, 'etcd answers the stored Lookup result');
            }
          }),
        close: async () => {
          await etcd.delete().key(lookupTarget);
          await booted.instance.shutdown();
        },
      };
    },
  };
}

function registerPair(settings: PeersSettings, etcd: Etcd3, inFlight: number): Benchmark {
  const clock = new SystemClock();
  return {
    name: `peers-register-${inFlight}`,
    unit: 'pairs/s',
    baselineName: `etcd-put-delete-${inFlight}`,
    settings: {
      pairs: settings.pairs,
      inFlight,
      fosTable: 'in memory at every member',
      etcdTable: 'on disk, fsync per write',
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const { booted, client } = await openNamed();
      const mailbox = await client.createMailbox();
      const destination: RegisterRequest['destination'] = {
        type: 'direct',
        location: mailbox.location,
        publishedCapability: mailbox.capability,
      };
      // etcd stores the same destination under each fresh key.
      const value = JSON.stringify(destination);
      let nextName = 0;
      return {
        measured: () =>
          inFlightRound(clock, settings.pairs, inFlight, (next) =>
            client.dispatcher.spawnThread('register', async () => {
              while (next() !== undefined) {
                const name = `/bench/p/${nextName++}`;
                const { nameCapability } = await client.nameService.register({
                  name,
                  capability: booted.root,
                  destination,
                });
                await client.nameService.unregister({ name, capability: nameCapability });
              }
            }),
          ),
        baseline: () =>
          inFlightRound(clock, settings.pairs, inFlight, async (next) => {
            while (next() !== undefined) {
              const key = `/bench/p/${nextName++}`;
              await etcd.put(key).value(value);
              const { deleted } = await etcd.delete().key(key);
              assert(deleted === '1', 'etcd deleted the key it was given');
            }
          }),
        close: () => booted.instance.shutdown(),
      };
    },
  };
}
