import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  formatResultLine,
  goalVerdict,
  formatSignificant,
  gridPointRounds,
  median,
  runBenchmark,
  significant,
  summarize,
  type Benchmark,
  type BenchmarkResult,
  type MachineInfo,
} from './harness.js';

const machine: MachineInfo = { cpus: 8, model: 'Test CPU', node: 'v20.0.0', platform: 'linux-x64' };
const date = new Date('2025-01-02T03:04:05.000Z');

/** A benchmark whose samples are scripted, and that records the order of its calls. */
function scripted(
  measured: number[],
  baseline: number[],
  overrides: Partial<Benchmark> = {},
): { benchmark: Benchmark; calls: string[] } {
  const calls: string[] = [];
  const benchmark: Benchmark = {
    name: 'fake-roundtrip',
    unit: 'roundtrips/s',
    baselineName: 'fake-baseline',
    settings: { bodyBytes: 64, inFlight: 1 },
    rounds: 3,
    warmupRounds: 1,
    run: async () => {
      calls.push('run');
      return {
        measured: async () => {
          calls.push('measured');
          return measured.shift() ?? Number.NaN;
        },
        baseline: async () => {
          calls.push('baseline');
          return baseline.shift() ?? Number.NaN;
        },
        close: async () => {
          calls.push('close');
        },
      };
    },
    ...overrides,
  };
  return { benchmark, calls };
}

describe('median', () => {
  it('takes the middle sample of an odd count and the mean of the middle two of an even one', () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it('does not reorder its input, and refuses no samples', () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('gridPointRounds', () => {
  it('throws the discarded rounds away and takes the median of the timed ones', async () => {
    const values = [1000, 3, 9, 5];
    let next = 0;
    const point = await gridPointRounds(
      async () => ({ rate: values[next++]! }),
      (result) => result.rate,
      1,
      3,
    );
    expect(point).toEqual({ value: 5, rounds: [{ rate: 3 }, { rate: 9 }, { rate: 5 }] });
    expect(next).toBe(4);
  });
});

describe('significant digits', () => {
  it('rounds to 3 significant digits', () => {
    expect(significant(123_456)).toBe(123_000);
    expect(significant(0.0123456)).toBe(0.0123);
    expect(significant(1.9996)).toBe(2);
    expect(significant(0)).toBe(0);
  });

  it('never prints an exponent', () => {
    expect(formatSignificant(123_456_789)).toBe('123000000');
    expect(formatSignificant(0.000123456)).toBe('0.000123');
    expect(formatSignificant(2)).toBe('2');
  });
});

describe('formatResultLine', () => {
  it('prints name, value, unit, ratio and baseline', () => {
    expect(
      formatResultLine({
        name: 'ukSend-roundtrip',
        value: 41_234,
        unit: 'roundtrips/s',
        ratio: 0.31249,
        baselineName: 'messagechannel-roundtrip',
      }),
    ).toBe('RESULT ukSend-roundtrip 41200 roundtrips/s ratio=0.312 vs messagechannel-roundtrip');
  });
});

describe('goalVerdict', () => {
  it('says whether a bound on the ratio is met, and by how much it was missed', () => {
    expect(goalVerdict('ratio >= 0.3', 0.31)).toBe('goal >= 0.3: met (ratio=0.31)');
    expect(goalVerdict('ratio >= 0.3', 0.0621)).toBe('goal >= 0.3: not met (ratio=0.0621, 4.83x from it)');
    expect(goalVerdict('ratio <= 2 (latency)', 1.5)).toBe('goal <= 2: met (ratio=1.5)');
    expect(goalVerdict('ratio <= 2', 3)).toBe('goal <= 2: not met (ratio=3, 1.5x from it)');
  });

  it('leaves other goals to the benchmark', () => {
    expect(goalVerdict('>= 5.6 x one member', 9)).toBeUndefined();
    expect(goalVerdict(undefined, 1)).toBeUndefined();
    expect(goalVerdict(0.3, 1)).toBeUndefined();
  });
});

describe('summarize', () => {
  it('takes the medians and their ratio, rounded to 3 significant digits', () => {
    const { benchmark } = scripted([], []);
    const result = summarize(benchmark, { measured: [100, 300, 200], baseline: [900, 300, 600] }, machine, date);
    expect(result).toMatchObject({
      value: 200,
      baselineValue: 600,
      ratio: 0.333,
      rounds: 3,
      date: '2025-01-02T03:04:05.000Z',
      machine,
    });
  });

  it('refuses a baseline that measured nothing', () => {
    const { benchmark } = scripted([], []);
    expect(() => summarize(benchmark, { measured: [1], baseline: [0] }, machine, date)).toThrow(/fake-baseline/);
  });
});

describe('runBenchmark', () => {
  let directory: string;
  beforeEach(async () => {
    directory = await mkdtemp(join(tmpdir(), 'fos-bench-'));
  });
  afterEach(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('warms up, alternates the rounds, writes the JSON and prints the RESULT line last', async () => {
    const { benchmark, calls } = scripted([1, 10, 30, 20], [999, 40, 40, 80]);
    const lines: string[] = [];
    const result = await runBenchmark(benchmark, {
      resultsDirectory: directory,
      print: (line) => lines.push(line),
      machine,
      date,
    });
    expect(calls).toEqual([
      'run',
      'measured',
      'baseline',
      'measured',
      'baseline',
      'measured',
      'baseline',
      'measured',
      'baseline',
      'close',
    ]);
    expect(result.samples).toEqual({ measured: [10, 30, 20], baseline: [40, 40, 80] });
    expect(lines.at(-1)).toBe('RESULT fake-roundtrip 20 roundtrips/s ratio=0.5 vs fake-baseline');
    expect(lines[1]).toBe(`  on Node ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.model})`);
    const written = JSON.parse(await readFile(join(directory, 'fake-roundtrip.json'), 'utf8')) as BenchmarkResult;
    expect(written).toEqual({
      name: 'fake-roundtrip',
      unit: 'roundtrips/s',
      value: 20,
      baselineName: 'fake-baseline',
      baselineValue: 40,
      ratio: 0.5,
      settings: { bodyBytes: 64, inFlight: 1 },
      machine,
      rounds: 3,
      samples: { measured: [10, 30, 20], baseline: [40, 40, 80] },
      date: '2025-01-02T03:04:05.000Z',
    });
  });

  it('creates the results directory and closes the session when a round fails', async () => {
    const failing = scripted([], []);
    const benchmark: Benchmark = {
      ...failing.benchmark,
      run: async () => {
        const session = await failing.benchmark.run();
        return { ...session, baseline: () => Promise.reject(new Error('baseline broke')) };
      },
    };
    await expect(
      runBenchmark(benchmark, { resultsDirectory: join(directory, 'nested'), print: () => undefined, machine, date }),
    ).rejects.toThrow('baseline broke');
    expect(failing.calls.at(-1)).toBe('close');
    const { benchmark: good } = scripted([5], [10], { rounds: 1, warmupRounds: 0 });
    await runBenchmark(good, { resultsDirectory: join(directory, 'nested'), print: () => undefined, machine, date });
    expect(JSON.parse(await readFile(join(directory, 'nested', 'fake-roundtrip.json'), 'utf8'))).toMatchObject({
      ratio: 0.5,
    });
  });

  it('refuses bad round counts and names', async () => {
    const options = { resultsDirectory: directory, print: () => undefined };
    await expect(runBenchmark(scripted([], [], { rounds: 0 }).benchmark, options)).rejects.toThrow(/rounds/);
    await expect(runBenchmark(scripted([], [], { warmupRounds: -1 }).benchmark, options)).rejects.toThrow(
      /warmupRounds/,
    );
    await expect(runBenchmark(scripted([], [], { name: '../escape' }).benchmark, options)).rejects.toThrow(/name/);
  });
});
