// CPU hogs and the hogged form of a benchmark. Nothing here is timed: the hogs are checked to run
// while a hogged round runs and to be gone after it.
import { describe, expect, it } from 'vitest';
import { benchHelp, selectBenchmarks } from './arguments.js';
import type { Benchmark } from './harness.js';
import { besideHogs, checkHogCount, hogsMax, runningHogCount, startHogs } from './hogs.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A benchmark whose rounds answer how many hogs run while they run. */
function countingBenchmark(): Benchmark & { closed: () => boolean } {
  let closed = false;
  return {
    name: 'count',
    unit: 'hogs',
    baselineName: 'count-baseline',
    settings: { kind: 'test' },
    rounds: 1,
    warmupRounds: 0,
    run: async () => ({
      measured: async () => runningHogCount(),
      baseline: async () => -1,
      close: async () => {
        closed = true;
      },
    }),
    closed: () => closed,
  };
}

describe('startHogs', () => {
  it('starts processes that run until stopped, and stops them all', async () => {
    const hogs = await startHogs(2);
    expect(hogs.pids).toHaveLength(2);
    for (const pid of hogs.pids) expect(alive(pid)).toBe(true);
    expect(runningHogCount()).toBe(2);
    await hogs.stop();
    for (const pid of hogs.pids) expect(alive(pid)).toBe(false);
    expect(runningHogCount()).toBe(0);
  });

  it('refuses a count that is not a whole number in 0..hogsMax, starting nothing', async () => {
    for (const bad of [-1, 1.5, hogsMax + 1, Number.NaN, '2', undefined]) {
      expect(() => checkHogCount(bad)).toThrow(RangeError);
    }
    await expect(startHogs(hogsMax + 1)).rejects.toThrow(/hogsMax/);
    expect(runningHogCount()).toBe(0);
  });
});

describe('besideHogs', () => {
  it('runs the measured workload beside the hogs and the quiet rounds with none, then closes the session', async () => {
    const inner = countingBenchmark();
    const hogged = besideHogs(inner, 3);
    expect(hogged.name).toBe('count-hogged');
    expect(hogged.baselineName).toBe('count-quiet');
    expect(hogged.settings).toMatchObject({ kind: 'test', hogs: 3 });
    const session = await hogged.run();
    expect(await session.measured()).toBe(3);
    expect(runningHogCount()).toBe(0);
    // The quiet round is the measured workload, not the benchmark's own baseline.
    expect(await session.baseline()).toBe(0);
    await session.close();
    expect(inner.closed()).toBe(true);
  });
});

describe('selectBenchmarks', () => {
  it('runs every benchmark without arguments, and the named one', () => {
    const all = selectBenchmarks([]);
    expect(Array.isArray(all) && all.length).toBeGreaterThan(2);
    const one = selectBenchmarks(['--', 'send-by-name']);
    expect(Array.isArray(one) && one.map((benchmark) => benchmark.name)).toEqual(['send-by-name']);
  });

  it('with --hogs N, runs the hogged forms of messaging and send-by-name', () => {
    const both = selectBenchmarks(['--hogs', '2']);
    expect(Array.isArray(both) && both.map((benchmark) => benchmark.name)).toEqual([
      'messaging-hogged',
      'send-by-name-hogged',
    ]);
    expect(Array.isArray(both) && Object.keys((both[0] as Benchmark).settings)).not.toContain('grid');
    const one = selectBenchmarks(['send-by-name', '--hogs=1']);
    expect(Array.isArray(one) && one.map((benchmark) => [benchmark.baselineName, benchmark.settings.hogs])).toEqual([
      ['send-by-name-quiet', 1],
    ]);
  });

  it('lists every benchmark with its baseline, and the suites, for --help', () => {
    const help = benchHelp(['peers', 'memory']);
    expect(help).toMatch(/^usage: /);
    expect(help).toContain('  send-by-name (vs ');
    expect(help).toContain('suites (several results in one file):\n  peers\n  memory\n');
  });

  it('answers why for wrong arguments', () => {
    expect(selectBenchmarks(['nope'])).toMatch(/unknown benchmark "nope"/);
    expect(selectBenchmarks(['register', '--hogs', '1'])).toMatch(/no hogged form of "register"/);
    expect(selectBenchmarks(['--hogs'])).toMatch(/--hogs needs a whole number/);
    expect(selectBenchmarks(['--hogs', 'x'])).toMatch(/--hogs needs a whole number/);
    expect(selectBenchmarks(['--hogs', String(hogsMax + 1)])).toMatch(/hogsMax/);
    expect(selectBenchmarks(['--hogs', '1', '--hogs', '2'])).toMatch(/one --hogs at most/);
    expect(selectBenchmarks(['--fast'])).toMatch(/unknown option/);
    expect(selectBenchmarks(['a', 'b'])).toMatch(/one benchmark name at most/);
  });
});
