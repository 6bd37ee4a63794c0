import { nextTurn } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { LocalDelivery } from './local-delivery.js';

describe('delivery between kernels of one thread', () => {
  it('delivers later, never inside the post and not in a microtask of it, in the order posted', async () => {
    const delivery = new LocalDelivery<number>();
    const got: string[] = [];
    delivery.post((n) => got.push(`a${n}`), 1);
    delivery.post((n) => got.push(`b${n}`), 2);
    delivery.post((n) => got.push(`a${n}`), 3);
    expect(got).toEqual([]);
    expect(delivery.pending).toBe(3);
    await Promise.resolve();
    expect(got).toEqual([]);
    await nextTurn();
    expect(got).toEqual(['a1', 'b2', 'a3']);
    expect(delivery.pending).toBe(0);
  });

  it('runs every microtask a delivery queued before the next delivery', async () => {
    const delivery = new LocalDelivery<string>();
    const seen: string[] = [];
    let granted = false;
    // What a kernel does: it settles a request, and a continuation three promise hops later changes a
    // table that the very next message needs (a name server's unchecked reply needs its permit).
    const settle = async (): Promise<void> => {
      await Promise.resolve();
      await Promise.resolve();
      granted = true;
    };
    delivery.post(() => void settle(), 'result');
    delivery.post((message) => seen.push(`${message}:${granted ? 'permitted' : 'refused'}`), 'reply');
    await nextTurn();
    expect(seen).toEqual(['reply:permitted']);
  });

  it('delivers what a receiver posts after what was posted before it', async () => {
    const delivery = new LocalDelivery<string>();
    const got: string[] = [];
    const receive = (message: string): void => {
      got.push(message);
      if (message === 'first') delivery.post(receive, 'reply');
    };
    delivery.post(receive, 'first');
    delivery.post(receive, 'second');
    for (let turn = 0; turn < 3; turn++) await nextTurn();
    expect(got).toEqual(['first', 'second', 'reply']);
  });

  it('lets timers and I/O in under an endless exchange of messages', async () => {
    const delivery = new LocalDelivery<number>();
    let delivered = 0;
    let stopped = false;
    const ping = (n: number): void => {
      delivered++;
      if (!stopped) delivery.post(pong, n + 1);
    };
    const pong = (n: number): void => {
      delivered++;
      if (!stopped) delivery.post(ping, n + 1);
    };
    delivery.post(ping, 0);
    // A timer fires although the two receivers never stop answering each other.
    await new Promise((resolve) => setTimeout(resolve, 5));
    stopped = true;
    expect(delivered).toBeGreaterThan(0);
  });

  it('drops what is queued and every later post once closed', async () => {
    const delivery = new LocalDelivery<number>();
    const got: number[] = [];
    delivery.post((n) => got.push(n), 1);
    delivery.close();
    delivery.post((n) => got.push(n), 2);
    await nextTurn();
    expect(got).toEqual([]);
    expect(delivery.pending).toBe(0);
  });

  it('reports a receiver that throws and goes on with the next messages', async () => {
    const faults: unknown[] = [];
    const delivery = new LocalDelivery<number>((error) => faults.push(error));
    const got: number[] = [];
    const fault = new Error('receiver fault');
    delivery.post(() => {
      throw fault;
    }, 0);
    delivery.post((n) => got.push(n), 1);
    delivery.post((n) => got.push(n), 2);
    await nextTurn();
    expect(got).toEqual([1, 2]);
    expect(faults).toEqual([fault]);
  });

  it('keeps order and loses nothing in a long queue', async () => {
    const delivery = new LocalDelivery<number>();
    const got: number[] = [];
    const count = 1_287;
    for (let n = 0; n < count; n++) delivery.post((m) => got.push(m), n);
    for (let turn = 0; turn < 10 && got.length < count; turn++) await nextTurn();
    expect(got).toEqual(Array.from({ length: count }, (_, n) => n));
  });
});
