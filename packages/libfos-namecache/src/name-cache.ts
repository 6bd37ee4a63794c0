import { describeValue, FosError, type Clock } from '@fos/base';

/** Lookup results one cache keeps at most (oldest-used evicted first). */
export const nameCacheEntriesMax = 4096;
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
}

/** Options of a {@link NameCache}. */
export interface NameCacheOptions {
  /** The machine clock: entries expire on it (virtual under simulation). */
  readonly clock: Clock;
  readonly entriesMax?: number;
}

interface Cached<R> {
  readonly result: R;
  readonly expiresAtMs: number;
}

/**
 * The private name cache of one process (thesis §4.2.3): Lookup results by name, each until the TTL
 * the name service gave it. It only pulls: nothing is ever pushed into it; the messaging library
 * fills it after a Lookup and invalidates an entry when a delivery through it fails. Bounded: when
 * full, the least recently used entry goes first (expired entries are dropped as soon as they are met).
 *
 * `R` is whatever the messaging library stores (a Lookup result). The user-space channels a process
 * opens are the messaging library's own (it keys them by mailbox and intended name): not kept here.
 */
export class NameCache<R> {
  private readonly clock: Clock;
  private readonly entriesMax: number;
  // Map iteration order is insertion order: re-inserting on every hit keeps the least recently used first.
  private readonly entries = new Map<string, Cached<R>>();
  private counters = { hits: 0, misses: 0, expiries: 0, invalidations: 0, evictions: 0 };

  /** `BAD_REQUEST` for options that are not an object, a clock without `now`, or a bad `entriesMax`. */
  constructor(options: NameCacheOptions) {
    const { clock, entriesMax } = readOptions(options);
    this.clock = clock;
    this.entriesMax = entriesMax;
  }

  /** The cached result for `name`, if present and not expired. `INVALID_NAME` for a name that is not a string. */
  get(name: string): R | undefined {
    checkName(name);
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

  /**
   * Caches `result` for `name` for `ttlMs` (capped at {@link nameCacheTtlMsMax}); 0 or less caches
   * nothing (and forgets what was cached). `INVALID_NAME` for a name that is not a string,
   * `BAD_REQUEST` for a TTL that is not a number (or NaN); either way nothing changes.
   */
  put(name: string, result: R, ttlMs: number): void {
    checkName(name);
    if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs))
      throw new FosError('BAD_REQUEST', `NameCache ttlMs must be a number, got ${describeValue(ttlMs)}`, {
        value: ttlMs,
      });
    this.entries.delete(name);
    if (!(ttlMs > 0)) return;
    if (this.entries.size >= this.entriesMax) this.evictOne();
    this.entries.set(name, { result, expiresAtMs: this.clock.now() + Math.min(ttlMs, nameCacheTtlMsMax) });
  }

  /** Forgets `name` (a delivery through it failed); true if it was cached. `INVALID_NAME` for a name that is not a string. */
  invalidate(name: string): boolean {
    checkName(name);
    const removed = this.entries.delete(name);
    if (removed) this.counters.invalidations++;
    return removed;
  }

  /** Empties the cache. */
  clear(): void {
    this.entries.clear();
  }

  /** Counters. */
  stats(): NameCacheStats {
    return { ...this.counters, entries: this.entries.size };
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

// The checks cost a `typeof` on the send path (every send by name asks the cache); the words of a
// refusal are built only when it refuses.
function checkName(name: unknown): void {
  if (typeof name !== 'string')
    throw new FosError('INVALID_NAME', `${describeValue(name)} is not a string`, { value: name });
}

function refuse(message: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', message, { value });
}

/** The options, read once (a getter or proxy that throws is `BAD_REQUEST`) and checked. */
function readOptions(options: unknown): { clock: Clock; entriesMax: number } {
  if (typeof options !== 'object' || options === null)
    refuse(`NameCache options must be an object, got ${describeValue(options)}`, options);
  let clock: unknown;
  let entriesMax: unknown;
  let hasNow = false;
  try {
    ({ clock, entriesMax } = options as { clock?: unknown; entriesMax?: unknown });
    hasNow = typeof clock === 'object' && clock !== null && typeof (clock as { now?: unknown }).now === 'function';
  } catch {
    refuse(`NameCache options cannot be read: ${describeValue(options)}`, options);
  }
  if (!hasNow) refuse(`NameCache clock must have a method now, got ${describeValue(clock)}`, clock);
  const bound = entriesMax ?? nameCacheEntriesMax;
  if (typeof bound !== 'number' || !Number.isSafeInteger(bound) || bound < 1)
    refuse(`NameCache entriesMax must be a positive integer, got ${describeValue(bound)}`, bound);
  return { clock: clock as Clock, entriesMax: bound };
}
