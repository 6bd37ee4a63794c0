import { FosError, type MessageBody } from '@fos/microkernel';
import type { Clock } from '@fos/sim';
import type { Store, Versioned } from '../store.js';
import type { MemberName, Modification, StoreMessage, StoreTransport } from './messages.js';

/** How long a Get waits for a pending entry's outcome before it answers `TIMEOUT`, in ms (DESIGN section 6). */
export const pendingGetWaitMsMax = 1_000;
/** Peers of one member at most (a fleet of this many plus one). */
export const storePeersMax = 255;
/** Votes and outcomes one member waits for at once, at most; more is `LIMIT_EXCEEDED`. */
export const requestsInFlightMax = 65_536;

/**
 * Deliberate bugs, for tests that prove the simulation finds them (never set them elsewhere):
 * `originateWhileHolding` lets a member originate while the arbiter is held; `voteWithoutPrecondition`
 * makes a member vote yes (its own modification's local vote included) without checking the precondition.
 */
export type PlantedBugs = { readonly originateWhileHolding?: boolean; readonly voteWithoutPrecondition?: boolean };

/** Options of {@link ReplicatedMember}. */
export interface ReplicatedMemberOptions<V> {
  /** This member's name (its priority: the lexicographically lowest originator wins). */
  readonly name: MemberName;
  /** The other members. */
  readonly peers: readonly MemberName[];
  readonly transport: StoreTransport<V>;
  /** Bounds a Get's wait for a pending entry (virtual under simulation). */
  readonly clock: Clock;
  /**
   * Runs a wait as the caller's scheduler needs it (a dispatcher thread: `thread.waitFor`); every
   * await of the protocol on something another event settles goes through it. Default: identity.
   */
  readonly park?: <T>(promise: Promise<T>) => Promise<T>;
  /** Test-only: see {@link PlantedBugs}. */
  readonly plantedBugs?: PlantedBugs;
}

type Holder = { readonly request: string; readonly originator: MemberName };

type KeyState<V> = {
  committed: Versioned<V> | undefined;
  holder: Holder | undefined;
  /** Woken when the arbiter clears: sleepers on the arbiter and Gets that wait out a pending entry. */
  cleared: Array<() => void>;
};

type Voting = { readonly waiting: Set<MemberName>; yes: MemberName[]; no: number; readonly done: () => void };

/** Counters of a member. */
export type ReplicatedMemberStats = {
  readonly committed: number;
  readonly conflicts: number;
  readonly votesYes: number;
  readonly votesNo: number;
  readonly arbiterWaits: number;
  readonly getWaits: number;
};

/**
 * One member of the fully replicated store (thesis §4.4, with the departure of DESIGN section 6): Gets
 * are local; every modification is agreed by all members with two-phase commit, guarded by one
 * arbiter per entry. An arbiter is never taken from its holder: a request that meets a held arbiter
 * sleeps on it if it has priority (lowest originator name) or comes from the holder's originator, and
 * is refused with `CONFLICT` otherwise (wait-die). A member votes yes only if its committed entry meets
 * the precondition; a modification that is not agreed by all answers `CONFLICT` and changes nothing.
 * The core does no I/O: messages leave through the transport and arrive through {@link receive}.
 */
export class ReplicatedMember<V extends MessageBody> implements Store<V> {
  readonly name: MemberName;
  #peers: MemberName[];
  readonly #transport: StoreTransport<V>;
  readonly #clock: Clock;
  readonly #park: <T>(promise: Promise<T>) => Promise<T>;
  readonly #bugs: PlantedBugs;
  readonly #keys = new Map<string, KeyState<V>>();
  readonly #votings = new Map<string, Voting>();
  readonly #outcomes = new Map<string, (commit: boolean) => void>();
  #nextRequest = 1;
  #counters = { committed: 0, conflicts: 0, votesYes: 0, votesNo: 0, arbiterWaits: 0, getWaits: 0 };

  /** @param options - see {@link ReplicatedMemberOptions} */
  constructor(options: ReplicatedMemberOptions<V>) {
    if (options.peers.length > storePeersMax) throw new FosError('LIMIT_EXCEEDED', `a member has at most storePeersMax (${storePeersMax}) peers`, { value: options.peers.length });
    if (options.peers.includes(options.name)) throw new FosError('BAD_REQUEST', `member ${options.name} is listed among its own peers`, { value: options.name });
    this.name = options.name;
    this.#peers = [...options.peers];
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#park = options.park ?? ((promise) => promise);
    this.#bugs = options.plantedBugs ?? {};
  }

  /** The other members, as this one knows them. */
  get peers(): readonly MemberName[] {
    return this.#peers;
  }

  /** Counters. */
  stats(): ReplicatedMemberStats {
    return { ...this.#counters };
  }

  // ---- Table 4.4 ---------------------------------------------------------------------------------

  /** Inserts a new entry at version 1; `CONFLICT` when the key exists (at any member) or a conflicting modification wins. */
  insert(key: string, value: V): Promise<void> {
    return this.#originate({ op: 'insert', key, value });
  }

  /** Replaces the entry at `expectedVersion`; `CONFLICT` when it is not at that version or a conflicting modification wins. */
  update(key: string, value: V, expectedVersion: number): Promise<void> {
    return this.#originate({ op: 'update', key, value, expectedVersion });
  }

  /** Deletes the entry at `expectedVersion`; `CONFLICT` as for update. */
  delete(key: string, expectedVersion: number): Promise<void> {
    return this.#originate({ op: 'delete', key, expectedVersion });
  }

  /**
   * The committed entry, read locally. An entry with a modification pending is waited out (up to
   * {@link pendingGetWaitMsMax}), then answered; past the bound, `TIMEOUT`, never the older value.
   */
  async get(key: string): Promise<Versioned<V> | undefined> {
    const state = this.#keys.get(key);
    if (state?.holder !== undefined) {
      this.#counters.getWaits++;
      const startedMs = this.#clock.now();
      while (state.holder !== undefined) {
        const leftMs = pendingGetWaitMsMax - (this.#clock.now() - startedMs);
        if (leftMs <= 0 || !(await this.#park(this.#clearedOrTimeout(state, leftMs)))) {
          throw new FosError('TIMEOUT', `store key ${JSON.stringify(key)} stayed pending for pendingGetWaitMsMax (${pendingGetWaitMsMax} ms)`, { value: key });
        }
      }
    }
    return state?.committed === undefined ? undefined : { ...state.committed };
  }

  // ---- the protocol ----------------------------------------------------------------------------------

  /** A message from a peer. */
  receive(from: MemberName, message: StoreMessage<V>): void | Promise<void> {
    switch (message.kind) {
      case 'voteRequest':
        return this.#onVoteRequest(from, message.request, message.originator, message.modification);
      case 'vote':
        this.#onVote(from, message.request, message.yes);
        return;
      case 'outcome':
        this.#outcomes.get(message.request)?.(message.commit);
        this.#outcomes.delete(message.request);
        return;
    }
  }

  /** Figure 4-2 (a), local code, with the departure: never originate while the arbiter is held. */
  async #originate(modification: Modification<V>): Promise<void> {
    const state = this.#state(modification.key);
    if (!this.#bugs.originateWhileHolding) {
      while (state.holder !== undefined) await this.#sleepOnArbiter(state);
    }
    const request = `${this.name}#${this.#nextRequest++}`;
    state.holder = { request, originator: this.name };
    try {
      if (!this.#bugs.voteWithoutPrecondition && !meetsPrecondition(state.committed, modification)) {
        this.#counters.conflicts++;
        throw conflict(modification, 'its precondition does not hold here');
      }
      const peers = [...this.#peers];
      if (peers.length > 0) {
        if (this.#votings.size >= requestsInFlightMax) throw new FosError('LIMIT_EXCEEDED', `requestsInFlightMax (${requestsInFlightMax}) modifications are in flight at ${this.name}`, { value: this.#votings.size });
        const voting = await this.#park(
          new Promise<Voting>((resolve) => {
            const entry: Voting = { waiting: new Set(peers), yes: [], no: 0, done: () => resolve(entry) };
            this.#votings.set(request, entry);
            for (const peer of peers) this.#transport.send(peer, { kind: 'voteRequest', request, originator: this.name, modification });
          }),
        );
        this.#votings.delete(request);
        const commit = voting.no === 0;
        for (const peer of voting.yes) this.#transport.send(peer, { kind: 'outcome', request, key: modification.key, commit });
        if (!commit) {
          this.#counters.conflicts++;
          throw conflict(modification, `${voting.no} member(s) refused it`);
        }
      }
      state.committed = apply(state.committed, modification);
      this.#counters.committed++;
    } finally {
      this.#clear(state, request);
    }
  }

  /** Figure 4-2 (b), remote code, with the departure (wait-die; yes only if the precondition holds). */
  async #onVoteRequest(from: MemberName, request: string, originator: MemberName, modification: Modification<V>): Promise<void> {
    const state = this.#state(modification.key);
    for (;;) {
      const holder = state.holder;
      if (holder === undefined) break;
      if (originator < holder.originator || originator === holder.originator) {
        await this.#sleepOnArbiter(state);
        continue;
      }
      this.#counters.votesNo++;
      this.#transport.send(from, { kind: 'vote', request, yes: false });
      return;
    }
    if (!this.#bugs.voteWithoutPrecondition && !meetsPrecondition(state.committed, modification)) {
      this.#counters.votesNo++;
      this.#transport.send(from, { kind: 'vote', request, yes: false });
      return;
    }
    state.holder = { request, originator };
    const outcome = new Promise<boolean>((resolve) => this.#outcomes.set(request, resolve));
    this.#counters.votesYes++;
    this.#transport.send(from, { kind: 'vote', request, yes: true });
    const commit = await this.#park(outcome);
    if (commit) {
      state.committed = apply(state.committed, modification);
      this.#counters.committed++;
    }
    this.#clear(state, request);
  }

  #onVote(from: MemberName, request: string, yes: boolean): void {
    const voting = this.#votings.get(request);
    if (voting === undefined || !voting.waiting.delete(from)) return;
    if (yes) voting.yes.push(from);
    else voting.no++;
    if (voting.waiting.size === 0) voting.done();
  }

  #state(key: string): KeyState<V> {
    let state = this.#keys.get(key);
    if (state === undefined) {
      state = { committed: undefined, holder: undefined, cleared: [] };
      this.#keys.set(key, state);
    }
    return state;
  }

  /** Sleeps until the arbiter of `state` clears (thesis: losers sleep on the arbiter). */
  #sleepOnArbiter(state: KeyState<V>): Promise<void> {
    this.#counters.arbiterWaits++;
    return this.#park(new Promise<void>((resolve) => state.cleared.push(resolve)));
  }

  #clearedOrTimeout(state: KeyState<V>, timeoutMs: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const timer = this.#clock.setTimer(timeoutMs, () => resolve(false));
      state.cleared.push(() => {
        timer.cancel();
        resolve(true);
      });
    });
  }

  #clear(state: KeyState<V>, request: string): void {
    if (state.holder?.request === request) state.holder = undefined;
    for (const wake of state.cleared.splice(0)) wake();
  }

  // ---- inspection ----------------------------------------------------------------------------------------

  /** Every committed entry, sorted by key (for tests and state transfer). */
  snapshot(): Array<{ readonly key: string; readonly value: V; readonly version: number }> {
    return [...this.#keys]
      .filter(([, state]) => state.committed !== undefined)
      .map(([key, state]) => ({ key, value: (state.committed as Versioned<V>).value, version: (state.committed as Versioned<V>).version }))
      .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  }

  /** True when no arbiter is held, no vote or outcome is awaited, and nothing sleeps. */
  get quiet(): boolean {
    if (this.#votings.size > 0 || this.#outcomes.size > 0) return false;
    for (const state of this.#keys.values()) if (state.holder !== undefined || state.cleared.length > 0) return false;
    return true;
  }
}

function meetsPrecondition<V>(committed: Versioned<V> | undefined, modification: Modification<V>): boolean {
  if (modification.op === 'insert') return committed === undefined;
  return committed !== undefined && committed.version === modification.expectedVersion;
}

function apply<V>(committed: Versioned<V> | undefined, modification: Modification<V>): Versioned<V> | undefined {
  switch (modification.op) {
    case 'insert':
      return { value: modification.value, version: 1 };
    case 'update':
      return { value: modification.value, version: (committed?.version ?? 0) + 1 };
    case 'delete':
      return undefined;
  }
}

function conflict<V>(modification: Modification<V>, why: string): FosError {
  return new FosError('CONFLICT', `${modification.op} of store key ${JSON.stringify(modification.key)}: ${why}`, { value: modification.key });
}
