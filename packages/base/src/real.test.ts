import { describe, expect, it, vi } from 'vitest';
import { CryptoRandom, nextTurn, SystemClock, writeErrorLine } from './real.js';

describe('SystemClock', () => {
  it('reads wall time in milliseconds, monotonic', () => {
    const clock = new SystemClock();
    const first = clock.now();
    const second = clock.now();
    expect(first).toBeGreaterThan(1.6e12);
    expect(second).toBeGreaterThanOrEqual(first);
  });

  it('fires a timer after its delay', async () => {
    const clock = new SystemClock();
    const startMs = clock.now();
    const firedAtMs = await new Promise<number>((resolve) => clock.setTimer(20, () => resolve(clock.now())));
    // setTimeout may fire up to about a millisecond early by the performance clock's reading.
    expect(firedAtMs - startMs).toBeGreaterThanOrEqual(18);
  });

  it('cancel prevents the callback', async () => {
    const clock = new SystemClock({ unref: true });
    let fired = false;
    clock.setTimer(5, () => (fired = true)).cancel();
    await new Promise<void>((resolve) => clock.setTimer(30, resolve));
    expect(fired).toBe(false);
  });

  it('rejects a negative delay', () => {
    expect(() => new SystemClock().setTimer(-5, () => undefined)).toThrow(/-5/);
    expect(() => new SystemClock().setTimer(Number.NaN, () => undefined)).toThrow(/BAD_REQUEST/);
  });
});

describe('nextTurn', () => {
  it('resolves after the promise jobs and the setImmediate callbacks queued before it', async () => {
    const order: string[] = [];
    setImmediate(() => order.push('immediate'));
    let jobs = 0;
    const queueJob = (): void => {
      if (++jobs < 100) void Promise.resolve().then(queueJob);
      else order.push('jobs');
    };
    queueJob();
    await nextTurn();
    order.push('turn');
    expect(order).toEqual(['jobs', 'immediate', 'turn']);
  });

  it('lets a callback queued during the wait run only on a later turn', async () => {
    const order: string[] = [];
    const waited = nextTurn().then(() => {
      order.push('turn');
      setImmediate(() => order.push('later immediate'));
    });
    await waited;
    expect(order).toEqual(['turn']);
    await nextTurn();
    expect(order).toEqual(['turn', 'later immediate']);
  });
});

describe('CryptoRandom', () => {
  it('gives values in range across its buffer refills', () => {
    const random = new CryptoRandom();
    const values = Array.from({ length: 1_000 }, () => random.nextUint32());
    expect(values.every((value) => Number.isInteger(value) && value >= 0 && value < 2 ** 32)).toBe(true);
    expect(new Set(values).size).toBeGreaterThan(990);
    for (let index = 0; index < 100; index++) {
      expect(random.nextInt(6)).toBeLessThan(6);
      expect(random.nextInt(2 ** 52)).toBeLessThan(2 ** 52);
      const value = random.nextFloat();
      expect(value >= 0 && value < 1).toBe(true);
    }
    const bytes = new Uint8Array(64);
    random.fillBytes(bytes);
    expect(bytes.some((byte) => byte !== 0)).toBe(true);
  });

  it('rejects bad bounds with BAD_REQUEST naming them', () => {
    const random = new CryptoRandom();
    expect(() => random.nextInt(-1)).toThrow(/-1/);
    expect(() => random.nextInt(0)).toThrow(/BAD_REQUEST/);
    expect(() => random.nextInt(2.5)).toThrow(/BAD_REQUEST/);
    expect(() => random.nextInt(2 ** 53)).toThrow(/BAD_REQUEST/);
  });
});

describe('writeErrorLine', () => {
  it('writes the line to standard error', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      writeErrorLine('seed=7 failed');
      expect(spy).toHaveBeenCalledWith('seed=7 failed');
    } finally {
      spy.mockRestore();
    }
  });
});
