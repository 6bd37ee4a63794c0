import { readFileSync } from 'node:fs';
import { describedCharactersMax, describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { VirtualClock } from '@fos/sim';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NameCache } from './index.js';

const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
/** A well-formed value or a hostile one: most calls then get past their first check. */
const either = <T>(...valid: T[]): fc.Arbitrary<unknown> => fc.oneof(fc.constantFrom(...valid), anyValue);

/** A small cache with entries, one of them expired, and what a refused call must leave as it was. */
function fixture(): { clock: VirtualClock; cache: NameCache<unknown>; table: () => unknown } {
  const clock = new VirtualClock();
  const cache = new NameCache<unknown>({ clock, entriesMax: 3 });
  cache.put('/sys/fs', { next: '/sys/fs/2' }, 1_000);
  cache.put('/sys/net', 'net', 5);
  clock.advanceTo(10);
  cache.get('/sys/fs');
  // The entries in their order (least recently used first) and the counters: all a call may change.
  const entries = (cache as unknown as { entries: Map<string, unknown> }).entries;
  return { clock, cache, table: () => ({ entries: [...entries], stats: cache.stats() }) };
}

type Fixture = ReturnType<typeof fixture>;

/** The public calls of this package, with well-formed or hostile arguments, and the codes each may answer. */
const calls: ReadonlyArray<{
  name: string;
  codes: readonly FosErrorCode[];
  args: fc.Arbitrary<unknown[]>;
  call: (fixture: Fixture, args: unknown[]) => unknown;
}> = [
  {
    name: 'new NameCache',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(either(new VirtualClock()), either(undefined, 1, 4096)),
    call: (_, [clock, entriesMax]) => new NameCache({ clock, entriesMax } as never),
  },
  {
    name: 'new NameCache(options)',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(anyValue),
    call: (_, [a]) => new NameCache(a as never),
  },
  {
    name: 'get',
    codes: ['INVALID_NAME'],
    args: fc.tuple(either('/sys/fs', '/sys/net', '/none')),
    call: ({ cache }, [a]) => cache.get(a as string),
  },
  {
    name: 'put',
    codes: ['INVALID_NAME', 'BAD_REQUEST'],
    args: fc.tuple(either('/sys/fs', '/new'), anyValue, either(0, -1, 10, 1e12, Infinity)),
    call: ({ cache }, [a, b, c]) => cache.put(a as string, b, c as number),
  },
  {
    name: 'invalidate',
    codes: ['INVALID_NAME'],
    args: fc.tuple(either('/sys/fs', '/none')),
    call: ({ cache }, [a]) => cache.invalidate(a as string),
  },
  { name: 'clear', codes: [], args: fc.tuple(anyValue), call: ({ cache }) => cache.clear() },
  { name: 'stats', codes: [], args: fc.tuple(anyValue), call: ({ cache }) => cache.stats() },
];

const runsPerCall = 1_500;

describe('any JavaScript value through the public calls of @fos/libfos-namecache', () => {
  it(`every call answers success or a documented FosError, and a refused call changes nothing (${runsPerCall} arguments per call)`, () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const met = new Set<FosErrorCode>();
    let callCount = 0;
    for (const { name, codes, args, call } of calls) {
      fc.assert(
        fc.property(args, (values) => {
          const made = fixture();
          const before = made.table();
          callCount++;
          try {
            call(made, values);
          } catch (error) {
            if (!isFosError(error) || !codes.includes(error.code))
              throw new Error(
                `${name}(${values.map((value) => describeValue(value)).join(', ')}) threw ${String(error)}`,
              );
            expect(error.message.length).toBeLessThan(describedCharactersMax + 200);
            met.add(error.code);
            expect(made.table()).toEqual(before);
          }
          // The cache still works: what it is given, it serves.
          made.cache.put('/probe', 'probe', 100);
          expect(made.cache.get('/probe')).toBe('probe');
        }),
        { numRuns: runsPerCall },
      );
    }
    expect(callCount).toBeGreaterThanOrEqual(10_000);
    expect([...met].filter((code) => !documented.has(code))).toEqual([]);
    expect([...met].sort()).toEqual(['BAD_REQUEST', 'INVALID_NAME']);
  }, 180_000);
});
