/** A scheduled callback that can still be cancelled. */
export interface Timer {
  /** Stops the callback from running; does nothing once it has run or was cancelled already. */
  cancel(): void;
}

/**
 * The one source of time for fos code, injected so that a simulation can replay a run: real
 * (`SystemClock`, this package) in production, virtual (`VirtualClock` of `@fos/sim`) under simulation.
 */
export interface Clock {
  /** Current time in milliseconds. */
  now(): number;
  /** Runs `callback` once after `delayMs` (>= 0) milliseconds; returns a handle to cancel it. */
  setTimer(delayMs: number, callback: () => void): Timer;
}
