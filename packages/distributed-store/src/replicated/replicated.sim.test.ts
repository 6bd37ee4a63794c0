// The replicated store under the deterministic simulator: every seed (SIM_SEEDS, SIM_SEED_START, or
// SIM_SEED=N to replay one) runs 1 to 8 members with random traffic; after it, every client returned,
// every replica holds the same table, no arbiter is held and nothing waits.
import { describe, expect, it } from 'vitest';
import { simulateStore, type SimulationRun } from './simulation.js';

function seeds(defaultCount: number): number[] {
  const single = process.env.SIM_SEED;
  if (single !== undefined) return [Number(single)];
  const count = Number(process.env.SIM_SEEDS ?? defaultCount);
  const start = Number(process.env.SIM_SEED_START ?? 1);
  return Array.from({ length: count }, (_, index) => start + index);
}

/** The reasons a run is wrong, empty when it is right. */
export function runFailures(run: SimulationRun): string[] {
  const failures: string[] = [];
  if (run.stuckClients > 0) failures.push(`${run.stuckClients} client(s) never got all their answers`);
  failures.push(...run.membershipFailures);
  const serving = run.members.filter((member) => member.serving);
  const tables = serving.map((member) => JSON.stringify(member.snapshot()));
  if (new Set(tables).size > 1) failures.push(`replicas differ:\n${serving.map((member, index) => `  ${member.name}: ${tables[index]}`).join('\n')}`);
  const names = JSON.stringify(serving.map((member) => member.name).sort());
  for (const member of serving) if (JSON.stringify([member.name, ...member.peers].sort()) !== names) failures.push(`${member.name} knows ${JSON.stringify(member.peers)}, the serving members are ${names}`);
  for (const member of run.members) if (!member.quiet) failures.push(`${member.name} is not quiet (an arbiter held, a vote, outcome or membership reply awaited, or a sleeper)`);
  return failures;
}

describe('replicated store under simulation', () => {
  it('converges and quiesces on every seed', async () => {
    let operations = 0;
    let committed = 0;
    for (const seed of seeds(300)) {
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
