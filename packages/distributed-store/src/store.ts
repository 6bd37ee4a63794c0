/** An entry of the store with the version it was committed at (1 on insert, +1 on every update). */
export interface Versioned<V> {
  readonly value: V;
  readonly version: number;
}

/**
 * The interface of the distributed data store (thesis Table 4.4), final from the first, single-member
 * store on: every method returns a Promise, update and delete name the version
 * they expect, and any modification may reject with `CONFLICT` (another modification won, or a
 * replicated commit was rolled back); the caller then rewinds and retries.
 */
export interface Store<V> {
  /** Inserts a new entry (version 1). Rejects CONFLICT when the key exists. */
  insert(key: string, value: V): Promise<void>;
  /** Replaces an entry whose version is expectedVersion (version+1). Rejects CONFLICT otherwise (absent or other version). */
  update(key: string, value: V, expectedVersion: number): Promise<void>;
  /** Deletes an entry whose version is expectedVersion. Rejects CONFLICT otherwise. */
  delete(key: string, expectedVersion: number): Promise<void>;
  /** The committed entry, or undefined. */
  get(key: string): Promise<Versioned<V> | undefined>;
}
