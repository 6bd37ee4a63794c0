// CPU hogs: child processes that spin, so a benchmark can run on a busy machine. `besideHogs` turns a
// benchmark into its hogged form: the same measured workload in alternating rounds, beside `hogs`
// spinning processes and with none, in the same session, so the ratio is hogged ÷ quiet.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import type { Benchmark, BenchmarkSession } from './harness.js';

/** The most hogs `--hogs` accepts. */
export const hogsMax = 64;

// A hog says it runs, then spins; every few million rounds it checks that its parent still runs, so a
// hog whose benchmark was killed outright ends by itself.
const hogSource = `const parent = process.ppid;
process.stdout.write('spinning\\n');
for (let round = 1; ; round++) if ((round & 0xffffff) === 0 && process.ppid !== parent) process.exit(0);`;

/** Every hog still running in this process: the exit handler stops them, however the benchmark ends. */
const running = new Set<ChildProcess>();
let exitHandlerInstalled = false;

/** Hogs of this process still running (for tests). */
export function runningHogCount(): number {
  return running.size;
}

/** Hogs that spin until {@link Hogs.stop}. */
export interface Hogs {
  readonly pids: readonly number[];
  /** Kills every hog and waits until each has exited. */
  stop(): Promise<void>;
}

/** `hogs` as a whole number in 0..{@link hogsMax}, or a `RangeError` that names the value. */
export function checkHogCount(hogs: unknown): number {
  if (typeof hogs !== 'number' || !Number.isInteger(hogs) || hogs < 0 || hogs > hogsMax)
    throw new RangeError(`hogs ${String(hogs)} is not a whole number in 0..hogsMax (${hogsMax})`);
  return hogs;
}

/** Starts `count` hogs and resolves once every one of them spins. */
export async function startHogs(count: number): Promise<Hogs> {
  checkHogCount(count);
  if (!exitHandlerInstalled) {
    exitHandlerInstalled = true;
    process.on('exit', () => {
      for (const hog of running) hog.kill('SIGKILL');
    });
  }
  const hogs = Array.from({ length: count }, () => {
    const hog = spawn(process.execPath, ['-e', hogSource], { stdio: ['ignore', 'pipe', 'ignore'] });
    running.add(hog);
    return hog;
  });
  const stop = async (): Promise<void> => {
    await Promise.all(
      hogs.map(async (hog) => {
        if (hog.exitCode === null && hog.signalCode === null) {
          const exited = new Promise<void>((resolve) => hog.once('exit', () => resolve()));
          hog.kill('SIGKILL');
          await exited;
        }
        running.delete(hog);
      }),
    );
  };
  try {
    await Promise.all(hogs.map(spinning));
  } catch (error) {
    await stop();
    throw error;
  }
  return { pids: hogs.map((hog) => hog.pid ?? -1), stop };
}

/** Resolves when the hog has said it spins; rejects if it could not start or ended first. */
function spinning(hog: ChildProcess): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    hog.once('error', reject);
    hog.once('exit', (code, signal) => reject(new Error(`a hog ended before it spun (${signal ?? code})`)));
    hog.stdout?.once('data', () => resolve());
  });
}

/**
 * `<name>-hogged` vs `<name>-quiet`: the benchmark's measured workload, each round once beside `hogs`
 * fresh CPU hogs (started before the round, spinning, and killed after it) and once with none, in
 * alternating rounds of one session. The ratio is hogged ÷ quiet; a process that gets its fair share of
 * a machine with `cpus` CPUs scores about cpus ÷ (cpus + hogs) (the settings say `fairShare`).
 */
export function besideHogs(benchmark: Benchmark, hogs: number): Benchmark {
  checkHogCount(hogs);
  const cpus = availableParallelism();
  return {
    name: `${benchmark.name}-hogged`,
    unit: benchmark.unit,
    baselineName: `${benchmark.name}-quiet`,
    settings: {
      ...benchmark.settings,
      hogs,
      cpus,
      fairShare: Number((cpus / (cpus + hogs)).toPrecision(3)),
    },
    rounds: benchmark.rounds,
    warmupRounds: benchmark.warmupRounds,
    run: async (): Promise<BenchmarkSession> => {
      const session = await benchmark.run();
      return {
        measured: async () => {
          const started = await startHogs(hogs);
          try {
            return await session.measured();
          } finally {
            await started.stop();
          }
        },
        baseline: () => session.measured(),
        close: () => session.close(),
      };
    },
  };
}
