import { describeValue, FosError, type Clock, type Timer } from '@fos/base';
import { TimerHeap, type VirtualTimerEntry } from './internal/timer-heap.js';
import { checkDelayMs, checkFunction, refuse } from './internal/validate.js';

/** Most timers one {@link VirtualClock} holds pending at once; a runaway timer loop fails fast instead of exhausting memory. */
export const virtualTimersPendingMax = 1_000_000;

/**
 * Most rounds (distinct firing times) one {@link VirtualClock.advanceTo} call runs; guards against a
 * timer that keeps re-arming itself with a zero delay, which would otherwise never let time pass.
 */
export const virtualClockAdvanceRoundsMax = 10_000_000;

/**
 * A clock whose time moves only when told to: the `Clock` of a simulation (the real one is
 * `SystemClock` of `@fos/base`). Timers fire in (time, creation order) order, so a simulation that
 * drives it from a seed replays exactly. Time never goes backwards.
 */
export class VirtualClock implements Clock {
  #nowMs: number;
  #sequence = 0;
  #pendingCount = 0;
  readonly #heap = new TimerHeap();

  /** @param startMs - the initial time in milliseconds (default 0) */
  constructor(startMs = 0) {
    if (typeof startMs !== 'number' || !Number.isFinite(startMs)) {
      refuse(`VirtualClock: startMs must be a finite number, got ${describeValue(startMs)}`, startMs);
    }
    this.#nowMs = startMs;
  }

  /** Current virtual time in milliseconds. */
  now(): number {
    return this.#nowMs;
  }

  /** Schedules `callback` at `now() + delayMs`; it runs from {@link fireNext} or {@link advanceTo}. */
  setTimer(delayMs: number, callback: () => void): Timer {
    checkDelayMs(delayMs, 'VirtualClock.setTimer');
    checkFunction(callback, 'VirtualClock.setTimer: callback');
    if (this.#pendingCount >= virtualTimersPendingMax) {
      throw new FosError(
        'LIMIT_EXCEEDED',
        `VirtualClock.setTimer: more than virtualTimersPendingMax=${virtualTimersPendingMax} timers pending`,
        { value: this.#pendingCount },
      );
    }
    const entry: VirtualTimerEntry = {
      timeMs: this.#nowMs + delayMs,
      sequence: this.#sequence++,
      callback,
      finished: false,
    };
    this.#heap.push(entry);
    this.#pendingCount++;
    return { cancel: () => this.#cancel(entry) };
  }

  /** Number of timers scheduled and neither fired nor cancelled. */
  get pendingTimers(): number {
    return this.#pendingCount;
  }

  /** Time of the earliest pending timer, or undefined when none is pending. */
  nextTimerAt(): number | undefined {
    return this.#liveHead()?.timeMs;
  }

  /**
   * Advances to the earliest pending timer's time and fires every timer due at that time, in creation
   * order. Timers that those callbacks schedule for the same instant wait for the next call, so a
   * simulator can deliver messages in between. Returns false (and changes nothing) when no timer is pending.
   */
  fireNext(): boolean {
    const head = this.#liveHead();
    if (head === undefined) return false;
    const timeMs = head.timeMs;
    const sequenceEnd = this.#sequence;
    this.#nowMs = Math.max(this.#nowMs, timeMs);
    for (;;) {
      const next = this.#liveHead();
      if (next === undefined || next.timeMs !== timeMs || next.sequence >= sequenceEnd) break;
      this.#heap.pop();
      next.finished = true;
      this.#pendingCount--;
      next.callback();
    }
    return true;
  }

  /** Advances time to `timeMs` (>= now), firing in order every timer due up to then, including ones those timers schedule. */
  advanceTo(timeMs: number): void {
    if (typeof timeMs !== 'number' || !Number.isFinite(timeMs) || timeMs < this.#nowMs) {
      refuse(
        `VirtualClock.advanceTo: timeMs must be a finite number >= now (${this.#nowMs}), got ${describeValue(timeMs)}`,
        timeMs,
      );
    }
    let rounds = 0;
    for (;;) {
      const nextAtMs = this.nextTimerAt();
      if (nextAtMs === undefined || nextAtMs > timeMs) break;
      if (++rounds > virtualClockAdvanceRoundsMax) {
        throw new FosError(
          'LIMIT_EXCEEDED',
          `VirtualClock.advanceTo(${timeMs}): more than virtualClockAdvanceRoundsMax=${virtualClockAdvanceRoundsMax} firing rounds; a timer keeps re-arming itself`,
          { value: timeMs },
        );
      }
      this.fireNext();
    }
    this.#nowMs = timeMs;
  }

  #cancel(entry: VirtualTimerEntry): void {
    if (entry.finished) return;
    entry.finished = true;
    this.#pendingCount--;
    // Cancelled entries leave the heap lazily; rebuild when they dominate so that many cancelled
    // far-future timeouts (the common case for request timers) cannot grow the heap without bound.
    if (this.#heap.size > 1024 && this.#pendingCount * 2 < this.#heap.size) this.#heap.compact();
  }

  #liveHead(): VirtualTimerEntry | undefined {
    for (;;) {
      const head = this.#heap.peek();
      if (head === undefined || !head.finished) return head;
      this.#heap.pop();
    }
  }
}
