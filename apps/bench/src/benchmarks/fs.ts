// `fs` (thesis Figure 6-5): clients that each open a file of their own, read 1 KiB and close it,
// against a read-only file-system fleet on worker cores; every open refreshes the mapping of /sys/fs
// through the name service. The grid: clients 1..16 × members 1..8, each point a fresh instance
// (the name server and the block device server on core 0, member i on core 1 + i, the clients on the
// cores after them). The baseline at every client count: the same operations with node:fs/promises on
// the same files, as many loops in flight as there are clients, in this process.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { assert, SystemClock } from '@fos/base';
import { boot, type Instance } from '@fos/system';
import {
  formatResultLine,
  gridPointRounds,
  machineInfo,
  measureBenchmark,
  significant,
  writeGrid,
  type Benchmark,
  type BenchmarkResult,
  type BenchmarkSuite,
  type MachineInfo,
  type RunOptions,
} from '../harness.js';
import { defaultProcessesModule } from './messaging.js';
import { defaultGridDirectory } from './ns-fleet.js';
import { perSecond } from './naming.js';

/** Settings of {@link fs}. */
export interface FsBenchSettings {
  /** Client counts of the grid. */
  readonly clients: readonly number[];
  /** Fleet sizes of the grid. */
  readonly members: readonly number[];
  /** Timed operations (open, read, close) of each client per round, after `warmupOperations`. */
  readonly operations: number;
  readonly warmupOperations: number;
  /** Bytes read per open (1 KiB, as in the thesis). */
  readonly readBytes: number;
  /** Files of each client (it opens them in turn), and their size. */
  readonly filesPerClient: number;
  readonly fileBytes: number;
  /** Timed rounds per grid point (after a discarded one); the point is their median. */
  readonly gridRounds: number;
  /** Rounds of the `RESULT` pairs. */
  readonly rounds: number;
  readonly warmupRounds: number;
  /** The point the `RESULT` lines measure: `resultClients` clients against `resultMembers` members. */
  readonly resultClients: number;
  readonly resultMembers: number;
}

export const fsBenchDefaults: FsBenchSettings = Object.freeze({
  clients: Object.freeze([1, 2, 4, 8, 16]),
  members: Object.freeze([1, 2, 4, 8]),
  operations: 200,
  warmupOperations: 20,
  readBytes: 1024,
  filesPerClient: 32,
  fileBytes: 4096,
  gridRounds: 3,
  rounds: 3,
  warmupRounds: 1,
  resultClients: 8,
  resultMembers: 8,
});

/** Where the grid goes (`<directory>/fs-grid.json`; null: nowhere) and the process module. */
export interface FsBenchOptions {
  readonly gridDirectory?: string | URL | null;
  readonly processesModule?: string | URL;
}

/** The image of a run: one directory per client, its files inside; the tree stays for the baseline. */
interface BenchImage {
  readonly image: string;
  readonly tree: string;
  /** Per client, the paths of its files (relative to the image's root). */
  readonly files: readonly (readonly string[])[];
  remove(): void;
}

function makeImage(settings: FsBenchSettings): BenchImage {
  const work = mkdtempSync(join(tmpdir(), 'fos-bench-fs-'));
  const tree = join(work, 'tree');
  const clientsMax = Math.max(...settings.clients, settings.resultClients + settings.resultClients);
  const files: string[][] = [];
  const bytes = new Uint8Array(settings.fileBytes);
  for (let client = 0; client < clientsMax; client++) {
    mkdirSync(join(tree, `client-${client}`), { recursive: true });
    const own: string[] = [];
    for (let file = 0; file < settings.filesPerClient; file++) {
      bytes.fill((client * 31 + file) & 0xff);
      const path = `client-${client}/file-${file}.bin`;
      writeFileSync(join(tree, path), bytes);
      own.push(path);
    }
    files.push(own);
  }
  const image = join(work, 'bench.tar');
  execFileSync('tar', ['-cf', image, '-C', tree, '.']);
  return { image, tree, files, remove: () => rmSync(work, { recursive: true, force: true }) };
}

/** One instance: the fleet of `members` on worker cores and room for `clients` client processes. */
interface FsPoint {
  /** One round: every client runs its operations at once; the sum of their rates. */
  round(): Promise<number>;
  close(): Promise<void>;
}

async function openPoint(
  bench: BenchImage,
  settings: FsBenchSettings,
  module: string | URL,
  clients: number,
  members: number,
): Promise<FsPoint> {
  const cores = 1 + members + clients;
  const instance: Instance = await boot({ fabric: 'worker', cores, fs: { image: bench.image, members } });
  return {
    round: async () => {
      const results = await Promise.all(
        Array.from({ length: clients }, (_, client) =>
          instance.spawn({
            core: 1 + members + client,
            module,
            entry: 'fsBenchClient',
            name: `fs-client-${client}`,
            args: {
              paths: [...(bench.files[client] as string[])],
              operations: settings.operations,
              warmup: settings.warmupOperations,
              readBytes: settings.readBytes,
            },
          }),
        ),
      );
      return results.reduce((sum, handle) => sum + (handle.result as { opsPerSecond: number }).opsPerSecond, 0);
    },
    close: () => instance.shutdown(),
  };
}

/** The baseline: `clients` loops in this process, each opening its files with node:fs/promises. */
async function nodeFsRound(bench: BenchImage, settings: FsBenchSettings, clients: number): Promise<number> {
  const clock = new SystemClock();
  const buffer = (): Uint8Array => new Uint8Array(settings.readBytes);
  const one = async (client: number, index: number, into: Uint8Array): Promise<void> => {
    const own = bench.files[client] as string[];
    const handle = await open(join(bench.tree, own[index % own.length] as string), 'r');
    const { bytesRead } = await handle.read(into, 0, settings.readBytes, 0);
    assert(bytesRead === settings.readBytes, 'node:fs read the bytes asked for');
    await handle.close();
  };
  const loop = async (client: number, from: number, count: number): Promise<void> => {
    const into = buffer();
    for (let index = from; index < from + count; index++) await one(client, index, into);
  };
  await Promise.all(Array.from({ length: clients }, (_, client) => loop(client, 0, settings.warmupOperations)));
  const startedMs = clock.now();
  await Promise.all(
    Array.from({ length: clients }, (_, client) => loop(client, settings.warmupOperations, settings.operations)),
  );
  return perSecond(clients * settings.operations, clock.now() - startedMs);
}

/** One point of the grid. */
export interface FsGridPoint {
  readonly clients: number;
  readonly members: number;
  /** Worker threads of the instance (1 + members + clients) against this machine's CPUs. */
  readonly threads: number;
  readonly oversubscribed: boolean;
  /** Operations per second, all clients together (median of the timed rounds). */
  readonly value: number;
  readonly rounds: readonly number[];
  /** node:fs at the same client count, and fos's ratio to it. */
  readonly nodeFs: number;
  readonly ratio: number;
}

/**
 * `fs`: the grid of Figure 6-5 (to `fs-grid.json`) and two `RESULT` lines:
 * - `fs-open-read-close` (`resultClients` clients × `resultMembers` members) vs `node-fs-open-read-close`
 *   (the same operations, as many in flight, with node:fs/promises);
 * - `fs-clients-2x` (twice the clients against the same fleet) vs `fs-open-read-close`: whether the
 *   throughput holds past that many clients (the thesis's point: it must not fall).
 */
export function fs(
  overrides: Partial<FsBenchSettings> = {},
  options: FsBenchOptions = {},
): BenchmarkSuite & { readonly settings: FsBenchSettings } {
  const settings: FsBenchSettings = { ...fsBenchDefaults, ...overrides };
  return { name: 'fs', settings, run: (runOptions) => runFs(settings, options, runOptions) };
}

async function runFs(
  settings: FsBenchSettings,
  options: FsBenchOptions,
  runOptions: Omit<RunOptions, 'resultsDirectory'>,
) {
  const print = runOptions.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const module = options.processesModule ?? defaultProcessesModule();
  const cpus = availableParallelism();
  // Every figure says which machine it came from.
  const machine = (): MachineInfo => runOptions.machine ?? machineInfo();
  const bench = makeImage(settings);
  try {
    const nodeFs = new Map<number, number>();
    for (const clients of settings.clients)
      nodeFs.set(
        clients,
        (
          await gridPointRounds(
            () => nodeFsRound(bench, settings, clients),
            (rate) => rate,
            1,
            settings.gridRounds,
          )
        ).value,
      );
    const points: FsGridPoint[] = [];
    for (const members of settings.members) {
      for (const clients of settings.clients) {
        const point = await openPoint(bench, settings, module, clients, members);
        try {
          const { value, rounds } = await gridPointRounds(
            () => point.round(),
            (rate) => rate,
            1,
            settings.gridRounds,
          );
          const baseline = nodeFs.get(clients) as number;
          const threads = 1 + members + clients;
          points.push({
            clients,
            members,
            threads,
            oversubscribed: threads > cpus,
            value: significant(value),
            rounds: rounds.map((rate) => significant(rate)),
            nodeFs: significant(baseline),
            ratio: significant(value / baseline),
          });
          print(
            `  fs grid: ${clients} clients x ${members} members (${threads} threads on ${cpus} CPUs, ${machine().model}): ${significant(value)} ops/s, node:fs ${significant(baseline)} (ratio ${significant(value / baseline)})`,
          );
        } finally {
          await point.close();
        }
      }
    }
    const directory = options.gridDirectory === undefined ? defaultGridDirectory : options.gridDirectory;
    if (directory !== null) await writeGrid(directory, 'fs', { settings, cpus, machine: machine(), points });
    const results: BenchmarkResult[] = [];
    for (const benchmark of pairs(bench, settings, module)) {
      const result = await measureBenchmark(benchmark, runOptions);
      results.push(result);
      print(formatResultLine(result));
    }
    return { settings, cpus, points, results };
  } finally {
    bench.remove();
  }
}

function pairs(bench: BenchImage, settings: FsBenchSettings, module: string | URL): Benchmark[] {
  const { resultClients: clients, resultMembers: members } = settings;
  const common = {
    fabric: 'worker',
    operation: `open a file of the client's own, read ${settings.readBytes} B, close (${settings.fileBytes}-byte files)`,
    operations: settings.operations,
  };
  const fosPoint = (count: number) =>
    `fos: ${count} client processes on worker cores, ${members} members, name server and block device on core 0`;
  return [
    {
      name: 'fs-open-read-close',
      unit: 'ops/s',
      baselineName: 'node-fs-open-read-close',
      settings: {
        ...common,
        clients,
        members,
        fos: fosPoint(clients),
        baseline: `node:fs/promises in this process, ${clients} loops in flight (libuv's thread pool)`,
      },
      rounds: settings.rounds,
      warmupRounds: settings.warmupRounds,
      run: async () => {
        const point = await openPoint(bench, settings, module, clients, members);
        return {
          measured: () => point.round(),
          baseline: () => nodeFsRound(bench, settings, clients),
          close: () => point.close(),
        };
      },
    },
    {
      name: 'fs-clients-2x',
      unit: 'ops/s',
      baselineName: 'fs-open-read-close',
      settings: {
        ...common,
        clients: 2 * clients,
        members,
        fos: `${fosPoint(2 * clients)}; baseline the same with ${clients} clients (separate instances)`,
        goal: 'ratio >= 1 (throughput does not fall past that many clients)',
      },
      rounds: settings.rounds,
      warmupRounds: settings.warmupRounds,
      run: async () => {
        const doubled = await openPoint(bench, settings, module, 2 * clients, members);
        const single = await openPoint(bench, settings, module, clients, members).catch(async (error: unknown) => {
          await doubled.close();
          throw error;
        });
        return {
          measured: () => doubled.round(),
          baseline: () => single.round(),
          close: async () => {
            await doubled.close();
            await single.close();
          },
        };
      },
    },
  ];
}
