// The benchmarks of the name service and of sending by name, each set up for real and run for one tiny
// round of its measured workload and its baseline. Nothing here is timed: a sample only has to be a
// positive rate.
import { describe, expect, it } from 'vitest';
import { allBenchmarks } from './benchmarks/index.js';
import { lookupRpc } from './benchmarks/lookup-rpc.js';
import { register } from './benchmarks/register.js';
import { sendCached } from './benchmarks/send-cached.js';
import type { Benchmark } from './harness.js';

async function oneRoundEach(benchmark: Benchmark): Promise<{ measured: number; baseline: number }> {
  const session = await benchmark.run();
  try {
    return { measured: await session.measured(), baseline: await session.baseline() };
  } finally {
    await session.close();
  }
}

describe('the name-service and send-by-name benchmarks', () => {
  it('are registered, after the existing ones, with their baselines', () => {
    const pairs = allBenchmarks().map((benchmark) => [benchmark.name, benchmark.baselineName, benchmark.unit]);
    expect(pairs.slice(-3)).toEqual([
      ['lookup-rpc', 'dispatcher-call', 'lookups/s'],
      ['send-cached', 'raw-call', 'roundtrips/s'],
      ['register', 'lookup-rpc', 'pairs/s'],
    ]);
  });

  it.each([
    ['lookup-rpc', lookupRpc({ lookups: 5, rounds: 1, warmupRounds: 0 })],
    ['send-cached', sendCached({ roundTrips: 5, warmCalls: 2, rounds: 1, warmupRounds: 0 })],
    ['register', register({ pairs: 3, lookups: 5, rounds: 1, warmupRounds: 0 })],
  ])('%s runs a round of its workload and of its baseline', async (_, benchmark) => {
    const { measured, baseline } = await oneRoundEach(benchmark);
    expect(measured).toBeGreaterThan(0);
    expect(Number.isFinite(measured)).toBe(true);
    expect(baseline).toBeGreaterThan(0);
    expect(Number.isFinite(baseline)).toBe(true);
  });

  it('report their settings: one in flight, the client on core 1, 64-byte echo payloads', () => {
    for (const benchmark of [lookupRpc(), sendCached(), register()]) {
      expect(benchmark.settings).toMatchObject({ fabric: 'local', inFlight: 1, clientCore: 1 });
    }
    expect(sendCached().settings).toMatchObject({ bodyBytes: 64, echoCore: 2 });
  });
});
