// `ns-lookup-workers` (thesis Figure 6-1 on worker cores): uncached Lookups against a name-service
// fleet of k members on k worker cores, one client per member on cores of their own, so Lookups scale
// with the fleet once members run in parallel. The goal: k members ≥ 0.7·k × one member,
// for every k with 2k ≤ the machine's cores; points with more threads than cores are recorded only.
// `ns-lookup-no-alias`: one member and one client, a client without its canonical alias (kernel path)
// against one with it (channels), to measure what the alias saves per Lookup.
import { availableParallelism } from 'node:os';
import { boot, type Instance } from '@fos/system';
import type { WorkerFabric } from '@fos/microkernel';
import { gridPointRounds, writeGrid, type Benchmark, type BenchmarkSession } from '../harness.js';
import { lookupTarget } from './lookup-rpc.js';
import { defaultProcessesModule } from './messaging.js';
import { defaultGridDirectory } from './ns-fleet.js';

/** Settings of {@link nsLookupWorkers}. */
export interface NsLookupWorkersSettings {
  /** Fleet sizes of the grid; each point has as many clients, so 2k cores. */
  readonly fleetSizes: readonly number[];
  /** Timed Lookups of each client per round (after `warmupLookups`). */
  readonly lookups: number;
  readonly warmupLookups: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Timed rounds per grid point (after a discarded one); the point is their median. */
  readonly gridRounds: number;
}

export const nsLookupWorkersDefaults: NsLookupWorkersSettings = Object.freeze({
  fleetSizes: [1, 2, 4, 8],
  lookups: 5_000,
  warmupLookups: 500,
  rounds: 3,
  warmupRounds: 1,
  gridRounds: 3,
});

/** Where the grid goes (`<directory>/ns-lookup-workers-grid.json`; null: nowhere) and the process module. */
export interface NsLookupWorkersOptions {
  readonly gridDirectory?: string | URL | null;
  readonly processesModule?: string | URL;
  /** Cores the goal assumes (default: this machine's). */
  readonly cpus?: number;
}

/**
 * `ns-lookup-workers`: measured, the largest fleet k with 2k ≤ the machine's cores (k clients, each
 * on a core of its own, each reaching a member on another core); baseline `ns-lookup-workers-1m`: one
 * member, one client. The grid (every fleet size, once) goes to JSON.
 */
export function nsLookupWorkers(
  overrides: Partial<NsLookupWorkersSettings> = {},
  options: NsLookupWorkersOptions = {},
): Benchmark {
  const settings = { ...nsLookupWorkersDefaults, ...overrides };
  const cpus = options.cpus ?? availableParallelism();
  const fitting = settings.fleetSizes.filter((k) => 2 * k <= cpus);
  const measuredFleet = fitting.length > 0 ? Math.max(...fitting) : 1;
  return {
    name: 'ns-lookup-workers',
    unit: 'lookups/s',
    baselineName: 'ns-lookup-workers-1m',
    settings: {
      fabric: 'worker',
      fleetSizes: settings.fleetSizes.join(','),
      measuredFleet,
      clientsPerMember: 1,
      lookups: settings.lookups,
      inFlight: 1,
      cpus,
      goal: `>= ${(0.7 * measuredFleet).toFixed(1)} x one member`,
      ...(measuredFleet === 1 ? { scaling: 'not measured: this machine has fewer than 4 cores' } : {}),
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const module = options.processesModule ?? defaultProcessesModule();
      const grid: Array<{
        fleet: number;
        clients: number;
        threads: number;
        oversubscribed: boolean;
        value: number;
        rounds: number[];
      }> = [];
      for (const fleet of settings.fleetSizes) {
        const point = await openPoint(module, fleet);
        try {
          const { value, rounds } = await gridPointRounds(
            () => point.round(settings.lookups, settings.warmupLookups),
            (rate) => rate,
            1,
            settings.gridRounds,
          );
          grid.push({ fleet, clients: fleet, threads: 2 * fleet, oversubscribed: 2 * fleet > cpus, value, rounds });
        } finally {
          await point.close();
        }
      }
      const directory = options.gridDirectory === undefined ? defaultGridDirectory : options.gridDirectory;
      if (directory !== null)
        await writeGrid(directory, 'ns-lookup-workers', { settings, cpus, measuredFleet, points: grid });
      return openSession(module, measuredFleet, settings);
    },
  };
}

/** Settings of {@link nsLookupNoAlias}. */
export interface NsLookupNoAliasSettings {
  /** Timed Lookups of the client per round (after `warmupLookups`). */
  readonly lookups: number;
  readonly warmupLookups: number;
  readonly rounds: number;
  readonly warmupRounds: number;
}

export const nsLookupNoAliasDefaults: NsLookupNoAliasSettings = Object.freeze({
  lookups: 5_000,
  warmupLookups: 500,
  rounds: 7,
  warmupRounds: 1,
});

/**
 * `ns-lookup-no-alias`: what a client without its canonical alias pays per Lookup. One member on worker
 * core 0, one client at a time on core 1, in one instance; measured: a client that never registers its
 * canonical alias (every request on the kernel path, every reply unchecked); baseline
 * `ns-lookup-with-alias`: a client that registers it first (requests through a channel after the
 * first few, checked replies). Each round is a fresh client process.
 */
export function nsLookupNoAlias(
  overrides: Partial<NsLookupNoAliasSettings> = {},
  options: Pick<NsLookupWorkersOptions, 'processesModule'> = {},
): Benchmark {
  const settings = { ...nsLookupNoAliasDefaults, ...overrides };
  return {
    name: 'ns-lookup-no-alias',
    unit: 'lookups/s',
    baselineName: 'ns-lookup-with-alias',
    settings: { fabric: 'worker', members: 1, clients: 1, lookups: settings.lookups, inFlight: 1 },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: async () => {
      const point = await openPoint(options.processesModule ?? defaultProcessesModule(), 1);
      return {
        measured: () => point.round(settings.lookups, settings.warmupLookups, false),
        baseline: () => point.round(settings.lookups, settings.warmupLookups, true),
        close: () => point.close(),
      };
    },
  };
}

async function openSession(
  module: string | URL,
  fleet: number,
  settings: NsLookupWorkersSettings,
): Promise<BenchmarkSession> {
  const measured = await openPoint(module, fleet);
  let baseline: Awaited<ReturnType<typeof openPoint>>;
  try {
    baseline = await openPoint(module, 1);
  } catch (error) {
    await measured.close();
    throw error;
  }
  return {
    measured: () => measured.round(settings.lookups, settings.warmupLookups),
    baseline: () => baseline.round(settings.lookups, settings.warmupLookups),
    close: async () => {
      await measured.close();
      await baseline.close();
    },
  };
}

/** A worker instance of 2k cores: members on cores 0..k-1, the target registered, clients on k..2k-1. */
async function openPoint(module: string | URL, fleet: number) {
  const instance: Instance<WorkerFabric> = await boot({
    fabric: 'worker',
    cores: Math.max(2, 2 * fleet),
    nameServers: fleet,
  });
  try {
    const service = instance.nameService;
    if (service === undefined) throw new Error('boot started no name service');
    await instance.spawn({
      core: 0,
      module,
      entry: 'lookupTarget',
      name: 'lookup-target',
      args: { name: lookupTarget, capability: service.rootCapability },
    });
    return {
      /**
       * Every client's Lookups at once; the sum of their rates. `alias` false: the clients never
       * register their canonical alias (then none of their requests may take a channel).
       */
      round: async (lookups: number, warmupLookups: number, alias = true): Promise<number> => {
        const rates = await Promise.all(
          Array.from({ length: fleet }, async (_, client) => {
            const handle = await instance.spawn({
              core: fleet + client,
              module,
              entry: 'lookupClient',
              name: `lookup-client-${client}`,
              args: { name: lookupTarget, lookups, warmupLookups, alias },
            });
            const { perSecond, channelSends } = handle.result as { perSecond: number; channelSends: number };
            if (!alias && channelSends > 0)
              throw new Error(`a client without its canonical alias sent ${channelSends} messages through a channel`);
            return perSecond;
          }),
        );
        return rates.reduce((sum, rate) => sum + rate, 0);
      },
      close: () => instance.shutdown(),
    };
  } catch (error) {
    await instance.shutdown();
    throw error;
  }
}
