// The real clock and the real source of chance: the one file of fos that reads the time, sets real
// timers, waits for the event loop or draws from the operating system's generator. Everything else
// takes a Clock and a RandomSource from whoever runs it (a simulation replays a run only so), and waits
// for the event loop through nextTurn.
import { randomFillSync, randomInt } from 'node:crypto';
import type { Clock, Timer } from './clock.js';
import { describeValue } from './describe.js';
import { FosError } from './errors.js';
import { Uint32RandomSource } from './random.js';

/**
 * Longest delay one Node.js `setTimeout` can wait (2^31 - 1 ms, about 24.8 days). Node fires longer
 * delays at once with a warning, so {@link SystemClock} chains timers instead.
 */
export const systemTimerDelayMsMax = 2 ** 31 - 1;

/** Options of {@link SystemClock}. */
export interface SystemClockOptions {
  /**
   * Whether a pending timer should let the Node.js process exit (`timeout.unref()`); default false.
   * Long-lived background timers (heartbeats) use true so they never keep a finished program alive.
   */
  unref?: boolean;
}

/** The real clock: wall time in milliseconds since the Unix epoch and `setTimeout` timers. */
export class SystemClock implements Clock {
  readonly #unref: boolean;

  /** @param options - see {@link SystemClockOptions} */
  constructor(options: SystemClockOptions = {}) {
    this.#unref = options.unref ?? false;
  }

  /** Milliseconds since the Unix epoch, with sub-millisecond resolution and monotonic within this process. */
  now(): number {
    // timeOrigin + now() is monotonic (performance.now never steps back), unlike the wall clock.
    return performance.timeOrigin + performance.now();
  }

  /** Runs `callback` once after `delayMs` milliseconds of real time; `BAD_REQUEST` names a negative or non-finite delay. */
  setTimer(delayMs: number, callback: () => void): Timer {
    if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
      throw new FosError(
        'BAD_REQUEST',
        `SystemClock.setTimer: delayMs must be a finite number >= 0, got ${describeValue(delayMs)}`,
        { value: delayMs },
      );
    }
    let cancelled = false;
    let handle: NodeJS.Timeout | undefined;
    const schedule = (remainingMs: number): void => {
      const stepMs = Math.min(remainingMs, systemTimerDelayMsMax);
      handle = setTimeout(() => {
        if (cancelled) return;
        if (remainingMs > stepMs) schedule(remainingMs - stepMs);
        else callback();
      }, stepMs);
      if (this.#unref) handle.unref();
    };
    schedule(delayMs);
    return {
      cancel: () => {
        cancelled = true;
        if (handle !== undefined) clearTimeout(handle);
      },
    };
  }
}

/**
 * One turn of the event loop: resolves from a `setImmediate` callback, so after every promise job
 * queued before it and after the I/O callbacks that were ready. For code that must let real I/O or
 * another part of the program run before it goes on; it is not time, and a simulation does not see it.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Writes one line to the process's standard error: the default sink of what a machine or a member
 * reports when nobody gave it a log function, and where a failing seed prints `seed=N`. Library code
 * writes nowhere else on its own. `details` (an error, say) are printed after the line as the console
 * prints them (an error with its stack).
 */
export function writeErrorLine(line: string, ...details: unknown[]): void {
  console.error(line, ...details);
}

/** Words fetched from the operating system at once; one system call then serves many draws. */
const cryptoBufferWords = 256;

/** `node:crypto.randomInt` accepts only ranges below 2^48; larger ones use rejection sampling here. */
const cryptoRandomIntRangeMax = 2 ** 48 - 1;

/** Cryptographically strong randomness from `node:crypto` (`randomFillSync`, `randomInt`); not reproducible. */
export class CryptoRandom extends Uint32RandomSource {
  readonly #buffer = new Uint32Array(cryptoBufferWords);
  #index = cryptoBufferWords;

  /** Uniform integer in [0, 2^32). */
  nextUint32(): number {
    if (this.#index === cryptoBufferWords) {
      randomFillSync(this.#buffer);
      this.#index = 0;
    }
    return this.#buffer[this.#index++]!;
  }

  /** Uniform integer in [0, maxExclusive): `node:crypto.randomInt` below 2^48, rejection sampling above. */
  override nextInt(maxExclusive: number): number {
    // Larger ranges, and bad bounds (which the shared sampler refuses with BAD_REQUEST), go to the sampler.
    if (Number.isSafeInteger(maxExclusive) && maxExclusive >= 1 && maxExclusive <= cryptoRandomIntRangeMax)
      return randomInt(maxExclusive);
    return super.nextInt(maxExclusive);
  }

  /** Fills `bytes` from the operating system's generator. */
  override fillBytes(bytes: Uint8Array): void {
    randomFillSync(bytes);
  }
}
