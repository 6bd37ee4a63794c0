import { assert, type Clock, type FosError, type MessageBody, type Timer } from '@fos/base';
import { checkFunction, checkMethods, checkRecord, readArgument } from '../internal/arguments.js';
import type { Store, Versioned } from '../store.js';
import { StoreCore } from './core.js';
import type { OperationId, ProposedOperation, StoreCoreOptions, StoreCoreStats } from './core-types.js';
import type { MemberName, StoreMessage, StoreTransport, TableEntry } from './messages.js';

/** Options of {@link ReplicatedMember}: those of its {@link StoreCore}, and the I/O it is bound to. */
export interface ReplicatedMemberOptions<V> extends StoreCoreOptions {
  readonly transport: StoreTransport<V>;
  /** The time the core is given, and the timer that bounds a Get's wait for a pending entry (virtual under simulation). */
  readonly clock: Clock;
  /**
   * Runs a wait as the caller's scheduler needs it (a dispatcher thread: `thread.waitFor`): an
   * operation that cannot complete at once is waited for through it, once. Default: identity.
   */
  readonly park?: <T>(promise: Promise<T>) => Promise<T>;
}

/** Counters of a member. */
export type ReplicatedMemberStats = StoreCoreStats;

type Waiter<V> = {
  readonly resolve: (entry: Versioned<V> | undefined) => void;
  readonly reject: (error: FosError) => void;
};

/**
 * One member of the fully replicated store, bound to a transport and a clock: a thin adapter over its
 * {@link StoreCore} that implements {@link Store}. Each operation is proposed to the core and, unless it
 * completes at once, waited for through `park`; messages from peers go to {@link receive}, which steps
 * the core; after every input the adapter sends the core's messages, settles the operations it
 * completed, and keeps one timer at the core's next deadline.
 */
export class ReplicatedMember<V extends MessageBody> implements Store<V> {
  readonly #core: StoreCore<V>;
  readonly #transport: StoreTransport<V>;
  readonly #clock: Clock;
  readonly #park: <T>(promise: Promise<T>) => Promise<T>;
  readonly #waiters = new Map<OperationId, Waiter<V>>();
  #timer: { readonly atMs: number; readonly timer: Timer } | undefined;

  /**
   * @param options - see {@link ReplicatedMemberOptions}
   * @throws as {@link StoreCore}'s constructor, and `BAD_REQUEST` for a transport without `send`, a
   *   clock without `now` and `setTimer`, or a `park` that is not a function
   */
  constructor(options: ReplicatedMemberOptions<V>) {
    checkRecord(options, 'the options of a store member');
    const { transport, clock, park } = readArgument(options, 'the options of a store member', () => ({
      transport: options.transport,
      clock: options.clock,
      park: options.park,
    }));
    checkMethods(transport, 'the transport', ['send']);
    checkMethods(clock, 'the clock', ['now', 'setTimer']);
    if (park !== undefined) checkFunction(park, 'park');
    this.#core = new StoreCore<V>(options);
    this.#transport = transport;
    this.#clock = clock;
    this.#park = park ?? ((promise) => promise);
  }

  /** This member's name. */
  get name(): MemberName {
    return this.#core.name;
  }

  // ---- Table 4.4 -------------------------------------------------------------------------------------

  /** Inserts a new entry at version 1; `CONFLICT` when the key exists (at any member) or a conflicting modification wins. */
  async insert(key: string, value: V): Promise<void> {
    await this.#run({ op: 'insert', key, value });
  }

  /** Replaces the entry at `expectedVersion`; `CONFLICT` when it is not at that version or a conflicting modification wins. */
  async update(key: string, value: V, expectedVersion: number): Promise<void> {
    await this.#run({ op: 'update', key, value, expectedVersion });
  }

  /** Deletes the entry at `expectedVersion`; `CONFLICT` as for update. */
  async delete(key: string, expectedVersion: number): Promise<void> {
    await this.#run({ op: 'delete', key, expectedVersion });
  }

  /**
   * The committed entry, read locally. An entry with a modification pending is waited out (up to
   * `pendingGetWaitMsMax`), then answered; past the bound, `TIMEOUT`, never the older value.
   */
  get(key: string): Promise<Versioned<V> | undefined> {
    try {
      return this.#run({ op: 'get', key });
    } catch (error) {
      // A refused key (BAD_REQUEST) rejects, as the other operations' refusals do.
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // ---- Table 4.6 -------------------------------------------------------------------------------------

  /**
   * `Join` (Table 4.6), called on a newcomer: asks `sponsor`, an installed member, to add it. The
   * change is carried out by the coordinator (the lowest-named member), one change at a time: the
   * blocking lock on every member, the table copied to the newcomer and installed, the newcomer added
   * to every peer list, then release. Resolves once this member serves.
   */
  async join(sponsor: MemberName): Promise<void> {
    await this.#run({ op: 'join', sponsor });
  }

  /** `Leave` (Table 4.6): removes this member from every peer list (never the last member). */
  async leave(): Promise<void> {
    await this.#run({ op: 'leave' });
  }

  // ---- the protocol ----------------------------------------------------------------------------------

  /** A message from a peer: steps the core at once. */
  receive(from: MemberName, message: StoreMessage<V>): void {
    this.#core.step(from, message, this.#clock.now());
    this.#flush();
  }

  /** Proposes `operation` and waits for it through `park`, unless it completed at once. */
  #run(operation: ProposedOperation<V>): Promise<Versioned<V> | undefined> {
    const id = this.#core.propose(operation, this.#clock.now());
    let settled = false;
    const completion = new Promise<Versioned<V> | undefined>((resolve, reject) => {
      this.#waiters.set(id, {
        resolve: (entry) => {
          settled = true;
          resolve(entry);
        },
        reject: (error) => {
          settled = true;
          reject(error);
        },
      });
    });
    this.#flush();
    return settled ? completion : this.#park(completion);
  }

  /** Hands the core's effects to the world: messages to the transport, results to their callers, the deadline to a timer. */
  #flush(): void {
    const ready = this.#core.ready();
    for (const { to, message } of ready.messages) this.#transport.send(to, message);
    for (const { id, result } of ready.completed) {
      const waiter = this.#waiters.get(id);
      assert(waiter !== undefined, `operation ${id} of store member ${this.name} has a caller`);
      this.#waiters.delete(id);
      if (result.ok) waiter.resolve(result.entry);
      else waiter.reject(result.error);
    }
    if (this.#timer?.atMs === ready.wakeAtMs) return;
    this.#timer?.timer.cancel();
    this.#timer = undefined;
    if (ready.wakeAtMs === undefined) return;
    const atMs = ready.wakeAtMs;
    const timer = this.#clock.setTimer(Math.max(0, atMs - this.#clock.now()), () => {
      this.#timer = undefined;
      this.#core.tick(this.#clock.now());
      this.#flush();
    });
    this.#timer = { atMs, timer };
  }

  // ---- inspection ------------------------------------------------------------------------------------

  /** The other members, as this one knows them. */
  get peers(): readonly MemberName[] {
    return this.#core.peers;
  }

  /** Whether this member serves: installed, not joining, not left. */
  get serving(): boolean {
    return this.#core.serving;
  }

  /** Counters. */
  stats(): ReplicatedMemberStats {
    return this.#core.stats();
  }

  /** Every committed entry, sorted by key (for tests and state transfer). */
  snapshot(): Array<TableEntry<V>> {
    return this.#core.snapshot();
  }

  /** The hash of the committed table (as `LocalStore.hash`): equal tables, equal hashes. */
  hash(): string {
    return this.#core.hash();
  }

  /** True when no operation is pending, no arbiter is held, no vote, outcome or membership reply is awaited, and nothing sleeps. */
  get quiet(): boolean {
    return this.#core.quiet;
  }
}
