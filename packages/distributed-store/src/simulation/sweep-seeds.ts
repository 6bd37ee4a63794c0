import { checkedSweepOptions } from './arguments.js';
import { runFailures } from './checks.js';
import type { PlantedBugs } from './planted-bugs.js';
import { simulateStore, type SimulationWorkload } from './simulation.js';

/** A seed that failed under one workload, with its reasons. */
export type SweepFailure = {
  readonly seed: number;
  readonly workload: SimulationWorkload;
  readonly reasons: readonly string[];
};

/** Options of {@link sweepSeeds}. */
export type SweepOptions = {
  readonly first: number;
  readonly count: number;
  /** Each seed runs under each of these, in order. */
  readonly workloads: readonly SimulationWorkload[];
  readonly plantedBugs?: PlantedBugs;
};

/**
 * Runs seeds `first` to `first + count - 1` under every workload and checks each run; returns the
 * failures. `BAD_REQUEST` for a `first` or `count` (0 to `seedCountMax` of `@fos/sim`) that is not an
 * integer, an unknown workload or planted bug, before any seed runs.
 */
export function sweepSeeds(options: SweepOptions): SweepFailure[] {
  const { first, count, workloads, plantedBugs } = checkedSweepOptions(options);
  const failures: SweepFailure[] = [];
  for (let seed = first; seed < first + count; seed++) {
    for (const workload of workloads) {
      const reasons = runFailures(
        simulateStore(seed, { workload, ...(plantedBugs === undefined ? {} : { plantedBugs }) }),
      );
      if (reasons.length > 0) failures.push({ seed, workload, reasons });
    }
  }
  return failures;
}
