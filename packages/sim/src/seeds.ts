import { describedCharactersMax, describeValue, writeErrorLine } from '@fos/base';
import { checkFunction, checkOptionsObject, checkSafeInteger, readArgument, refuse } from './internal/validate.js';

/** Options of {@link runSeeds}. */
export interface SeedRunOptions {
  /** how many seeds to run (default {@link seedsDefault}); the environment variable SIM_SEEDS overrides it */
  seeds?: number;
  /** the first seed (default 0); the environment variable SIM_SEED_START overrides it */
  seedStart?: number;
  /**
   * Run the whole sweep instead of stopping at the first failing seed, and reject once at the end with
   * a {@link SeedSweepError} that lists every failing seed (up to {@link seedFailuresKeptMax}). Default false.
   */
  collectFailures?: boolean;
}

/** Seeds {@link runSeeds} runs when neither the options nor the environment say. */
export const seedsDefault = 100;

/** Most seeds one sweep may list; the list is materialized, so a typo like SIM_SEEDS=1e12 fails fast. */
export const seedCountMax = 10_000_000;

/**
 * Failing seeds a sweep with `collectFailures` keeps (and prints) at most: at this many it stops and
 * says so, because a change that breaks every seed would otherwise print a million failures.
 */
export const seedFailuresKeptMax = 100;

/**
 * What {@link runSeeds} rejects with under `collectFailures`: its message starts `seeds=N1,N2,...: `
 * and lists each failing seed with the first line of its message; `errors` keeps every original
 * error and `seeds` the failing seeds, both in the order the seeds ran.
 */
export class SeedSweepError extends AggregateError {
  /** The failing seeds, in the order they ran; `errors[i]` is what seed `seeds[i]` threw. */
  readonly seeds: readonly number[];

  constructor(seeds: readonly number[], errors: readonly unknown[], message: string) {
    super(errors, message);
    this.name = 'SeedSweepError';
    this.seeds = seeds;
  }
}

function readIntegerVariable(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value)) {
    refuse(`${name} must be an integer, got ${describeValue(text)}`, text);
  }
  return value;
}

/**
 * The seeds a sweep runs: SIM_SEED=N gives exactly [N] (replay one failure); otherwise `defaults.seeds`
 * seeds from `defaults.seedStart` (default 0), which SIM_SEEDS and SIM_SEED_START override.
 * `BAD_REQUEST` for a count or a first seed that is not an integer in range, or a malformed variable.
 */
export function seedsFromEnv(defaults: { seeds: number; seedStart?: number }): { seeds: number[] } {
  if (typeof defaults !== 'object' || defaults === null)
    refuse(`seedsFromEnv: defaults must be an object, got ${describeValue(defaults)}`, defaults);
  const given = readArgument(defaults, 'seedsFromEnv: defaults', () => ({
    seeds: defaults.seeds,
    seedStart: defaults.seedStart,
  }));
  const single = readIntegerVariable('SIM_SEED');
  if (single !== undefined) return { seeds: [single] };
  const count = readIntegerVariable('SIM_SEEDS') ?? given.seeds;
  const start = readIntegerVariable('SIM_SEED_START') ?? given.seedStart ?? 0;
  checkSafeInteger(count, 'seed count (SIM_SEEDS or seeds)', 0, seedCountMax);
  checkSafeInteger(
    start,
    'first seed (SIM_SEED_START or seedStart)',
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER - count,
  );
  return { seeds: Array.from({ length: count }, (_, index) => start + index) };
}

/** The message of whatever a seed's run threw, never throwing itself. */
function messageOf(error: unknown): string {
  try {
    if (typeof error === 'string') return error;
    return error instanceof Error ? error.message : describeValue(error);
  } catch {
    return describeValue(error);
  }
}

function checkedRunOptions(options: SeedRunOptions): { seeds: number[]; collectFailures: boolean } {
  checkOptionsObject(options, 'runSeeds: options');
  const given = readArgument(options, 'runSeeds: options', () => ({
    seeds: options.seeds,
    seedStart: options.seedStart,
    collectFailures: options.collectFailures,
  }));
  if (given.collectFailures !== undefined && typeof given.collectFailures !== 'boolean')
    refuse(
      `runSeeds: collectFailures must be a boolean, got ${describeValue(given.collectFailures)}`,
      given.collectFailures,
    );
  const { seeds } = seedsFromEnv({ seeds: given.seeds ?? seedsDefault, seedStart: given.seedStart ?? 0 });
  return { seeds, collectFailures: given.collectFailures === true };
}

/** The error of a sweep that collected `failures` out of `ran` seeds run (of `listed`). */
function sweepError(failures: ReadonlyArray<{ seed: number; error: unknown }>, ran: number, listed: number): Error {
  const seeds = failures.map((failure) => failure.seed);
  const stopped =
    failures.length >= seedFailuresKeptMax && ran < listed
      ? `; stopped at seedFailuresKeptMax (${seedFailuresKeptMax}) failures, ${listed - ran} seeds not run`
      : '';
  const lines = failures.map(({ seed, error }) => {
    const firstLine = messageOf(error).split('\n', 1)[0] ?? '';
    const shown =
      firstLine.length > describedCharactersMax ? `${firstLine.slice(0, describedCharactersMax)}…` : firstLine;
    return `seed=${seed}: ${shown}`;
  });
  const summary = `seeds=${seeds.join(',')}: ${failures.length} of ${ran} seeds failed${stopped}`;
  return new SeedSweepError(
    seeds,
    failures.map((failure) => failure.error),
    [summary, ...lines].join('\n'),
  );
}

/**
 * Runs `run(seed)` for seeds `seedStart .. seedStart + seeds - 1` in order, awaiting each, and returns
 * how many ran. Environment overrides: SIM_SEED=N replays exactly that seed; SIM_SEEDS and
 * SIM_SEED_START override the count and the first seed. On a failure it prints
 * `seed=N failed; replay it with SIM_SEED=N` (console.error) with the error. By default it stops
 * there and rejects with an Error whose message starts with `seed=N: ` and whose `cause` is the
 * original error; with `collectFailures` it goes on through the sweep and then rejects with a
 * {@link SeedSweepError} (`seeds=N1,N2,...: `) holding every failure. `BAD_REQUEST` (before any seed
 * runs) for a `run` that is not a function or bad options.
 */
export async function runSeeds(
  run: (seed: number) => void | Promise<void>,
  options: SeedRunOptions = {},
): Promise<number> {
  checkFunction(run, 'runSeeds: run');
  const { seeds, collectFailures } = checkedRunOptions(options);
  const failures: Array<{ seed: number; error: unknown }> = [];
  let ran = 0;
  for (const seed of seeds) {
    ran++;
    try {
      await run(seed);
    } catch (error) {
      writeErrorLine(`seed=${seed} failed; replay it with SIM_SEED=${seed}`, error);
      if (!collectFailures) throw new Error(`seed=${seed}: ${messageOf(error)}`, { cause: error });
      failures.push({ seed, error });
      if (failures.length >= seedFailuresKeptMax) {
        if (ran < seeds.length)
          writeErrorLine(`runSeeds: stopping after seedFailuresKeptMax (${seedFailuresKeptMax}) failing seeds`);
        break;
      }
    }
  }
  if (failures.length > 0) throw sweepError(failures, ran, seeds.length);
  return seeds.length;
}

/** The two test tiers: `fast` (what `pnpm test` runs) and `long` (`pnpm test:long`: the full sweeps). */
export type TestTier = 'fast' | 'long';

/**
 * The tier this run is in: `long` when the environment variable FOS_TEST_TIER is `long`, `fast` when it
 * is absent, empty or `fast`. Any other value is `BAD_REQUEST` naming it (a typo must not quietly
 * run the short tier).
 */
export function testTier(): TestTier {
  const text = process.env.FOS_TEST_TIER?.trim() ?? '';
  if (text === '' || text === 'fast') return 'fast';
  if (text === 'long') return 'long';
  return refuse(`FOS_TEST_TIER must be "fast" or "long", got ${describeValue(text)}`, text);
}

/**
 * How many of something (seeds, sequences, messages) a test runs in this run's {@link testTier}:
 * `counts.fast` or `counts.long`. Both must be safe integers from 0 to {@link seedCountMax} (`BAD_REQUEST` otherwise).
 */
export function tierCount(counts: { readonly fast: number; readonly long: number }): number {
  if (typeof counts !== 'object' || counts === null)
    refuse(`tierCount: counts must be an object, got ${describeValue(counts)}`, counts);
  const { fast, long } = readArgument(counts, 'tierCount: counts', () => ({ fast: counts.fast, long: counts.long }));
  checkSafeInteger(fast, 'fast count', 0, seedCountMax);
  checkSafeInteger(long, 'long count', 0, seedCountMax);
  return testTier() === 'long' ? long : fast;
}
