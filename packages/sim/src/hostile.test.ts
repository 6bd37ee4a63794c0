import { readFileSync } from 'node:fs';
import { describedCharactersMax, describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  runSeeds,
  seedCountMax,
  SeededRandom,
  seedsFromEnv,
  SimNetwork,
  testTier,
  tierCount,
  VirtualClock,
} from './index.js';

const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
/** A hostile value that is not a function: a function a caller hands in (a deliver function, a timer's callback) is its own code, whose exceptions are documented to propagate. */
const anyNonFunction = anyValue.filter((value) => typeof value !== 'function');
/** A hostile value that is not a count so large that a sweep over it would take minutes (those are tested apart). */
const anyCount = anyValue.filter(
  (value) => !(typeof value === 'number' && Number.isSafeInteger(value) && value > 64 && value <= seedCountMax),
);
/** A well-formed value or a hostile one: most calls then get past their first check. */
const either = <T>(...valid: T[]): fc.Arbitrary<unknown> => fc.oneof(fc.constantFrom(...valid), anyValue);

/** One of each kind of object of this package, with some work in flight, and what a refused call must leave as it was. */
function fixture(): {
  clock: VirtualClock;
  random: SeededRandom;
  twin: SeededRandom;
  network: SimNetwork<unknown>;
  snapshot: () => unknown;
  works: () => Promise<void>;
} {
  const clock = new VirtualClock(10);
  const random = new SeededRandom(7);
  const twin = new SeededRandom(7);
  const network = new SimNetwork<unknown>({ random: new SeededRandom(1), clock, traceEntriesMax: 16 });
  for (const id of ['a', 'b']) network.addEndpoint(id, () => undefined);
  network.send('a', 'b', 'first');
  network.send('b', 'a', { second: 2n });
  network.step();
  clock.setTimer(5, () => undefined);
  const snapshot = (): unknown => ({
    now: clock.now(),
    pendingTimers: clock.pendingTimers,
    nextTimerAt: clock.nextTimerAt(),
    network: [network.inFlight, network.delivered, network.dropped, network.hasWork(), network.trace.hash()],
    crashed: [network.isCrashed('a'), network.isCrashed('b')],
  });
  const works = async (): Promise<void> => {
    // The generator's stream is where its twin's is: a refused call drew nothing.
    expect(random.nextUint32()).toBe(twin.nextUint32());
    clock.setTimer(1, () => undefined);
    const driver = `driver${network.delivered}`;
    network.addEndpoint(driver, () => undefined);
    network.send('a', driver, 'probe');
    await network.runUntilQuiet(1_000);
    expect(network.trace.format(1)).toMatch(/trace hash [0-9a-f]{16}$/);
  };
  return { clock, random, twin, network, snapshot, works };
}

type Fixture = ReturnType<typeof fixture>;

/** The public calls of this package, each with arguments that are well-formed or hostile, and the codes it may answer. */
const calls: ReadonlyArray<{
  name: string;
  codes: readonly FosErrorCode[];
  args: fc.Arbitrary<unknown[]>;
  call: (fixture: Fixture, args: unknown[]) => unknown;
  /** A code this call answers after it has done work (a run that hit its step bound), not as a refusal. */
  afterWork?: FosErrorCode;
}> = [
  {
    name: 'new VirtualClock',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(0, 5.5)),
    call: (_, [a]) => new VirtualClock(a as number),
  },
  {
    name: 'VirtualClock.setTimer',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      either(0, 3),
      fc.oneof(
        fc.constant(() => undefined),
        anyNonFunction,
      ),
    ),
    call: ({ clock }, [a, b]) => clock.setTimer(a as number, b as () => void),
  },
  {
    name: 'VirtualClock.advanceTo',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(10, 12, 100)),
    call: ({ clock }, [a]) => clock.advanceTo(a as number),
  },
  { name: 'VirtualClock.fireNext', codes: [], args: fc.tuple(anyValue), call: ({ clock }) => clock.fireNext() },
  {
    name: 'new SeededRandom',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(0, -3, 2 ** 40)),
    call: (_, [a]) => new SeededRandom(a as number),
  },
  {
    name: 'SeededRandom.nextInt',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(1, 6, 2 ** 33)),
    call: ({ random, twin }, [a]) => {
      random.nextInt(a as number);
      twin.nextInt(a as number); // reached only when the first was accepted
    },
  },
  {
    name: 'SeededRandom.fillBytes',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(new Uint8Array(5))),
    call: ({ random, twin }, [a]) => {
      random.fillBytes(a as Uint8Array);
      twin.fillBytes(new Uint8Array((a as Uint8Array).length));
    },
  },
  {
    name: 'SeededRandom.fork',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either('network', '')),
    call: ({ random }, [a]) => random.fork(a as string),
  },
  {
    name: 'new SimNetwork',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      either(new SeededRandom(1)),
      either(new VirtualClock()),
      either(undefined, 0, 4),
      either(undefined, 1, 9),
    ),
    call: (_, [random, clock, traceEntriesMax, inFlightMessagesMax]) =>
      new SimNetwork({ random, clock, traceEntriesMax, inFlightMessagesMax } as never),
  },
  {
    name: 'new SimNetwork(options)',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(anyValue),
    call: (_, [a]) => new SimNetwork(a as never),
  },
  {
    name: 'SimNetwork.addEndpoint',
    codes: ['BAD_REQUEST', 'NAME_EXISTS'],
    args: fc.tuple(
      either('a', 'c', ''),
      fc.oneof(
        fc.constant(() => undefined),
        anyNonFunction,
      ),
    ),
    call: ({ network }, [a, b]) => network.addEndpoint(a as string, b as () => void),
  },
  {
    name: 'SimNetwork.send',
    codes: ['BAD_REQUEST', 'NO_SUCH_NAME'],
    args: fc.tuple(either('a', 'x'), either('a', 'b', 'nobody'), anyValue, either(undefined, 'k')),
    call: ({ network }, [a, b, c, d]) => network.send(a as string, b as string, c, d as string),
  },
  ...(['removeEndpoint', 'crash', 'pause', 'resume', 'isCrashed'] as const).map((method) => ({
    name: `SimNetwork.${method}`,
    codes: ['BAD_REQUEST', 'NO_SUCH_NAME'] as FosErrorCode[],
    args: fc.tuple(either('a', 'b', 'nobody')),
    call: ({ network }: Fixture, [a]: unknown[]) => network[method](a as string),
  })),
  {
    name: 'SimNetwork.delayStream',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either('a'), either('b'), either(0, 4)),
    call: ({ network }, [a, b, c]) => network.delayStream(a as string, b as string, c as number),
  },
  {
    name: 'SimNetwork.partition',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(fc.oneof(fc.array(fc.array(either('a', 'b', 'c'), { maxLength: 3 }), { maxLength: 3 }), anyValue)),
    call: ({ network }, [a]) => network.partition(a as string[][]),
  },
  {
    name: 'SimNetwork.runUntilQuiet',
    codes: ['BAD_REQUEST', 'LIMIT_EXCEEDED'],
    args: fc.tuple(either(0, 1, 100), fc.oneof(fc.constantFrom(undefined, {}, { until: () => true }), anyNonFunction)),
    call: ({ network }, [a, b]) => network.runUntilQuiet(a as number, b as never),
    afterWork: 'LIMIT_EXCEEDED',
  },
  {
    name: 'SimTrace.format',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(undefined, 0, 3, Infinity)),
    call: ({ network }, [a]) => network.trace.format(a as number),
  },
  {
    name: 'runSeeds',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(
        fc.constant(() => undefined),
        anyNonFunction,
      ),
      fc.oneof(
        fc.record({ seeds: fc.oneof(fc.nat(3), anyCount), seedStart: either(0, 5), collectFailures: either(true) }),
        anyNonFunction,
      ),
    ),
    call: (_, [a, b]) => runSeeds(a as () => void, b as never),
  },
  {
    name: 'seedsFromEnv',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(fc.record({ seeds: fc.oneof(fc.nat(3), anyCount), seedStart: either(undefined, 9) }), anyValue),
    ),
    call: (_, [a]) => seedsFromEnv(a as never),
  },
  {
    name: 'tierCount',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(fc.oneof(fc.record({ fast: either(1), long: either(2) }), anyValue)),
    call: (_, [a]) => tierCount(a as never),
  },
];

const runsPerCall = 500;

describe('any JavaScript value through the public calls of @fos/sim', () => {
  const saved = { seed: process.env.SIM_SEED, seeds: process.env.SIM_SEEDS, start: process.env.SIM_SEED_START };
  beforeEach(() => {
    for (const name of ['SIM_SEED', 'SIM_SEEDS', 'SIM_SEED_START']) delete process.env[name];
  });
  afterEach(() => {
    if (saved.seed !== undefined) process.env.SIM_SEED = saved.seed;
    if (saved.seeds !== undefined) process.env.SIM_SEEDS = saved.seeds;
    if (saved.start !== undefined) process.env.SIM_SEED_START = saved.start;
    vi.restoreAllMocks();
  });

  it(`every call answers success or a documented FosError, and a refused call changes nothing (${runsPerCall} arguments per call)`, async () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const met = new Set<FosErrorCode>();
    let callCount = 0;
    for (const { name, codes, args, call, afterWork } of calls) {
      await fc.assert(
        fc.asyncProperty(args, async (values) => {
          const made = fixture();
          const before = made.snapshot();
          callCount++;
          try {
            await call(made, values);
          } catch (error) {
            if (!isFosError(error) || !codes.includes(error.code))
              throw new Error(
                `${name}(${values.map((value) => describeValue(value)).join(', ')}) threw ${String(error)}`,
              );
            if (error.code === 'BAD_REQUEST')
              expect(error.message.length).toBeLessThan(3 * describedCharactersMax + 200);
            met.add(error.code);
            if (error.code !== afterWork) expect(made.snapshot()).toEqual(before);
          }
          await made.works();
        }),
        { numRuns: runsPerCall },
      );
    }
    expect(callCount).toBeGreaterThanOrEqual(10_000);
    // The README's table of errors names every code the calls answered.
    expect([...met].filter((code) => !documented.has(code))).toEqual([]);
    expect([...met].sort()).toEqual(['BAD_REQUEST', 'LIMIT_EXCEEDED', 'NAME_EXISTS', 'NO_SUCH_NAME']);
  }, 60_000);

  it('a malformed FOS_TEST_TIER is BAD_REQUEST naming it', () => {
    vi.stubEnv('FOS_TEST_TIER', 'longer');
    expect(() => testTier()).toThrow(/^BAD_REQUEST: FOS_TEST_TIER must be "fast" or "long", got "longer"$/);
    vi.unstubAllEnvs();
  });
});
