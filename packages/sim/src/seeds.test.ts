import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runSeeds, seedFailuresKeptMax, SeedSweepError, seedsFromEnv, testTier, tierCount } from './seeds.js';

const variableNames = ['SIM_SEED', 'SIM_SEEDS', 'SIM_SEED_START'] as const;

/** These tests are about the environment overrides themselves, so they start from a clean environment. */
function isolateEnvironment(): void {
  const saved = new Map<string, string | undefined>();
  beforeEach(() => {
    for (const name of variableNames) {
      saved.set(name, process.env[name]);
      delete process.env[name];
    }
  });
  afterEach(() => {
    for (const name of variableNames) {
      const value = saved.get(name);
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    vi.restoreAllMocks();
  });
}

describe('seedsFromEnv', () => {
  isolateEnvironment();

  it('lists the default seeds, with SIM_SEEDS and SIM_SEED_START overriding them', () => {
    expect(seedsFromEnv({ seeds: 3 })).toEqual({ seeds: [0, 1, 2] });
    expect(seedsFromEnv({ seeds: 2, seedStart: 10 })).toEqual({ seeds: [10, 11] });
    process.env.SIM_SEEDS = '4';
    process.env.SIM_SEED_START = '100';
    expect(seedsFromEnv({ seeds: 2, seedStart: 10 })).toEqual({ seeds: [100, 101, 102, 103] });
  });

  it('SIM_SEED wins over everything', () => {
    process.env.SIM_SEEDS = '4';
    process.env.SIM_SEED = '77';
    expect(seedsFromEnv({ seeds: 1_000 })).toEqual({ seeds: [77] });
  });

  it('rejects malformed values, naming the variable and the value', () => {
    process.env.SIM_SEED = '12abc';
    expect(() => seedsFromEnv({ seeds: 1 })).toThrow(/SIM_SEED must be an integer, got "12abc"/);
    delete process.env.SIM_SEED;
    process.env.SIM_SEEDS = '1e12';
    expect(() => seedsFromEnv({ seeds: 1 })).toThrow(/SIM_SEEDS.*1e12/);
    delete process.env.SIM_SEEDS;
    expect(() => seedsFromEnv({ seeds: -1 })).toThrow(/-1/);
  });
});

describe('runSeeds', () => {
  isolateEnvironment();

  it('runs each seed in order, awaiting each, and returns the count', async () => {
    const order: string[] = [];
    const count = await runSeeds(
      async (seed) => {
        order.push(`start ${seed}`);
        await new Promise((resolve) => setImmediate(resolve));
        order.push(`end ${seed}`);
      },
      { seeds: 3, seedStart: 5 },
    );
    expect(count).toBe(3);
    expect(order).toEqual(['start 5', 'end 5', 'start 6', 'end 6', 'start 7', 'end 7']);
  });

  it('stops at the first failure, prints seed=N and rethrows with the original as cause', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const original = new Error('invariant broken');
    const ran: number[] = [];
    const failure = await runSeeds(
      (seed) => {
        ran.push(seed);
        if (seed === 3) throw original;
      },
      { seeds: 10 },
    ).catch((error: unknown) => error);
    expect(ran).toEqual([0, 1, 2, 3]);
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toBe('seed=3: invariant broken');
    expect((failure as Error).cause).toBe(original);
    expect(String(printed.mock.calls[0]?.[0])).toMatch(/^seed=3 /);
  });

  it('SIM_SEED replays exactly one seed and prints it when it fails', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    process.env.SIM_SEED = '42';
    const ran: number[] = [];
    expect(await runSeeds((seed) => void ran.push(seed), { seeds: 1_000 })).toBe(1);
    expect(ran).toEqual([42]);
    await expect(
      runSeeds(() => {
        throw new Error('still broken');
      }),
    ).rejects.toThrow(/^seed=42: still broken$/);
    expect(String(printed.mock.calls[0]?.[0])).toContain('seed=42');
  });
});

describe('runSeeds with collectFailures', () => {
  isolateEnvironment();

  it('runs the whole sweep and rejects once, listing every failing seed with its message and keeping each error', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const originals = new Map([3, 7, 8].map((seed) => [seed, new Error(`broken at ${seed}\nsecond line`)]));
    const ran: number[] = [];
    const failure = await runSeeds(
      (seed) => {
        ran.push(seed);
        const original = originals.get(seed);
        if (original !== undefined) throw original;
      },
      { seeds: 10, collectFailures: true },
    ).catch((error: unknown) => error);
    expect(ran).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(failure).toBeInstanceOf(SeedSweepError);
    expect(failure).toBeInstanceOf(AggregateError);
    const sweep = failure as SeedSweepError;
    expect(sweep.message).toBe(
      'seeds=3,7,8: 3 of 10 seeds failed\nseed=3: broken at 3\nseed=7: broken at 7\nseed=8: broken at 8',
    );
    expect(sweep.seeds).toEqual([3, 7, 8]);
    expect(sweep.errors).toEqual([originals.get(3), originals.get(7), originals.get(8)]);
    // Each failure was printed as it happened, through the same line as a sweep that stops.
    expect(printed.mock.calls.map((call) => String(call[0]))).toEqual([
      'seed=3 failed; replay it with SIM_SEED=3',
      'seed=7 failed; replay it with SIM_SEED=7',
      'seed=8 failed; replay it with SIM_SEED=8',
    ]);
    expect(printed.mock.calls[1]?.[1]).toBe(originals.get(7));
  });

  it('resolves with the count when every seed passes, as without the option', async () => {
    expect(await runSeeds(() => undefined, { seeds: 4, collectFailures: true })).toBe(4);
  });

  it('stops at seedFailuresKeptMax failures and says so in the message and the output', async () => {
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    let ran = 0;
    const failure = (await runSeeds(
      (seed) => {
        ran++;
        throw new Error(`seed ${seed} broke`);
      },
      { seeds: seedFailuresKeptMax + 50, seedStart: 1_000, collectFailures: true },
    ).catch((error: unknown) => error)) as SeedSweepError;
    expect(ran).toBe(seedFailuresKeptMax);
    expect(failure.seeds).toHaveLength(seedFailuresKeptMax);
    expect(failure.errors).toHaveLength(seedFailuresKeptMax);
    expect(failure.message).toMatch(
      new RegExp(
        `^seeds=1000,1001,.*,${1_000 + seedFailuresKeptMax - 1}: ${seedFailuresKeptMax} of ${seedFailuresKeptMax} seeds failed; stopped at seedFailuresKeptMax \\(${seedFailuresKeptMax}\\) failures, 50 seeds not run\n`,
      ),
    );
    expect(String(printed.mock.calls.at(-1)?.[0])).toMatch(/stopping after seedFailuresKeptMax/);
  });

  it('keeps a long message to its first line, cut, in the summary (the full error stays in errors)', async () => {
    vi.spyOn(console, 'error').mockImplementation(() => undefined);
    const long = new Error(`${'x'.repeat(1_000)}\ntrace`);
    const failure = (await runSeeds(
      () => {
        throw long;
      },
      { seeds: 1, collectFailures: true },
    ).catch((error: unknown) => error)) as SeedSweepError;
    expect(failure.message.length).toBeLessThan(300);
    expect(failure.errors[0]).toBe(long);
  });

  it('refuses a run that is not a function and malformed options with BAD_REQUEST before any seed runs', async () => {
    await expect(runSeeds(42 as never)).rejects.toThrow(/^BAD_REQUEST: runSeeds: run must be a function, got 42$/);
    let ran = 0;
    await expect(runSeeds(() => void ran++, { collectFailures: 'yes' as never })).rejects.toThrow(
      /^BAD_REQUEST: runSeeds: collectFailures must be a boolean, got "yes"$/,
    );
    await expect(runSeeds(() => void ran++, { seeds: 10n as never })).rejects.toThrow(/^BAD_REQUEST: .*10n/);
    expect(ran).toBe(0);
  });
});

describe('testTier and tierCount', () => {
  afterEach(() => {
    delete process.env.FOS_TEST_TIER;
  });

  it('run the fast counts unless FOS_TEST_TIER=long, and refuse any other tier', () => {
    expect([testTier(), tierCount({ fast: 10, long: 1_000 })]).toEqual(['fast', 10]);
    process.env.FOS_TEST_TIER = 'long';
    expect([testTier(), tierCount({ fast: 10, long: 1_000 })]).toEqual(['long', 1_000]);
    process.env.FOS_TEST_TIER = 'fast';
    expect(tierCount({ fast: 10, long: 1_000 })).toBe(10);
    process.env.FOS_TEST_TIER = 'longer';
    expect(() => testTier()).toThrow(/FOS_TEST_TIER.*"longer"/);
    delete process.env.FOS_TEST_TIER;
    expect(() => tierCount({ fast: -1, long: 1 })).toThrow(/-1/);
  });
});
