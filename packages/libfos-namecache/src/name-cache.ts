import type { Clock } from '@fos/sim';

/** Lookup results one cache keeps at most (oldest-used evicted first). */
export const nameCacheEntriesMax = 4096;
/** Channels one cache keeps at most. */
export const nameCacheChannelsMax = 256;
/** The longest time a cached result may live, whatever TTL it came with, in ms. */
export const nameCacheTtlMsMax = 3_600_000;

/** Counters of a {@link NameCache}. */
export interface NameCacheStats {
  readonly hits: number;
  readonly misses: number;
  readonly expiries: number;
  readonly invalidations: number;
  readonly evictions: number;
  readonly entries: number;
  readonly channels: number;
}

/** Options of a {@link NameCache}. */
export interface NameCacheOptions {
  /** The machine clock: entries expire on it (virtual under simulation). */
  readonly clock: Clock;
  readonly entriesMax?: number;
  readonly channelsMax?: number;
}

interface Cached<R> {
  readonly result: R;
  readonly expiresAtMs: number;
}

/**
 * The private name cache of one process (thesis §4.2.3): Lookup results by name, each until the TTL
 * the name service gave it, and the channels created per *intended* name. It only pulls: nothing is
 * ever pushed into it; the messaging library fills it after a Lookup and invalidates an entry when a
 * delivery through it fails. Bounded: when full, the least recently used entry goes first (expired
 * entries are dropped as soon as they are met).
 *
 * `R` is whatever the messaging library stores (a Lookup result); `C` a channel handle.
 */
export class NameCache<R, C = never> {
  private readonly clock: Clock;
  private readonly entriesMax: number;
  private readonly channelsMax: number;
  // Map iteration order is insertion order: re-inserting on every hit keeps the least recently used first.
  private readonly entries = new Map<string, Cached<R>>();
  private readonly channels = new Map<string, C>();
  private counters = { hits: 0, misses: 0, expiries: 0, invalidations: 0, evictions: 0 };

  constructor(options: NameCacheOptions) {
    this.clock = options.clock;
    this.entriesMax = checkBound(options.entriesMax ?? nameCacheEntriesMax, 'entriesMax');
    this.channelsMax = checkBound(options.channelsMax ?? nameCacheChannelsMax, 'channelsMax');
  }

  /** The cached result for `name`, if present and not expired. */
  get(name: string): R | undefined {
    const cached = this.entries.get(name);
    if (cached === undefined) {
      this.counters.misses++;
      return undefined;
    }
    if (cached.expiresAtMs <= this.clock.now()) {
      this.entries.delete(name);
      this.counters.expiries++;
      this.counters.misses++;
      return undefined;
    }
    this.entries.delete(name);
    this.entries.set(name, cached);
    this.counters.hits++;
    return cached.result;
  }

  /** Caches `result` for `name` for `ttlMs` (capped at {@link nameCacheTtlMsMax}); 0 or less caches nothing. */
  put(name: string, result: R, ttlMs: number): void {
    this.entries.delete(name);
    if (!(ttlMs > 0)) return;
    if (this.entries.size >= this.entriesMax) this.evictOne();
    this.entries.set(name, { result, expiresAtMs: this.clock.now() + Math.min(ttlMs, nameCacheTtlMsMax) });
  }

  /** Forgets `name` (a delivery through it failed); true if it was cached. */
  invalidate(name: string): boolean {
    const removed = this.entries.delete(name);
    if (removed) this.counters.invalidations++;
    return removed;
  }

  /** The channel created for the intended name `name`, if any. */
  channel(name: string): C | undefined {
    return this.channels.get(name);
  }

  /** Keeps a channel under its intended name; returns the channel it replaced (to be closed), if any. */
  setChannel(name: string, channel: C): C | undefined {
    const previous = this.channels.get(name);
    this.channels.delete(name);
    let evicted: C | undefined = previous;
    if (previous === undefined && this.channels.size >= this.channelsMax) {
      const oldest = this.channels.keys().next();
      if (oldest.done !== true) {
        evicted = this.channels.get(oldest.value);
        this.channels.delete(oldest.value);
      }
    }
    this.channels.set(name, channel);
    return evicted;
  }

  /** Forgets the channel of `name`; returns it (to be closed), if there was one. */
  removeChannel(name: string): C | undefined {
    const channel = this.channels.get(name);
    this.channels.delete(name);
    return channel;
  }

  /** Empties the cache (results and channels); returns the channels (to be closed). */
  clear(): C[] {
    const channels = [...this.channels.values()];
    this.entries.clear();
    this.channels.clear();
    return channels;
  }

  /** Counters. */
  stats(): NameCacheStats {
    return { ...this.counters, entries: this.entries.size, channels: this.channels.size };
  }

  private evictOne(): void {
    const now = this.clock.now();
    // Prefer an expired entry; else the least recently used (the first in iteration order).
    for (const [name, cached] of this.entries) {
      if (cached.expiresAtMs <= now) {
        this.entries.delete(name);
        this.counters.expiries++;
        return;
      }
    }
    const oldest = this.entries.keys().next();
    if (oldest.done !== true) {
      this.entries.delete(oldest.value);
      this.counters.evictions++;
    }
  }
}

function checkBound(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`NameCache ${what} must be a positive integer, got ${value}`);
  return value;
}
