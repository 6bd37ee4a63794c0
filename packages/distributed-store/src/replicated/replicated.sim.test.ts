// The replicated store under the deterministic simulator: every seed (SIM_SEEDS, SIM_SEED_START, or
// SIM_SEED=N to replay one) runs 1 to 8 members with random traffic, joins and leaves; after it, the
// history is linearizable per key at every member, every client returned, every replica holds the
// same table, every member knows the same members, no arbiter is held and nothing waits. A longer
// sweep runs outside CI: `pnpm --filter @fos/distributed-store sim`.
import { seedsFromEnv } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import type { PlantedBugs } from './member.js';
import { runFailures, simulateStore } from './simulation.js';

function seeds(defaultCount: number): number[] {
  return seedsFromEnv({ seeds: defaultCount, seedStart: 1 }).seeds;
}

describe('replicated store under simulation', () => {
  it('is linearizable, converges and quiesces on every seed', async () => {
    let operations = 0;
    let committed = 0;
    for (const seed of seeds(1000)) {
      const run = await simulateStore(seed);
      const failures = runFailures(run);
      expect(failures, `seed=${seed} membership ${run.membership.join(' ')}\n${failures.join('\n')}\nlast deliveries:\n${run.trace}`).toEqual([]);
      operations += run.history.length;
      committed += run.history.filter((operation) => 'ok' in operation.output).length;
    }
    expect(operations).toBeGreaterThan(0);
    expect(committed).toBeGreaterThan(0);
  }, 120_000);
});

describe('the simulation finds planted bugs', () => {
  const bugs: Array<keyof PlantedBugs> = ['originateWhileHolding', 'voteWithoutPrecondition', 'modifyDuringJoin'];
  it.each(bugs)('finds %s within 1,000 seeds', async (bug) => {
    let found: number | undefined;
    for (let seed = 1; seed <= 1000 && found === undefined; seed++) {
      if (runFailures(await simulateStore(seed, { plantedBugs: { [bug]: true } })).length > 0) found = seed;
    }
    expect(found, `no seed in 1..1000 caught ${bug}`).toBeDefined();
  }, 120_000);
});

describe('experiment (b): the thesis’s own preemption rule', () => {
  it('loses updates: on seed 1 two conflicting inserts of "h2" both succeed', async () => {
    const run = await simulateStore(1, { plantedBugs: { thesisPreemption: true } });
    const failures = runFailures(run).join('\n');
    expect(failures).toContain('not linearizable');
    expect(failures).toMatch(/insert\("h2", "c2\.0"\) → ok/);
    expect(failures).toMatch(/insert\("h2", "c1\.1"\) → ok/);
    // The same seed under the rule of DESIGN section 6 is correct.
    expect(runFailures(await simulateStore(1))).toEqual([]);
  });
});
