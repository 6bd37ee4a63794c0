import { assert, copyBody, describeValue, FosError, type MessageBody } from '@fos/base';
import { checkKey, checkRecord, checkVersion, readArgument, refuse } from './internal/arguments.js';
import { tableHash } from './internal/hash.js';
import { storeEntriesMax, storeValueBytesMax } from './limits.js';
import type { Store, Versioned } from './store.js';

/** Options of {@link LocalStore}. */
export interface LocalStoreOptions {
  /** Entries at most; default {@link storeEntriesMax}. */
  readonly entriesMax?: number;
}

/**
 * The single-member, sequential store of the thesis's prototype (footnote 7 of chapter 4): a `Map`
 * in one process. It implements the final {@link Store} interface, so the name service written over
 * it runs unchanged over the replicated store. Values are deep-copied in and out (through the message
 * codec): no caller ever shares an object with the table.
 */
export class LocalStore<V extends MessageBody> implements Store<V> {
  readonly #entries = new Map<string, { readonly value: V; readonly version: number }>();
  readonly #entriesMax: number;

  /** @param options - see {@link LocalStoreOptions} */
  constructor(options: LocalStoreOptions = {}) {
    checkRecord(options, 'the options of a LocalStore');
    const entriesMax =
      readArgument(options, 'the options of a LocalStore', () => options.entriesMax) ?? storeEntriesMax;
    if (typeof entriesMax !== 'number' || !Number.isSafeInteger(entriesMax) || entriesMax < 1)
      refuse(`entriesMax ${describeValue(entriesMax)} is not a positive integer`, entriesMax);
    this.#entriesMax = entriesMax;
  }

  /** Inserts a new entry at version 1. `CONFLICT` when the key exists; `LIMIT_EXCEEDED` when the table is full. */
  async insert(key: string, value: V): Promise<void> {
    checkKey(key);
    const copy = copyBody(value, storeValueBytesMax);
    if (this.#entries.has(key))
      throw new FosError('CONFLICT', `store key ${describeValue(key)} exists already`, { value: key });
    if (this.#entries.size >= this.#entriesMax) {
      throw new FosError(
        'LIMIT_EXCEEDED',
        `store holds entriesMax (${this.#entriesMax}) entries already; cannot insert ${describeValue(key)}`,
        { value: key },
      );
    }
    this.#entries.set(key, { value: copy, version: 1 });
  }

  /** Replaces the entry at `expectedVersion` (its version becomes one more). `CONFLICT` when absent or at another version. */
  async update(key: string, value: V, expectedVersion: number): Promise<void> {
    checkKey(key);
    checkVersion(expectedVersion);
    const copy = copyBody(value, storeValueBytesMax);
    const entry = this.#entries.get(key);
    this.#checkExpected(key, entry, expectedVersion);
    this.#entries.set(key, { value: copy, version: expectedVersion + 1 });
  }

  /** Deletes the entry at `expectedVersion`. `CONFLICT` when absent or at another version. */
  async delete(key: string, expectedVersion: number): Promise<void> {
    checkKey(key);
    checkVersion(expectedVersion);
    this.#checkExpected(key, this.#entries.get(key), expectedVersion);
    this.#entries.delete(key);
  }

  /** The committed entry (a copy), or undefined. */
  async get(key: string): Promise<Versioned<V> | undefined> {
    checkKey(key);
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    return { value: copyBody(entry.value, storeValueBytesMax), version: entry.version };
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** The keys held, sorted. */
  keys(): string[] {
    return [...this.#entries.keys()].sort();
  }

  /** Every entry (copies), sorted by key: for tests and invariant checks. */
  snapshot(): Array<{ readonly key: string; readonly value: V; readonly version: number }> {
    return this.keys().map((key) => {
      const entry = this.#entries.get(key);
      if (entry === undefined) assert(false, 'a listed key is held');
      return { key, value: copyBody(entry.value, storeValueBytesMax), version: entry.version };
    });
  }

  /**
   * FNV-1a 64 (16 hex digits) over a canonical serialization of the sorted table, versions included:
   * equal tables give equal hashes, so a test can check that a refused request changed nothing.
   */
  hash(): string {
    return tableHash(this.snapshot());
  }

  #checkExpected(key: string, entry: { readonly version: number } | undefined, expectedVersion: number): void {
    if (entry === undefined) {
      throw new FosError(
        'CONFLICT',
        `store key ${describeValue(key)} is absent (expected version ${expectedVersion})`,
        { value: key },
      );
    }
    if (entry.version !== expectedVersion) {
      throw new FosError(
        'CONFLICT',
        `store key ${describeValue(key)} is at version ${entry.version}, not ${expectedVersion}`,
        { value: key },
      );
    }
  }
}
