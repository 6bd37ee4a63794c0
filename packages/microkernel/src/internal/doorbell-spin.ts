// When a worker core spins on its doorbell before it sleeps: a pure state machine, so the policy is
// tested without threads or time (worker-host.ts feeds it what each spin found).
import { assert } from '@fos/base';
import { workerSpinSkipsMax } from '../worker-fabric.js';

/**
 * What a core's doorbell loop does after ring traffic: spin for `spinMicros` (an answer that comes while
 * the core still holds its CPU costs no wake-up), or sleep at once.
 *
 * A spin pays only while the thread that will answer runs at the same time on another CPU. When the
 * machine's CPUs are all taken (more busy threads than CPUs: other processes, or more cores than CPUs),
 * the answer usually cannot come until the spinning thread gives its CPU up, so the spin only burns the
 * core's share of the CPU and holds off the very thread it waits for. So: a core spins while its spins
 * find the doorbell rung; a lone spin that finds nothing changes nothing (an answer was late), the
 * second in a row skips the spin of the next wait, and each one after that doubles the waits skipped
 * (1, 3, 7, ... up to {@link workerSpinSkipsMax}); then it tries a spin again. One spin that finds the
 * bell rung brings spinning back at once.
 */
export class DoorbellSpin {
  readonly #spinMicros: number;
  /** Spins in a row that found nothing (capped where the skips reach their maximum). */
  #missStreak = 0;
  /** Waits left to sleep through without spinning. */
  #skipsLeft = 0;

  /** `spinMicros`: how long one spin lasts, in µs (0: never spin). */
  constructor(spinMicros: number) {
    assert(Number.isInteger(spinMicros), 'spinMicros is an integer');
    assert(spinMicros >= 0, 'spinMicros is not negative');
    this.#spinMicros = spinMicros;
  }

  /** How long to spin on this wait, in µs: the full spin, or 0 while backing off (which counts this wait). */
  next(): number {
    if (this.#skipsLeft > 0) {
      this.#skipsLeft--;
      return 0;
    }
    return this.#spinMicros;
  }

  /** Reports how the spin that {@link next} allowed ended: `rang` if the doorbell rang during it. */
  spun(rang: boolean): void {
    assert(this.#spinMicros > 0, 'a core that never spins reports no spin');
    assert(this.#skipsLeft === 0, 'a spin is reported only when one was allowed');
    if (rang) {
      this.#missStreak = 0;
      return;
    }
    // 0 after the first in a row (a lone late answer says little), then 1, 3, 7, ... up to the maximum.
    const skips = Math.min(2 ** this.#missStreak - 1, workerSpinSkipsMax);
    if (skips < workerSpinSkipsMax) this.#missStreak++;
    this.#skipsLeft = skips;
  }

  /** Waits still to be slept through without spinning (for tests and statistics). */
  get skipsLeft(): number {
    return this.#skipsLeft;
  }
}
