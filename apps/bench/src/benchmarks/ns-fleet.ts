// The name-service fleet benchmarks (thesis Figures 6-1, 6-2, 6-3): a grid of concurrent clients ×
// fleet sizes. The harness compares one measured point with one baseline point in alternating rounds;
// the whole grid is measured once, when the session opens, and written beside the result.
import type { Libfos, RegisterRequest } from '@fos/libfos-messaging';
import { assert, isFosError, SystemClock } from '@fos/base';
import type { Capability, LocalFabric } from '@fos/microkernel';
import { boot, type Instance } from '@fos/system';
import { gridPointRounds, writeGrid, type Benchmark, type BenchmarkSession } from '../harness.js';
import { lookupTarget } from './lookup-rpc.js';
import { libfosOn, perSecond, serveNamed } from './naming.js';

/** The three workloads of the grid. */
export type FleetWorkload = 'lookup' | 'register' | 'register-contended';

/** Settings of the fleet benchmarks. */
export interface FleetSettings {
  /** Concurrent client processes at each grid point. */
  readonly clients: readonly number[];
  /** Name-service members at each grid point (`boot`'s `nameServers`). */
  readonly fleetSizes: readonly number[];
  /**
   * Operations (Lookups, or register + unregister pairs / attempts) of one round, all clients together:
   * each client makes `ceil(operationsPerRound / clients)`, so a round takes about as long at every point.
   */
  readonly operationsPerRound: number;
  /** Cores booted: `max(minCores, fleet)`; clients are spread evenly over them. */
  readonly minCores: number;
  readonly rounds: number;
  readonly warmupRounds: number;
  /** Timed rounds per grid point (after `warmupRounds`); the point's value is their median. */
  readonly gridRounds: number;
}

/** Where the grid is written: `<directory>/<name>-grid.json`; null writes nothing. */
export interface FleetOptions {
  readonly gridDirectory?: string | URL | null;
}

/** One point of the grid. */
export interface GridPoint {
  readonly clients: number;
  readonly fleet: number;
  readonly cores: number;
  /** Successful operations per second, all clients together: the median of the timed rounds. */
  readonly value: number;
  /** Each timed round's successful operations per second. */
  readonly rounds: readonly number[];
  /** Successful operations in the timed rounds together. */
  readonly successes: number;
  /** Operations attempted in the timed rounds together. */
  readonly attempts: number;
}

/** The results folder `cli.ts` writes to, resolved the same way from the built `dist/`. */
export const defaultGridDirectory = new URL('../results/', import.meta.url);

// The grid of chapter 6: 1 to 16 clients × fleets of 1 to 8 members.
const lookupDefaults: FleetSettings = Object.freeze({
  clients: [1, 2, 4, 8, 16],
  fleetSizes: [1, 2, 4, 8],
  operationsPerRound: 4_000,
  minCores: 8,
  rounds: 3,
  warmupRounds: 1,
  gridRounds: 3,
});
const registerDefaults: FleetSettings = Object.freeze({ ...lookupDefaults, operationsPerRound: 400 });
const contendedDefaults: FleetSettings = Object.freeze({ ...lookupDefaults, operationsPerRound: 400 });

/**
 * `ns-lookup` (thesis Figure 6-1): clients × fleet members, each client looping uncached
 * `libfos.nameService.lookup('/bench/target')`; total lookups/s. Measured: the best grid point;
 * baseline: 1 client, 1 member.
 */
export function nsLookup(overrides: Partial<FleetSettings> = {}, options: FleetOptions = {}): Benchmark {
  return fleetBenchmark('ns-lookup', 'lookup', 'lookups/s', { ...lookupDefaults, ...overrides }, options, 'best');
}

/**
 * `ns-register` (thesis Figure 6-2): the same grid, each client registering and unregistering distinct
 * names `/bench/c<i>/<n>`; pairs/s. Measured: the best grid point; baseline: 1 client, 1 member.
 */
export function nsRegister(overrides: Partial<FleetSettings> = {}, options: FleetOptions = {}): Benchmark {
  return fleetBenchmark('ns-register', 'register', 'pairs/s', { ...registerDefaults, ...overrides }, options, 'best');
}

/**
 * `ns-register-contended` (thesis Figure 6-3): every client registers and unregisters the same name
 * `/bench/hot`; successful pairs/s (a refused request is counted as nothing and the client moves on).
 * Measured: the most clients on one member; baseline: 1 client, 1 member.
 */
export function nsRegisterContended(overrides: Partial<FleetSettings> = {}, options: FleetOptions = {}): Benchmark {
  return fleetBenchmark(
    'ns-register-contended',
    'register-contended',
    'pairs/s',
    { ...contendedDefaults, ...overrides },
    options,
    'most-clients-one-member',
  );
}

type PointChoice = 'best' | 'most-clients-one-member';

function fleetBenchmark(
  name: string,
  workload: FleetWorkload,
  unit: string,
  settings: FleetSettings,
  options: FleetOptions,
  pick: PointChoice,
): Benchmark {
  assert(
    settings.clients.includes(1) && settings.fleetSizes.includes(1),
    'the grid holds the baseline point (1 client, 1 member)',
  );
  const baselineName = `${name}-1c-1m`;
  return {
    name,
    unit,
    baselineName,
    settings: {
      fabric: 'local',
      workload,
      clients: settings.clients.join(','),
      fleetSizes: settings.fleetSizes.join(','),
      operationsPerRound: settings.operationsPerRound,
      cores: `max(${settings.minCores},fleet)`,
      measuredPoint: pick === 'best' ? 'best grid point' : `${Math.max(...settings.clients)} clients, 1 member`,
      baselinePoint: '1 client, 1 member',
      rounds: settings.rounds,
      warmupRounds: settings.warmupRounds,
      gridRounds: settings.gridRounds,
      note: 'LocalFabric: every process of the instance runs in one thread, so the grid shows cost structure, not scaling over cores',
    },
    rounds: settings.rounds,
    warmupRounds: settings.warmupRounds,
    run: () => openSession(name, workload, settings, options, pick),
  };
}

/** A booted fleet with its clients, ready to run rounds. */
interface OpenPoint {
  readonly clients: number;
  readonly fleet: number;
  readonly cores: number;
  round(): Promise<{ value: number; successes: number; attempts: number }>;
  close(): Promise<void>;
}

async function openSession(
  name: string,
  workload: FleetWorkload,
  settings: FleetSettings,
  options: FleetOptions,
  pick: PointChoice,
): Promise<BenchmarkSession> {
  const grid = await measureGrid(workload, settings);
  const directory = options.gridDirectory === undefined ? defaultGridDirectory : options.gridDirectory;
  if (directory !== null) {
    const points = grid.map((point) => ({
      ...point,
      value: Number(point.value.toPrecision(3)),
      rounds: point.rounds.map((value) => Number(value.toPrecision(3))),
    }));
    await writeGrid(directory, name, { workload, settings, points });
  }
  const chosen =
    pick === 'best'
      ? grid.reduce((best, point) => (point.value > best.value ? point : best))
      : { clients: Math.max(...settings.clients), fleet: 1 };
  const measured = await openPoint(workload, chosen.clients, chosen.fleet, settings);
  let baseline: OpenPoint;
  try {
    baseline = await openPoint(workload, 1, 1, settings);
  } catch (error) {
    await measured.close();
    throw error;
  }
  return {
    measured: async () => (await measured.round()).value,
    baseline: async () => (await baseline.round()).value,
    close: async () => {
      await measured.close();
      await baseline.close();
    },
  };
}

/** Every grid point, one boot each: `warmupRounds` discarded rounds, then `gridRounds` timed ones (after a process warm-up). */
export async function measureGrid(workload: FleetWorkload, settings: FleetSettings): Promise<GridPoint[]> {
  // The process warms up first (JIT, caches) on a throwaway baseline point, so the first grid point is not measured cold.
  const warm = await openPoint(workload, 1, 1, settings);
  try {
    for (let round = 0; round < settings.warmupRounds + 1; round++) await warm.round();
  } finally {
    await warm.close();
  }
  const grid: GridPoint[] = [];
  for (const fleet of settings.fleetSizes) {
    for (const clients of settings.clients) {
      const point = await openPoint(workload, clients, fleet, settings);
      try {
        const { value, rounds } = await gridPointRounds(
          () => point.round(),
          (result) => result.value,
          settings.warmupRounds,
          settings.gridRounds,
        );
        // Figure 6-3: every fleet size must make progress under contention, in every round.
        for (const result of rounds)
          assert(
            result.successes > 0 && result.value > 0,
            `${workload}: ${clients} clients on ${fleet} members made no progress`,
          );
        const successes = rounds.reduce((total, result) => total + result.successes, 0);
        const attempts = rounds.reduce((total, result) => total + result.attempts, 0);
        grid.push({
          clients,
          fleet,
          cores: point.cores,
          value,
          rounds: rounds.map((result) => result.value),
          successes,
          attempts,
        });
      } finally {
        await point.close();
      }
    }
  }
  return grid;
}

/** Client `index` of `clients`, spread evenly over `cores` (1 client: core 0; 2: 0 and cores/2; ...). */
function clientCore(index: number, clients: number, cores: number): number {
  return Math.floor((index * cores) / clients);
}

async function openPoint(
  workload: FleetWorkload,
  clients: number,
  fleet: number,
  settings: FleetSettings,
): Promise<OpenPoint> {
  const cores = Math.max(settings.minCores, fleet);
  const instance: Instance<LocalFabric> = await boot({ fabric: 'local', cores, nameServers: fleet });
  try {
    const service = instance.nameService;
    if (service === undefined) throw new Error('boot started no name service');
    const root = service.rootCapability;
    const libfoses: Libfos[] = [];
    for (let index = 0; index < clients; index++) {
      const client = await libfosOn(instance, clientCore(index, clients, cores), `fleet-client-${index}`);
      // Replies travel checked to a named mailbox, as in lookup-rpc.
      await client.getCanonicalAlias();
      libfoses.push(client);
    }
    const clock = new SystemClock();
    const perClient = Math.ceil(settings.operationsPerRound / clients);
    const run = await workloadOf(workload, libfoses, root, perClient);
    return {
      clients,
      fleet,
      cores,
      round: async () => {
        const startedMs = clock.now();
        const counts = await Promise.all(
          libfoses.map((client, index) =>
            client.dispatcher.spawnThread(`fleet-${workload}-${index}`, () => run(client, index)),
          ),
        );
        const elapsedMs = clock.now() - startedMs;
        const successes = counts.reduce((sum, count) => sum + count, 0);
        return { value: perSecond(successes, elapsedMs), successes, attempts: clients * perClient };
      },
      close: () => instance.shutdown(),
    };
  } catch (error) {
    await instance.shutdown();
    throw error;
  }
}

/** One client's loop of a round; answers its successful operations. */
type ClientLoop = (client: Libfos, index: number) => Promise<number>;

async function workloadOf(
  workload: FleetWorkload,
  clients: readonly Libfos[],
  root: Capability,
  operations: number,
): Promise<ClientLoop> {
  const first = clients[0] as Libfos;
  if (workload === 'lookup') {
    await serveNamed(first, lookupTarget, root);
    // Agreed by every member before the first round: each answers from its own replica.
    for (const client of clients)
      assert((await client.nameService.lookup(lookupTarget)).type === 'direct', 'the target is registered');
    return async (client) => {
      for (let n = 0; n < operations; n++) {
        const result = await client.nameService.lookup(lookupTarget);
        assert(result.type === 'direct', 'the target is a direct name');
      }
      return operations;
    };
  }
  const destinations = await Promise.all(
    clients.map(async (client): Promise<RegisterRequest['destination']> => {
      const mailbox = await client.createMailbox();
      return { type: 'direct', location: mailbox.location, publishedCapability: mailbox.capability };
    }),
  );
  if (workload === 'register') {
    const next = clients.map(() => 0);
    return async (client, index) => {
      const destination = destinations[index] as RegisterRequest['destination'];
      for (let n = 0; n < operations; n++) {
        const name = `/bench/c${index}/${(next[index] as number) + n}`;
        const { nameCapability } = await client.nameService.register({ name, capability: root, destination });
        await client.nameService.unregister({ name, capability: nameCapability });
      }
      next[index] = (next[index] as number) + operations;
      return operations;
    };
  }
  return async (client, index) => {
    const destination = destinations[index] as RegisterRequest['destination'];
    let successes = 0;
    for (let n = 0; n < operations; n++) {
      let nameCapability: string;
      try {
        ({ nameCapability } = await client.nameService.register({ name: hotName, capability: root, destination }));
      } catch (error) {
        if (isContention(error)) continue; // another client holds it, or the store refused: move on
        throw error;
      }
      // The holder must let go, or nobody makes progress: a refused change changed nothing, so retry it.
      if (await unregisterHeld(client, nameCapability)) successes++;
    }
    return successes;
  };
}

/** The name every contended client registers. */
export const hotName = '/bench/hot';

const contentionCodes = new Set(['CONFLICT', 'NAME_EXISTS', 'NO_SUCH_NAME']);

function isContention(error: unknown): boolean {
  return isFosError(error) && contentionCodes.has(error.code);
}

async function unregisterHeld(client: Libfos, nameCapability: string): Promise<boolean> {
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      await client.nameService.unregister({ name: hotName, capability: nameCapability });
      return true;
    } catch (error) {
      if (!isFosError(error) || error.code !== 'CONFLICT') {
        if (isContention(error)) return false;
        throw error;
      }
    }
  }
  throw new Error(`${hotName}: unregister kept conflicting; the name stays held`);
}
