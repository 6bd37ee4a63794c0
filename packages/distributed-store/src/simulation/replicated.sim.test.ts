// The replicated store under the deterministic simulator: every seed (SIM_SEEDS, SIM_SEED_START, or
// SIM_SEED=N to replay one) runs 1 to 8 members with random traffic, joins and leaves; after it, the
// history is linearizable per key at every member, every client returned, every replica holds the
// same table, every member knows the same members, no arbiter is held and nothing waits. A longer
// sweep runs outside CI: `pnpm --filter @fos/distributed-store sim`.
import { seedsFromEnv, tierCount } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { progressFailures, runFailures } from './checks.js';
import { waitDieRules, withStoreRules } from '../internal/rules.js';
import { plantedBugRules, type PlantedBugs } from './planted-bugs.js';
import { simulateStore, type LogicalOperation } from './simulation.js';
import { sweepSeeds } from './sweep-seeds.js';

/** Seeds of each workload: 1,000 in `pnpm test`, 20,000 in `pnpm test:long`. */
const seedsPerWorkload = tierCount({ fast: 1_000, long: 20_000 });
/** What bounds a hang of one sweep (it grows with the tier's seeds). */
const sweepTimeoutMs = tierCount({ fast: 120_000, long: 2_400_000 });

function seeds(defaultCount: number): number[] {
  return seedsFromEnv({ seeds: defaultCount, seedStart: 1 }).seeds;
}

describe('replicated store under simulation', () => {
  it(
    'is linearizable, converges and quiesces on every seed',
    () => {
      let operations = 0;
      let committed = 0;
      for (const seed of seeds(seedsPerWorkload)) {
        const run = simulateStore(seed);
        const failures = runFailures(run);
        expect(
          failures,
          `seed=${seed} membership ${run.membership.join(' ')}\n${failures.join('\n')}\nlast deliveries:\n${run.trace}`,
        ).toEqual([]);
        operations += run.history.length;
        committed += run.history.filter((operation) => 'ok' in operation.output).length;
      }
      expect(operations).toBeGreaterThan(0);
      expect(committed).toBeGreaterThan(0);
    },
    sweepTimeoutMs,
  );
});

describe('progress under contention (no livelock)', () => {
  it(
    'commits one of every group of contending read-modify-writes, retried on CONFLICT, on every seed',
    () => {
      let retried = 0;
      for (const seed of seeds(seedsPerWorkload)) {
        const run = simulateStore(seed, { workload: 'contended' });
        const failures = runFailures(run);
        expect(
          failures,
          `seed=${seed} membership ${run.membership.join(' ')}\n${failures.join('\n')}\nlast deliveries:\n${run.trace}`,
        ).toEqual([]);
        retried += run.logical.filter((operation) => operation.attempts > 1).length;
      }
      expect(retried).toBeGreaterThan(0);
    },
    sweepTimeoutMs,
  );

  it('reports a group in which nothing committed: without retries, wait-die refusals leave groups empty-handed', () => {
    let found: string | undefined;
    for (let seed = 1; seed <= 100 && found === undefined; seed++) {
      found = runFailures(simulateStore(seed, { workload: 'contended', retries: 0 })).find((failure) =>
        failure.startsWith('no progress'),
      );
    }
    expect(found).toMatch(/^no progress on "h[12]": \d+ contending read-modify-write\(s\), none committed/);
  });

  it('groups read-modify-writes of one key that overlap in time, directly or through others', () => {
    const op = (
      client: number,
      key: string,
      call: number,
      ret: number,
      outcome: LogicalOperation['outcome'],
    ): LogicalOperation => ({ client, key, op: 'set', call, return: ret, attempts: 1, outcome });
    // [1,4] and [3,8] overlap, [6,9] overlaps the second: one group, and its one commit is enough.
    expect(
      progressFailures([op(0, 'k', 1, 4, 'exhausted'), op(1, 'k', 3, 8, 'exhausted'), op(2, 'k', 6, 9, 'ok')]),
    ).toEqual([]);
    // [10,12] starts after the group ended: a group of its own, with nothing committed.
    expect(progressFailures([op(0, 'k', 1, 4, 'ok'), op(1, 'k', 10, 12, 'exhausted')])).toHaveLength(1);
    // Another key is another group; an unneeded remove contends with nothing.
    expect(
      progressFailures([op(0, 'k', 1, 4, 'ok'), op(1, 'j', 2, 3, 'exhausted'), op(2, 'k', 2, 3, 'unneeded')]),
    ).toEqual([
      'no progress on "j": 1 contending read-modify-write(s), none committed: client 1 set [2, 3] 1 attempt(s)',
    ]);
  });
});

describe('the simulation finds planted bugs', () => {
  const bugs: Array<keyof PlantedBugs> = ['originateWhileHolding', 'voteWithoutPrecondition', 'modifyDuringJoin'];
  it.each(bugs)(
    'finds %s within 1,000 seeds',
    (bug) => {
      let found: number | undefined;
      for (let seed = 1; seed <= 1000 && found === undefined; seed++) {
        if (runFailures(simulateStore(seed, { plantedBugs: { [bug]: true } })).length > 0) found = seed;
      }
      expect(found, `no seed in 1..1000 caught ${bug}`).toBeDefined();
    },
    sweepTimeoutMs,
  );
});

describe('experiment (b): the thesis’s own preemption rule', () => {
  it('loses updates: on seed 14 two conflicting inserts of "h2" both succeed', () => {
    const run = simulateStore(14, { plantedBugs: { thesisPreemption: true } });
    const failures = runFailures(run).join('\n');
    expect(failures).toContain('not linearizable');
    expect(failures).toMatch(/insert\("h2", "c2\.0"\) → ok/);
    expect(failures).toMatch(/insert\("h2", "c3\.0"\) → ok/);
    // The same seed under the rules of this package is correct.
    expect(runFailures(simulateStore(14))).toEqual([]);
  });
});

describe('the simulation refuses what it cannot run', () => {
  it('refuses options out of their bounds and unknown planted bugs before anything runs', () => {
    expect(() => simulateStore(1, { clients: 1e9 })).toThrow(
      /^BAD_REQUEST: clients 1000000000 is not an integer in \[0, 64\]$/,
    );
    expect(() => simulateStore(1, { members: 0 })).toThrow(/^BAD_REQUEST: members 0 is not an integer in \[1, 16\]$/);
    expect(() => simulateStore(1.5)).toThrow(/^BAD_REQUEST: seed 1.5 is not an integer/);
    expect(() => simulateStore(1, { plantedBugs: { fasterCommit: true } as never })).toThrow(
      /^BAD_REQUEST: "fasterCommit" is not a planted bug/,
    );
    expect(() => plantedBugRules(null as never)).toThrow(/^BAD_REQUEST: the planted bugs is not an object: null$/);
  });

  it('runs a negative seed (its install parts were a negative size, which the members refused)', () => {
    expect(runFailures(simulateStore(-90, { members: 2, clients: 1, membershipChanges: 1 }))).toEqual([]);
  });

  it('refuses a sweep whose count is not an integer (NaN ran no seed and reported no failure)', () => {
    expect(() => sweepSeeds({ first: 1, count: Number.NaN, workloads: ['mixed'] })).toThrow(
      /^BAD_REQUEST: count NaN is not an integer/,
    );
    expect(() => sweepSeeds({ first: 1, count: 1, workloads: ['heavy' as never] })).toThrow(
      /^BAD_REQUEST: workload "heavy" is not mixed or contended$/,
    );
  });

  it('gives rules only to options that can take them (frozen options threw a TypeError)', () => {
    expect(() => withStoreRules(Object.freeze({ name: 'a', peers: [] }), waitDieRules)).toThrow(
      /^BAD_REQUEST: the options \{"name":"a","peers":\[\]\} cannot take rules \(frozen/,
    );
    expect(() => withStoreRules({ name: 'a', peers: [] }, { ...waitDieRules, arbitrate: 'wait-die' as never })).toThrow(
      /^BAD_REQUEST: the arbitrate rule is not a function/,
    );
  });
});
