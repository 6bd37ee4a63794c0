import type { Store, Versioned } from '@fos/distributed-store';
import { assert, FosError, isUnderSubdomain } from '@fos/base';
import { formatLocation, type MailboxLocation } from '@fos/microkernel';
import type { NameEntry } from '../entry.js';
import type { NameServiceLimits } from '../limits.js';

/** One planned store modification, with what it replaces. */
export interface PlannedWrite {
  readonly key: string;
  readonly before: Versioned<NameEntry> | undefined;
  readonly after: NameEntry | undefined;
}

/** A name a mailbox must accept: an indirect name that reaches the mailbox's direct name. */
export interface AliasPair {
  readonly location: MailboxLocation;
  readonly name: string;
}

type View = 'before' | 'after';

interface Reach {
  readonly reached: ReadonlyMap<string, MailboxLocation>;
  readonly depth: number;
}

/**
 * One attempt of a modifying operation: the entries it read (with their versions) and the entries it
 * plans to write. Planning has no side effects, so a refused request leaves the table unchanged; the
 * writes happen only in the commit, which rewinds them on `CONFLICT`.
 */
export class Workspace {
  readonly #store: Store<NameEntry>;
  readonly #limits: NameServiceLimits;
  readonly #read = new Map<string, Versioned<NameEntry> | undefined>();
  readonly #planned = new Map<string, NameEntry | undefined>();

  constructor(store: Store<NameEntry>, limits: NameServiceLimits) {
    this.#store = store;
    this.#limits = limits;
  }

  /** The entry as this attempt sees it (planned value first), loading it from the store once. */
  async load(key: string): Promise<NameEntry | undefined> {
    if (this.#planned.has(key)) return this.#planned.get(key);
    return (await this.#loadCommitted(key))?.value;
  }

  /**
   * The first name (or sub-domain) under `domain` in this member's copy of the table, read as part of
   * this attempt (so a change to it before the commit is a conflict); undefined when there is none, or
   * when the store cannot list itself (the store interface has no scan: a store without `snapshot()`
   * is not checked).
   */
  async firstNameUnder(domain: string): Promise<string | undefined> {
    const listable = this.#store as Partial<{
      snapshot(): ReadonlyArray<{ readonly key: string }> | Promise<ReadonlyArray<{ readonly key: string }>>;
    }>;
    if (typeof listable.snapshot !== 'function') return undefined;
    for (const { key } of await listable.snapshot()) {
      if (isUnderSubdomain(domain, key) && (await this.load(key)) !== undefined) return key;
    }
    return undefined;
  }

  /** Plans the entry of `key` (undefined deletes it); the key must have been loaded. */
  set(key: string, entry: NameEntry | undefined): void {
    assert(this.#read.has(key), `${key} was loaded before it is planned`);
    this.#planned.set(key, entry);
  }

  /** The planned writes, in the order they were planned. */
  writes(): PlannedWrite[] {
    const writes: PlannedWrite[] = [];
    for (const [key, after] of this.#planned) {
      const before = this.#read.get(key);
      if (before === undefined && after === undefined) continue;
      writes.push({ key, before, after });
    }
    return writes;
  }

  /**
   * The names mailboxes must accept before and after the planned writes, over every name the writes
   * can affect (the written names and all names that reach them). Throws `CYCLE` when the planned
   * graph has a cycle or a chain longer than `indirectionHopsMax`, `LIMIT_EXCEEDED` past
   * `graphNamesVisitedMax` names read.
   */
  async aliasDiff(): Promise<{ readonly adds: AliasPair[]; readonly removes: AliasPair[] }> {
    const before = await this.#aliasPairs('before');
    const after = await this.#aliasPairs('after');
    const adds = [...after].filter(([key]) => !before.has(key)).map(([, pair]) => pair);
    const removes = [...before].filter(([key]) => !after.has(key)).map(([, pair]) => pair);
    return { adds, removes };
  }

  async #loadCommitted(key: string): Promise<Versioned<NameEntry> | undefined> {
    if (!this.#read.has(key)) {
      if (this.#read.size >= this.#limits.graphNamesVisitedMax) {
        throw new FosError(
          'LIMIT_EXCEEDED',
          `the operation reads more than graphNamesVisitedMax (${this.#limits.graphNamesVisitedMax}) names (at ${key})`,
          { value: key },
        );
      }
      this.#read.set(key, await this.#store.get(key));
    }
    return this.#read.get(key);
  }

  async #entryIn(view: View, key: string): Promise<NameEntry | undefined> {
    return view === 'after' ? this.load(key) : (await this.#loadCommitted(key))?.value;
  }

  async #aliasPairs(view: View): Promise<Map<string, AliasPair>> {
    // Every name that reaches a written name, the written names included.
    const region = new Set<string>();
    const pending = [...this.#planned.keys()];
    while (pending.length > 0) {
      const key = pending.pop() as string;
      if (region.has(key)) continue;
      region.add(key);
      for (const referrer of (await this.#entryIn(view, key))?.referrers ?? []) pending.push(referrer);
    }
    const memo = new Map<string, Reach>();
    const pairs = new Map<string, AliasPair>();
    for (const name of [...region].sort()) {
      const entry = await this.#entryIn(view, name);
      if (entry?.type !== 'indirect') continue;
      const { reached } = await this.#leaves(view, name, memo, []);
      for (const [locationKey, location] of reached) pairs.set(`${locationKey} ${name}`, { location, name });
    }
    return pairs;
  }

  /**
   * The mailboxes of the direct names `name` reaches, keyed by location, and the number of indirect
   * names on its longest chain; `path` holds the indirect names above it, to see cycles and lengths.
   * Only the planned graph is held to the rules: a committed graph that breaks them (limits lowered,
   * or concurrent registrations on different keys) must still be repairable by an Unregister.
   */
  async #leaves(view: View, name: string, memo: Map<string, Reach>, path: string[]): Promise<Reach> {
    if (path.includes(name)) {
      if (view === 'before') return { reached: new Map(), depth: 0 };
      throw new FosError('CYCLE', `indirect names would form a cycle: ${[...path, name].join(' → ')}`, { value: name });
    }
    const reach = memo.get(name) ?? (await this.#computeLeaves(view, name, memo, path));
    memo.set(name, reach);
    if (view === 'after' && path.length + reach.depth > this.#limits.indirectionHopsMax) {
      throw new FosError(
        'CYCLE',
        `a chain of indirect names would pass indirectionHopsMax (${this.#limits.indirectionHopsMax}): ${[...path, name].join(' → ')} → …`,
        { value: name },
      );
    }
    return reach;
  }

  async #computeLeaves(view: View, name: string, memo: Map<string, Reach>, path: string[]): Promise<Reach> {
    const entry = await this.#entryIn(view, name);
    const reached = new Map<string, MailboxLocation>();
    if (entry?.type === 'direct') {
      assert(entry.location !== undefined, `direct name ${name} has a location`);
      reached.set(formatLocation(entry.location), entry.location);
      return { reached, depth: 0 };
    }
    if (entry?.type !== 'indirect') return { reached, depth: 0 };
    let depth = 0;
    path.push(name);
    for (const destination of entry.destinations ?? []) {
      const child = await this.#leaves(view, destination.name, memo, path);
      for (const [key, location] of child.reached) reached.set(key, location);
      depth = Math.max(depth, child.depth);
    }
    path.pop();
    return { reached, depth: depth + 1 };
  }
}
