import { VirtualClock } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { NameCache, nameCacheTtlMsMax } from './name-cache.js';

describe('NameCache', () => {
  it('serves a result until its TTL, then misses (counting hits, misses and expiries)', () => {
    const clock = new VirtualClock();
    const cache = new NameCache<string>({ clock });
    expect(cache.get('/sys/fs')).toBeUndefined();
    cache.put('/sys/fs', '/sys/fs/2', 100);
    expect(cache.get('/sys/fs')).toBe('/sys/fs/2');
    clock.advanceTo(99);
    expect(cache.get('/sys/fs')).toBe('/sys/fs/2');
    clock.advanceTo(100);
    expect(cache.get('/sys/fs')).toBeUndefined();
    expect(cache.stats()).toMatchObject({ hits: 2, misses: 2, expiries: 1, entries: 0 });
  });

  it('invalidates on demand and caps a TTL', () => {
    const clock = new VirtualClock();
    const cache = new NameCache<number>({ clock });
    cache.put('/a', 1, 10 * nameCacheTtlMsMax);
    expect(cache.invalidate('/a')).toBe(true);
    expect(cache.invalidate('/a')).toBe(false);
    expect(cache.get('/a')).toBeUndefined();
    cache.put('/b', 2, 10 * nameCacheTtlMsMax);
    clock.advanceTo(nameCacheTtlMsMax);
    expect(cache.get('/b')).toBeUndefined();
    cache.put('/c', 3, 0);
    expect(cache.get('/c')).toBeUndefined();
    expect(cache.stats().invalidations).toBe(1);
  });

  it('evicts an expired entry first, else the least recently used', () => {
    const clock = new VirtualClock();
    const cache = new NameCache<string>({ clock, entriesMax: 3 });
    cache.put('/a', 'a', 1000);
    cache.put('/b', 'b', 10);
    cache.put('/c', 'c', 1000);
    clock.advanceTo(20);
    cache.put('/d', 'd', 1000); // /b has expired: it goes
    expect(cache.stats().entries).toBe(3);
    expect(cache.get('/a')).toBe('a'); // /a is now the most recently used; /c the least
    cache.put('/e', 'e', 1000);
    expect(cache.get('/c')).toBeUndefined();
    expect([cache.get('/a'), cache.get('/d'), cache.get('/e')]).toEqual(['a', 'd', 'e']);
    expect(cache.stats().evictions).toBe(1);
  });

  it('clears every entry at once, counting nothing as a hit afterwards', () => {
    const cache = new NameCache<string>({ clock: new VirtualClock() });
    cache.put('/sys/fs', '/sys/fs/2', 1000);
    cache.put('/sys/net', '/sys/net/1', 1000);
    cache.clear();
    expect(cache.stats().entries).toBe(0);
    expect([cache.get('/sys/fs'), cache.get('/sys/net')]).toEqual([undefined, undefined]);
    expect(cache.stats()).toMatchObject({ hits: 0, misses: 2 });
  });

  it('refuses bad bounds with BAD_REQUEST', () => {
    expect(() => new NameCache({ clock: new VirtualClock(), entriesMax: 0 })).toThrow(
      /^BAD_REQUEST: NameCache entriesMax must be a positive integer, got 0$/,
    );
    expect(() => new NameCache({ clock: new VirtualClock(), entriesMax: 2n as never })).toThrow(/got 2n$/);
  });

  it('refuses a clock without now at construction, not at the first get', () => {
    expect(() => new NameCache({ clock: {} as never })).toThrow(/^BAD_REQUEST: NameCache clock must have a method now/);
    expect(() => new NameCache(undefined as never)).toThrow(/^BAD_REQUEST: NameCache options must be an object/);
    const throwing = new Proxy(
      {},
      {
        get: () => {
          throw new Error('no');
        },
      },
    );
    expect(() => new NameCache(throwing as never)).toThrow(/^BAD_REQUEST: NameCache options cannot be read/);
  });

  it('refuses a TTL that is not a number without forgetting what was cached', () => {
    const cache = new NameCache<string>({ clock: new VirtualClock() });
    cache.put('/sys/fs', 'kept', 1000);
    for (const ttlMs of [Symbol('ttl'), 5n, '100', Number.NaN, undefined]) {
      expect(() => cache.put('/sys/fs', 'other', ttlMs as never)).toThrow(
        /^BAD_REQUEST: NameCache ttlMs must be a number/,
      );
    }
    expect(cache.get('/sys/fs')).toBe('kept');
  });

  it('refuses a name that is not a string with INVALID_NAME, counting nothing', () => {
    const cache = new NameCache<string>({ clock: new VirtualClock() });
    cache.put('/a', 'a', 1000);
    for (const call of [
      () => cache.get(7 as never),
      () => cache.put(Symbol('n') as never, 'x', 10),
      () => cache.invalidate({} as never),
    ])
      expect(call).toThrow(/^INVALID_NAME: .* is not a string$/);
    expect(cache.stats()).toEqual({ hits: 0, misses: 0, expiries: 0, invalidations: 0, evictions: 0, entries: 1 });
  });
});
