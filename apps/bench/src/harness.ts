import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Settings a benchmark reports beside its result (message size, messages in flight, ...). */
export type BenchmarkSettings = Readonly<Record<string, string | number | boolean>>;

/**
 * One run of a benchmark: its measured workload and its baseline, set up in this process. Each
 * call does one round of work and returns one sample in the benchmark's unit.
 */
export interface BenchmarkSession {
  /** One round of the measured workload. */
  measured(): Promise<number>;
  /** One round of the baseline, doing the same work under the same settings. */
  baseline(): Promise<number>;
  /** Releases everything the session holds (ports, machines, timers). */
  close(): Promise<void>;
}

/** A benchmark and the baseline it is compared with. */
export interface Benchmark {
  /** Names the result file and the `RESULT` line: `[A-Za-z0-9-]+`. */
  readonly name: string;
  /** The unit of every sample, bigger is better (`roundtrips/s`). */
  readonly unit: string;
  readonly baselineName: string;
  readonly settings: BenchmarkSettings;
  /** Rounds of each kind whose samples count (at least 1). */
  readonly rounds: number;
  /** Rounds of each kind run first and discarded, so JIT and caches are warm. */
  readonly warmupRounds: number;
  /** Sets up the measured workload and the baseline. */
  run(): Promise<BenchmarkSession>;
}

/** Where and on what a result was measured. */
export interface MachineInfo {
  readonly cpus: number;
  readonly model: string;
  readonly node: string;
  readonly platform: string;
}

/** What `results/<name>.json` holds. */
export interface BenchmarkResult {
  readonly name: string;
  readonly unit: string;
  /** Median of the measured samples, 3 significant digits. */
  readonly value: number;
  readonly baselineName: string;
  /** Median of the baseline samples, 3 significant digits. */
  readonly baselineValue: number;
  /** `value / baselineValue` of the unrounded medians, 3 significant digits. */
  readonly ratio: number;
  readonly settings: BenchmarkSettings;
  readonly machine: MachineInfo;
  /** Rounds of each kind that counted. */
  readonly rounds: number;
  /** Every counted sample, in the order taken (measured and baseline alternate). */
  readonly samples: { readonly measured: readonly number[]; readonly baseline: readonly number[] };
  /** When the run ended (ISO 8601). */
  readonly date: string;
}

/** How to run benchmarks. */
export interface RunOptions {
  /** Where `<name>.json` is written (created if missing). */
  readonly resultsDirectory: string | URL;
  /** Where progress and the `RESULT` line go (default: stdout). */
  readonly print?: (line: string) => void;
  /** Default: the current time. */
  readonly date?: Date;
  /** Default: this machine. */
  readonly machine?: MachineInfo;
}

const benchmarkNamePattern = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/** The median of some samples (the mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no samples');
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle] as number;
  return sorted.length % 2 === 1 ? upper : ((sorted[middle - 1] as number) + upper) / 2;
}

/**
 * The rounds of one grid point: `discarded` rounds thrown away (a fresh instance's threads run cold
 * code), then `timed` rounds; the point's value is the median of `valueOf` over the timed ones.
 */
export async function gridPointRounds<R>(
  round: () => Promise<R>,
  valueOf: (result: R) => number,
  discarded: number,
  timed: number,
): Promise<{ value: number; rounds: R[] }> {
  for (let index = 0; index < discarded; index++) await round();
  const rounds: R[] = [];
  for (let index = 0; index < timed; index++) rounds.push(await round());
  return { value: median(rounds.map(valueOf)), rounds };
}

/** `value` rounded to `digits` significant digits. */
export function significant(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

/** A number for the `RESULT` line: 3 significant digits, never in exponent form. */
export function formatSignificant(value: number): string {
  const rounded = significant(value);
  if (!Number.isFinite(rounded)) return String(rounded);
  return rounded.toLocaleString('en-US', { useGrouping: false, maximumSignificantDigits: 3 });
}

/** The last line a benchmark prints: `RESULT <name> <value> <unit> ratio=<r> vs <baseline>`. */
export function formatResultLine(
  result: Pick<BenchmarkResult, 'name' | 'value' | 'unit' | 'ratio' | 'baselineName'>,
): string {
  return `RESULT ${result.name} ${formatSignificant(result.value)} ${result.unit} ratio=${formatSignificant(result.ratio)} vs ${result.baselineName}`;
}

/** The machine a result comes from. */
export function machineInfo(): MachineInfo {
  const processors = cpus();
  return {
    cpus: processors.length,
    model: processors[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
  };
}

/** The result of some samples (pure: no I/O). */
export function summarize(
  benchmark: Benchmark,
  samples: BenchmarkResult['samples'],
  machine: MachineInfo,
  date: Date,
): BenchmarkResult {
  const value = median(samples.measured);
  const baselineValue = median(samples.baseline);
  if (!(baselineValue > 0))
    throw new RangeError(
      `${benchmark.name}: baseline ${benchmark.baselineName} measured ${baselineValue} ${benchmark.unit}`,
    );
  return {
    name: benchmark.name,
    unit: benchmark.unit,
    value: significant(value),
    baselineName: benchmark.baselineName,
    baselineValue: significant(baselineValue),
    ratio: significant(value / baselineValue),
    settings: benchmark.settings,
    machine,
    rounds: samples.measured.length,
    samples,
    date: date.toISOString(),
  };
}

/**
 * Runs one benchmark: warm-up rounds, then `rounds` alternating rounds (measured, baseline, measured,
 * ...) so that drift in the machine's state hits both alike; takes the medians, writes
 * `<resultsDirectory>/<name>.json` and prints the `RESULT` line last.
 */
export async function runBenchmark(benchmark: Benchmark, options: RunOptions): Promise<BenchmarkResult> {
  const result = await measureBenchmark(benchmark, options);
  await writeResult(result, options.resultsDirectory);
  const verdict = goalVerdict(benchmark.settings.goal, result.ratio);
  if (verdict !== undefined) (options.print ?? printLine)(verdict);
  (options.print ?? printLine)(formatResultLine(result));
  return result;
}

/**
 * Whether a measured ratio meets a benchmark's goal, as a line to print: for a goal that states a
 * bound on the ratio (`ratio >= 0.3`, `ratio <= 2 (why)`); undefined for any other goal (those the
 * benchmark's own table judges).
 */
export function goalVerdict(goal: unknown, ratio: number): string | undefined {
  const bound = typeof goal === 'string' ? /^ratio\s*(>=|<=)\s*(\d+(?:\.\d+)?)/.exec(goal) : null;
  if (bound === null) return undefined;
  const limit = Number(bound[2]);
  const met = bound[1] === '>=' ? ratio >= limit : ratio <= limit;
  return `goal ${bound[1]} ${bound[2]}: ${met ? 'met' : 'not met'} (ratio=${formatSignificant(ratio)}${met ? '' : `, ${formatSignificant(bound[1] === '>=' ? limit / ratio : ratio / limit)}x from it`})`;
}

/**
 * {@link runBenchmark} without the file and the `RESULT` line: the rounds and the result, for a
 * {@link BenchmarkSuite} that writes one file for all its pairs.
 */
export async function measureBenchmark(
  benchmark: Benchmark,
  options: Omit<RunOptions, 'resultsDirectory'>,
): Promise<BenchmarkResult> {
  if (!benchmarkNamePattern.test(benchmark.name))
    throw new RangeError(`benchmark name ${JSON.stringify(benchmark.name)} is not [A-Za-z0-9-]+`);
  if (!Number.isInteger(benchmark.rounds) || benchmark.rounds < 1)
    throw new RangeError(`${benchmark.name}: rounds ${benchmark.rounds} is not a positive integer`);
  if (!Number.isInteger(benchmark.warmupRounds) || benchmark.warmupRounds < 0)
    throw new RangeError(`${benchmark.name}: warmupRounds ${benchmark.warmupRounds} is not a whole number`);
  const print = options.print ?? printLine;
  const settingsText = Object.entries(benchmark.settings)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(' ');
  const machine = options.machine ?? machineInfo();
  print(`${benchmark.name} vs ${benchmark.baselineName}: ${settingsText}`);
  print(`  on Node ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.model})`);
  const session = await benchmark.run();
  const samples = { measured: [] as number[], baseline: [] as number[] };
  try {
    for (let round = 0; round < benchmark.warmupRounds; round++) {
      await session.measured();
      await session.baseline();
    }
    for (let round = 1; round <= benchmark.rounds; round++) {
      const measured = await session.measured();
      const baseline = await session.baseline();
      samples.measured.push(measured);
      samples.baseline.push(baseline);
      print(
        `  round ${round}/${benchmark.rounds}: ${benchmark.name} ${formatSignificant(measured)}, ${benchmark.baselineName} ${formatSignificant(baseline)} ${benchmark.unit}`,
      );
    }
  } finally {
    await session.close();
  }
  return summarize(benchmark, samples, machine, options.date ?? new Date());
}

function printLine(line: string): void {
  process.stdout.write(`${line}\n`);
}

/**
 * Benchmarks that run together and share one file, `<resultsDirectory>/<name>.json` (what `run`
 * answers, with the machine and the date): several pairs that need one setup (a peer server
 * started once), or measurements that are not rates. `run` prints one `RESULT` line per pair.
 */
export interface BenchmarkSuite {
  /** `[A-Za-z0-9-]+`: names the file and what `pnpm bench <name>` runs. */
  readonly name: string;
  run(options: Omit<RunOptions, 'resultsDirectory'>): Promise<Record<string, unknown>>;
}

/** Runs a suite and writes `<resultsDirectory>/<name>.json`: `{ name, ...what it answered, machine, date }`. */
export async function runSuite(suite: BenchmarkSuite, options: RunOptions): Promise<Record<string, unknown>> {
  if (!benchmarkNamePattern.test(suite.name))
    throw new RangeError(`suite name ${JSON.stringify(suite.name)} is not [A-Za-z0-9-]+`);
  const body = await suite.run(options);
  const date = options.date ?? new Date();
  const written = { name: suite.name, ...body, machine: options.machine ?? machineInfo(), date: date.toISOString() };
  await writeJson(options.resultsDirectory, `${suite.name}.json`, written);
  return written;
}

/** Writes `<directory>/<name>.json`; returns its path. */
export async function writeResult(result: BenchmarkResult, directory: string | URL): Promise<string> {
  return writeJson(directory, `${result.name}.json`, result);
}

/** Writes `<directory>/<name>-grid.json`: a benchmark's whole grid, with the date it ended. */
export function writeGrid(directory: string | URL, name: string, body: Record<string, unknown>): Promise<string> {
  return writeJson(directory, `${name}-grid.json`, { name, ...body, date: new Date().toISOString() });
}

async function writeJson(directory: string | URL, fileName: string, body: unknown): Promise<string> {
  const path = typeof directory === 'string' ? directory : fileURLToPath(directory);
  await mkdir(path, { recursive: true });
  const file = join(path, fileName);
  await writeFile(file, `${JSON.stringify(body, null, 2)}\n`);
  return file;
}
