import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from './clock.js';

describe('VirtualClock', () => {
  it('starts at startMs (default 0) and rejects a non-finite start', () => {
    expect(new VirtualClock().now()).toBe(0);
    expect(new VirtualClock(1_000).now()).toBe(1_000);
    expect(() => new VirtualClock(Number.NaN)).toThrow(
      /^BAD_REQUEST: VirtualClock: startMs must be a finite number, got NaN$/,
    );
  });

  it('fires timers in virtual-time order, ties in creation order', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(30, () => fired.push('c@30'));
    clock.setTimer(10, () => fired.push('a@10'));
    clock.setTimer(20, () => fired.push('b1@20'));
    clock.setTimer(20, () => fired.push('b2@20'));
    clock.setTimer(0, () => fired.push('z@0'));
    expect(clock.pendingTimers).toBe(5);
    while (clock.fireNext()) fired.push(`now=${clock.now()}`);
    expect(fired).toEqual(['z@0', 'now=0', 'a@10', 'now=10', 'b1@20', 'b2@20', 'now=20', 'c@30', 'now=30']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('fires any set of timers sorted by (time, creation order)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 60 }), (delays) => {
        const clock = new VirtualClock();
        const fired: number[] = [];
        delays.forEach((delayMs, index) => clock.setTimer(delayMs, () => fired.push(index)));
        while (clock.fireNext());
        const expected = delays
          .map((_, index) => index)
          .sort((left, right) => delays[left]! - delays[right]! || left - right);
        expect(fired).toEqual(expected);
      }),
    );
  });

  it('cancel prevents a timer and is harmless twice or after firing', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    const cancelled = clock.setTimer(5, () => fired.push('cancelled'));
    const kept = clock.setTimer(5, () => fired.push('kept'));
    cancelled.cancel();
    cancelled.cancel();
    expect(clock.pendingTimers).toBe(1);
    expect(clock.fireNext()).toBe(true);
    kept.cancel();
    expect(fired).toEqual(['kept']);
    expect(clock.pendingTimers).toBe(0);
    expect(clock.nextTimerAt()).toBeUndefined();
  });

  it('keeps the heap small when many far-future timers are cancelled', () => {
    const clock = new VirtualClock();
    for (let index = 0; index < 5_000; index++) clock.setTimer(1_000_000, () => undefined).cancel();
    const last = clock.setTimer(7, () => undefined);
    expect(clock.pendingTimers).toBe(1);
    expect(clock.nextTimerAt()).toBe(7);
    last.cancel();
    expect(clock.fireNext()).toBe(false);
  });

  it('fireNext returns false when nothing is pending and leaves time alone', () => {
    const clock = new VirtualClock(42);
    expect(clock.fireNext()).toBe(false);
    expect(clock.now()).toBe(42);
  });

  it('fireNext leaves a timer re-armed for the same instant to the next call', () => {
    const clock = new VirtualClock();
    let firings = 0;
    const rearm = (): void => {
      firings++;
      clock.setTimer(0, rearm);
    };
    clock.setTimer(0, rearm);
    expect(clock.fireNext()).toBe(true);
    expect(firings).toBe(1);
    expect(clock.fireNext()).toBe(true);
    expect(firings).toBe(2);
  });

  it('advanceTo fires everything due up to the target, including timers set on the way, and sets now', () => {
    const clock = new VirtualClock();
    const fired: string[] = [];
    clock.setTimer(10, () => {
      fired.push(`a@${clock.now()}`);
      clock.setTimer(5, () => fired.push(`b@${clock.now()}`));
      clock.setTimer(50, () => fired.push(`late@${clock.now()}`));
    });
    clock.advanceTo(20);
    expect(fired).toEqual(['a@10', 'b@15']);
    expect(clock.now()).toBe(20);
    expect(clock.nextTimerAt()).toBe(60);
    clock.advanceTo(20);
    expect(clock.now()).toBe(20);
  });

  it('now never goes backwards', () => {
    const clock = new VirtualClock();
    clock.advanceTo(100);
    expect(() => clock.advanceTo(99)).toThrow(/advanceTo.*99/);
    clock.setTimer(0, () => undefined);
    clock.fireNext();
    expect(clock.now()).toBe(100);
  });

  it('refuses a timer callback that is not a function at once (it would otherwise fail later, inside fireNext)', () => {
    const clock = new VirtualClock();
    expect(() => clock.setTimer(5, 'later' as never)).toThrow(
      /^BAD_REQUEST: VirtualClock.setTimer: callback must be a function, got "later"$/,
    );
    expect([clock.pendingTimers, clock.fireNext()]).toEqual([0, false]);
  });

  it('rejects negative and non-finite delays with the value in the message', () => {
    const clock = new VirtualClock();
    expect(() => clock.setTimer(-1, () => undefined)).toThrow(/delayMs.*-1/);
    expect(() => clock.setTimer(Number.POSITIVE_INFINITY, () => undefined)).toThrow(/^BAD_REQUEST: .*Infinity/);
  });
});
