import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { workerSpinSkipsMax } from '../worker-fabric.js';
import { DoorbellSpin } from './doorbell-spin.js';

/** Runs `next()`, and reports `rang` when it allowed a spin; answers what `next()` gave. */
function wait(spin: DoorbellSpin, rang: boolean): number {
  const spinMicros = spin.next();
  if (spinMicros > 0) spin.spun(rang);
  return spinMicros;
}

/** How many waits in a row skip their spin, starting now (the waits find nothing). */
function skippedWaits(spin: DoorbellSpin): number {
  let skipped = 0;
  while (spin.next() === 0) skipped++;
  // That `next()` allowed a spin: it found nothing too.
  spin.spun(false);
  return skipped;
}

describe('DoorbellSpin', () => {
  it('spins the full time on every wait while its spins find the doorbell rung', () => {
    const spin = new DoorbellSpin(50);
    for (let index = 0; index < 1_000; index++) expect(wait(spin, true)).toBe(50);
  });

  it('takes a lone spin that found nothing in its stride', () => {
    const spin = new DoorbellSpin(50);
    for (let index = 0; index < 100; index++) {
      expect(wait(spin, index % 2 === 0)).toBe(50);
      expect(spin.skipsLeft).toBe(0);
    }
  });

  it('skips 0, 1, 3, 7, ... waits after spins in a row that found nothing, up to workerSpinSkipsMax', () => {
    const spin = new DoorbellSpin(50);
    expect(wait(spin, false)).toBe(50);
    const skips = Array.from({ length: 10 }, () => skippedWaits(spin));
    expect(skips).toEqual([0, 1, 3, 7, 15, 31, 63, 64, 64, 64]);
    expect(workerSpinSkipsMax).toBe(64);
  });

  it('spins again at once after a probe spin finds the doorbell rung', () => {
    const spin = new DoorbellSpin(50);
    for (let index = 0; index < 12; index++) if (wait(spin, false) === 0) index--;
    expect(spin.skipsLeft).toBe(workerSpinSkipsMax);
    let skipped = 0;
    while (spin.next() === 0) skipped++;
    expect(skipped).toBe(workerSpinSkipsMax);
    spin.spun(true);
    for (let index = 0; index < 10; index++) expect(wait(spin, true)).toBe(50);
    // And the back-off starts over from the bottom.
    expect(wait(spin, false)).toBe(50);
    expect(skippedWaits(spin)).toBe(0);
    expect(skippedWaits(spin)).toBe(1);
  });

  it('never spins with spinMicros 0', () => {
    const spin = new DoorbellSpin(0);
    for (let index = 0; index < 100; index++) expect(spin.next()).toBe(0);
    expect(() => spin.spun(false)).toThrow();
  });

  it('refuses a report of a spin it did not allow', () => {
    const spin = new DoorbellSpin(50);
    spin.spun(false);
    spin.spun(false);
    expect(spin.skipsLeft).toBe(1);
    expect(() => spin.spun(true)).toThrow();
  });

  it('on any sequence of outcomes, spins no more than the model says, and spins again within workerSpinSkipsMax waits', () => {
    fc.assert(
      fc.property(fc.array(fc.boolean(), { maxLength: 2_000 }), (outcomes) => {
        const spin = new DoorbellSpin(50);
        // The model: the misses in a row so far, and the waits left to skip.
        let streak = 0;
        let skipsLeft = 0;
        let sinceSpin = 0;
        for (const rang of outcomes) {
          const spinMicros = spin.next();
          if (skipsLeft > 0) {
            expect(spinMicros).toBe(0);
            skipsLeft--;
            sinceSpin++;
            expect(sinceSpin).toBeLessThanOrEqual(workerSpinSkipsMax);
            continue;
          }
          expect(spinMicros).toBe(50);
          sinceSpin = 0;
          spin.spun(rang);
          streak = rang ? 0 : streak + 1;
          skipsLeft = rang ? 0 : Math.min(2 ** (streak - 1) - 1, workerSpinSkipsMax);
          expect(spin.skipsLeft).toBe(skipsLeft);
        }
      }),
    );
  });
});
