import { writeErrorLine } from '@fos/base';
import { checkSafeInteger } from './internal/validate.js';

/** Options of {@link runSeeds}. */
export interface SeedRunOptions {
  /** how many seeds to run (default {@link seedsDefault}); the environment variable SIM_SEEDS overrides it */
  seeds?: number;
  /** the first seed (default 0); the environment variable SIM_SEED_START overrides it */
  seedStart?: number;
}

/** Seeds {@link runSeeds} runs when neither the options nor the environment say. */
export const seedsDefault = 100;

/** Most seeds one sweep may list; the list is materialized, so a typo like SIM_SEEDS=1e12 fails fast. */
export const seedCountMax = 10_000_000;

function readIntegerVariable(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text.trim() === '') return undefined;
  const value = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value)) {
    throw new RangeError(`${name} must be an integer, got "${text}"`);
  }
  return value;
}

/**
 * The seeds a sweep runs: SIM_SEED=N gives exactly [N] (replay one failure); otherwise `defaults.seeds`
 * seeds from `defaults.seedStart` (default 0), which SIM_SEEDS and SIM_SEED_START override.
 */
export function seedsFromEnv(defaults: { seeds: number; seedStart?: number }): { seeds: number[] } {
  const single = readIntegerVariable('SIM_SEED');
  if (single !== undefined) return { seeds: [single] };
  const count = readIntegerVariable('SIM_SEEDS') ?? defaults.seeds;
  const start = readIntegerVariable('SIM_SEED_START') ?? defaults.seedStart ?? 0;
  checkSafeInteger(count, 'seed count (SIM_SEEDS or seeds)', 0, seedCountMax);
  checkSafeInteger(
    start,
    'first seed (SIM_SEED_START or seedStart)',
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER - count,
  );
  return { seeds: Array.from({ length: count }, (_, index) => start + index) };
}

/**
 * Runs `run(seed)` for seeds `seedStart .. seedStart + seeds - 1` in order, awaiting each, and returns
 * how many ran. Environment overrides: SIM_SEED=N replays exactly that seed; SIM_SEEDS and
 * SIM_SEED_START override the count and the first seed. On the first failure it prints `seed=N`
 * (console.error) with the error, and rejects with an Error whose message starts with `seed=N: `
 * and whose `cause` is the original error.
 */
export async function runSeeds(
  run: (seed: number) => void | Promise<void>,
  options: SeedRunOptions = {},
): Promise<number> {
  const { seeds } = seedsFromEnv({ seeds: options.seeds ?? seedsDefault, seedStart: options.seedStart ?? 0 });
  for (const seed of seeds) {
    try {
      await run(seed);
    } catch (error) {
      writeErrorLine(`seed=${seed} failed; replay it with SIM_SEED=${seed}`, error);
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`seed=${seed}: ${message}`, { cause: error });
    }
  }
  return seeds.length;
}

/** The two test tiers: `fast` (what `pnpm test` runs) and `long` (`pnpm test:long`: the full sweeps). */
export type TestTier = 'fast' | 'long';

/**
 * The tier this run is in: `long` when the environment variable FOS_TEST_TIER is `long`, `fast` when it
 * is absent, empty or `fast`. Any other value throws a RangeError naming it (a typo must not quietly
 * run the short tier).
 */
export function testTier(): TestTier {
  const text = process.env.FOS_TEST_TIER?.trim() ?? '';
  if (text === '' || text === 'fast') return 'fast';
  if (text === 'long') return 'long';
  throw new RangeError(`FOS_TEST_TIER must be "fast" or "long", got "${text}"`);
}

/**
 * How many of something (seeds, sequences, messages) a test runs in this run's {@link testTier}:
 * `counts.fast` or `counts.long`. Both must be safe integers from 0 to {@link seedCountMax}.
 */
export function tierCount(counts: { readonly fast: number; readonly long: number }): number {
  checkSafeInteger(counts.fast, 'fast count', 0, seedCountMax);
  checkSafeInteger(counts.long, 'long count', 0, seedCountMax);
  return testTier() === 'long' ? counts.long : counts.fast;
}
