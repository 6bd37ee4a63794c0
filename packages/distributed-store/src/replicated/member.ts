import { encodeBody, FosError, type MessageBody } from '@fos/microkernel';
import type { Clock } from '@fos/sim';
import { tableHash } from '../internal/hash.js';
import type { Store, Versioned } from '../store.js';
import type { MembershipChange, MemberName, Modification, StoreMessage, StoreTransport, TableEntry } from './messages.js';

/** How long a Get waits for a pending entry's outcome before it answers `TIMEOUT`, in ms (DESIGN section 6). */
export const pendingGetWaitMsMax = 1_000;
/** Peers of one member at most (a fleet of this many plus one). */
export const storePeersMax = 255;
/** Votes and outcomes one member waits for at once, at most; more is `LIMIT_EXCEEDED`. */
export const requestsInFlightMax = 65_536;
/**
 * Encoded bytes of table entries one `install` message carries, by default (a joining member gets the
 * table in parts of at most this much, so a table of any size fits messages of 64 KiB). An entry larger
 * than the bound travels alone.
 */
export const installChunkBytesDefault = 16 * 1024;

/**
 * Deliberate bugs, for tests that prove the simulation finds them (never set them elsewhere):
 * `originateWhileHolding` lets a member originate while the arbiter is held; `voteWithoutPrecondition`
 * makes a member vote yes (its own modification's local vote included) without checking the precondition;
 * `modifyDuringJoin` lets modifications start while a membership change holds the blocking lock;
 * `thesisPreemption` (experiment b) replaces wait-die by the thesis's own rule (Figures 4-2 and 4-3): a
 * request with priority takes a held arbiter, votes yes whatever the entry holds (it forces its value),
 * and a preempted request's late outcome is applied only where it still owns the arbiter.
 */
export type PlantedBugs = {
  readonly originateWhileHolding?: boolean;
  readonly voteWithoutPrecondition?: boolean;
  readonly modifyDuringJoin?: boolean;
  readonly thesisPreemption?: boolean;
};

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
  /** Encoded bytes of entries per `install` part (default {@link installChunkBytesDefault}). */
  readonly installChunkBytesMax?: number;
  /**
   * A newcomer: it serves nothing until a {@link ReplicatedMember.join} installed the table (Gets and
   * modifications wait). Its `peers` are then ignored.
   */
  readonly joining?: boolean;
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
  // Membership (§4.4.4, Table 4.7).
  #state: 'joining' | 'installed' | 'left';
  readonly #installWaiters: Array<() => void> = [];
  #modifying = 0;
  #blocking = false;
  readonly #unblockWaiters: Array<() => void> = [];
  readonly #idleWaiters: Array<() => void> = [];
  #membershipChain: Promise<void> = Promise.resolve();
  readonly #membershipReplies = new Map<string, (error: string | undefined) => void>();
  readonly #phaseReplies = new Map<string, { readonly waiting: Set<MemberName>; readonly done: () => void }>();
  #nextChange = 1;
  readonly #installChunkBytesMax: number;
  /** A newcomer's table as its parts arrive (in order: the transport keeps a pair's order). */
  #installing: { readonly change: string; nextPart: number; readonly entries: TableEntry<V>[] } | undefined;

  /** @param options - see {@link ReplicatedMemberOptions} */
  constructor(options: ReplicatedMemberOptions<V>) {
    if (options.peers.length > storePeersMax) throw new FosError('LIMIT_EXCEEDED', `a member has at most storePeersMax (${storePeersMax}) peers`, { value: options.peers.length });
    const chunkBytes = options.installChunkBytesMax ?? installChunkBytesDefault;
    if (!Number.isInteger(chunkBytes) || chunkBytes < 1) throw new FosError('BAD_REQUEST', 'installChunkBytesMax is a positive integer', { value: chunkBytes });
    this.#installChunkBytesMax = chunkBytes;
    if (options.peers.includes(options.name)) throw new FosError('BAD_REQUEST', `member ${options.name} is listed among its own peers`, { value: options.name });
    this.name = options.name;
    this.#peers = [...options.peers];
    this.#transport = options.transport;
    this.#clock = options.clock;
    this.#park = options.park ?? ((promise) => promise);
    this.#bugs = options.plantedBugs ?? {};
    this.#state = options.joining === true ? 'joining' : 'installed';
    if (options.joining === true) this.#peers = [];
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
    await this.#installed('get');
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
      case 'membershipRequest':
        return this.#onMembershipRequest(message.change, message.replyTo);
      case 'membershipDone':
        this.#membershipReplies.get(message.change)?.(message.error);
        this.#membershipReplies.delete(message.change);
        return;
      case 'block':
        return this.blockingLock().then(() => this.#transport.send(from, { kind: 'blocked', change: message.change }));
      case 'blocked':
      case 'installed':
      case 'membersApplied':
        this.#phaseReply(message.change, from);
        return;
      case 'install':
        this.#onInstallPart(from, message.change, message.part, message.table, message.members);
        return;
      case 'members':
        this.#applyMembers(message.members);
        this.blockingRelease();
        if (message.ack === true) this.#transport.send(from, { kind: 'membersApplied', change: message.change });
        return;
    }
  }

  // ---- Table 4.7: modifications against membership changes --------------------------------------------

  /** Taken by every new modification (local code); sleeps while a membership change holds the blocking lock. */
  async modifyLock(): Promise<void> {
    while (this.#blocking && !this.#bugs.modifyDuringJoin) await this.#park(new Promise<void>((resolve) => this.#unblockWaiters.push(resolve)));
    this.#modifying++;
  }

  /** Released when a modification returns; may grant the blocking lock. */
  modifyRelease(): void {
    this.#modifying--;
    this.#checkIdle();
  }

  /**
   * Blocks new modifications, and returns once no modification is in progress here and no entry is
   * pending (no arbiter held): the table is then quiescent at this member.
   */
  async blockingLock(): Promise<void> {
    this.#blocking = true;
    while (!this.#isIdle()) await this.#park(new Promise<void>((resolve) => this.#idleWaiters.push(resolve)));
  }

  /** Lets modifications start again, waking those that slept in {@link modifyLock}. */
  blockingRelease(): void {
    this.#blocking = false;
    for (const wake of this.#unblockWaiters.splice(0)) wake();
  }

  #isIdle(): boolean {
    if (this.#modifying > 0) return false;
    for (const state of this.#keys.values()) if (state.holder !== undefined) return false;
    return true;
  }

  #checkIdle(): void {
    if (this.#idleWaiters.length > 0 && this.#isIdle()) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  // ---- Table 4.6: join and leave -------------------------------------------------------------------------

  /**
   * `Join` (Table 4.6), called on a newcomer: asks `sponsor`, an installed member, to add it. The
   * change is carried out by the coordinator (the lowest-named member), one change at a time: the
   * blocking lock on every member, the table copied to the newcomer and installed, the newcomer added
   * to every peer list, then release. Resolves once this member serves.
   */
  async join(sponsor: MemberName): Promise<void> {
    if (this.#state !== 'joining') throw new FosError('BAD_REQUEST', `member ${this.name} is ${this.#state}, not joining`, { value: this.name });
    await this.#requestChange(sponsor, { change: `${this.name}:${this.#nextChange++}`, op: 'join', member: this.name });
    await this.#installed('join');
  }

  /** `Leave` (Table 4.6): removes this member from every peer list (never the last member). */
  async leave(): Promise<void> {
    await this.#installed('leave');
    if (this.#peers.length === 0) throw new FosError('BAD_REQUEST', `member ${this.name} is the last one: a store keeps at least one member`, { value: this.name });
    await this.#requestChange(this.name, { change: `${this.name}:${this.#nextChange++}`, op: 'leave', member: this.name });
  }

  /** Whether this member serves: installed, not joining, not left. */
  get serving(): boolean {
    return this.#state === 'installed';
  }

  /** Sends a change to `via` (or carries it out, when this member coordinates) and waits until it is done. */
  async #requestChange(via: MemberName, change: MembershipChange): Promise<void> {
    const error = await this.#park(
      new Promise<string | undefined>((resolve) => {
        this.#membershipReplies.set(change.change, resolve);
        if (via === this.name) void this.#onMembershipRequest(change, this.name);
        else this.#transport.send(via, { kind: 'membershipRequest', change, replyTo: this.name });
      }),
    );
    if (error !== undefined) throw new FosError('BAD_REQUEST', `${change.op} of ${change.member}: ${error}`, { value: change.member });
  }

  /** A change asked of this member: forwarded to the coordinator, or carried out here, after the ones before it. */
  async #onMembershipRequest(change: MembershipChange, replyTo: MemberName): Promise<void> {
    const coordinator = [this.name, ...this.#peers].sort()[0] as MemberName;
    if (coordinator !== this.name || this.#state !== 'installed') {
      this.#transport.send(coordinator, { kind: 'membershipRequest', change, replyTo });
      return;
    }
    const run = this.#membershipChain.then(() => this.#coordinate(change));
    this.#membershipChain = run.then(
      () => undefined,
      () => undefined,
    );
    let error: string | undefined;
    try {
      await run;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    if (replyTo === this.name) {
      this.#membershipReplies.get(change.change)?.(error);
      this.#membershipReplies.delete(change.change);
    } else {
      this.#transport.send(replyTo, error === undefined ? { kind: 'membershipDone', change: change.change } : { kind: 'membershipDone', change: change.change, error });
    }
  }

  /** The coordinator's part of one change. */
  async #coordinate(change: MembershipChange): Promise<void> {
    const members = [this.name, ...this.#peers];
    if (change.op === 'join' && members.includes(change.member)) throw new Error(`${change.member} is a member already`);
    if (change.op === 'leave' && !members.includes(change.member)) throw new Error(`${change.member} is not a member`);
    if (change.op === 'leave' && members.length === 1) throw new Error('a store keeps at least one member');
    if (change.op === 'join' && members.length > storePeersMax) throw new Error(`a store has at most storePeersMax + 1 (${storePeersMax + 1}) members`);
    const peers = [...this.#peers];
    await this.#phase(change.change, peers, (peer) => this.#transport.send(peer, { kind: 'block', change: change.change }));
    await this.blockingLock();
    const next = change.op === 'join' ? [...members, change.member] : members.filter((member) => member !== change.member);
    if (change.op === 'join') {
      const parts = this.#installParts();
      await this.#phase(change.change, [change.member], (peer) =>
        parts.forEach((table, part) => this.#transport.send(peer, { kind: 'install', change: change.change, part, table, ...(part === parts.length - 1 ? { members: next } : {}) })),
      );
    }
    // A member that leaves stops serving before anyone may modify again: while every member is
    // blocked nothing changes, so its last Gets are still current.
    const leaver = change.op === 'leave' && change.member !== this.name ? change.member : undefined;
    if (leaver !== undefined) await this.#phase(change.change, [leaver], (peer) => this.#transport.send(peer, { kind: 'members', change: change.change, members: next, ack: true }));
    const told = change.op === 'join' ? [...peers, change.member] : peers.filter((peer) => peer !== leaver);
    for (const peer of told) this.#transport.send(peer, { kind: 'members', change: change.change, members: next });
    this.#applyMembers(next);
    this.blockingRelease();
  }

  /** Sends to each of `peers` and waits until every one has answered for `change`. */
  #phase(change: string, peers: readonly MemberName[], send: (peer: MemberName) => void): Promise<void> {
    if (peers.length === 0) return Promise.resolve();
    return this.#park(
      new Promise<void>((resolve) => {
        this.#phaseReplies.set(change, { waiting: new Set(peers), done: resolve });
        for (const peer of peers) send(peer);
      }),
    ).finally(() => this.#phaseReplies.delete(change));
  }

  #phaseReply(change: string, from: MemberName): void {
    const phase = this.#phaseReplies.get(change);
    if (phase === undefined || !phase.waiting.delete(from)) return;
    if (phase.waiting.size === 0) phase.done();
  }

  /** The table cut into parts of at most `installChunkBytesMax` encoded bytes of entries (at least one part). */
  #installParts(): Array<Array<TableEntry<V>>> {
    const parts: Array<Array<TableEntry<V>>> = [[]];
    let bytes = 0;
    for (const entry of this.snapshot()) {
      const entryBytes = encodeBody(entry, Number.MAX_SAFE_INTEGER).length;
      const current = parts[parts.length - 1] as Array<TableEntry<V>>;
      if (current.length > 0 && bytes + entryBytes > this.#installChunkBytesMax) {
        parts.push([entry]);
        bytes = entryBytes;
      } else {
        current.push(entry);
        bytes += entryBytes;
      }
    }
    return parts;
  }

  /** A newcomer collects the parts of the table; the last one (it carries the members) installs it. */
  #onInstallPart(from: MemberName, change: string, part: number, table: ReadonlyArray<TableEntry<V>>, members: readonly MemberName[] | undefined): void {
    if (this.#state !== 'joining') return;
    if (part === 0) this.#installing = { change, nextPart: 0, entries: [] };
    const installing = this.#installing;
    // Parts come in order from one coordinator, one change at a time; anything else is not ours.
    if (installing === undefined || installing.change !== change || installing.nextPart !== part) return;
    installing.nextPart++;
    installing.entries.push(...table);
    if (members === undefined) return;
    this.#installing = undefined;
    this.#install(installing.entries, members);
    this.#transport.send(from, { kind: 'installed', change });
  }

  #install(table: ReadonlyArray<TableEntry<V>>, members: readonly MemberName[]): void {
    this.#keys.clear();
    for (const { key, value, version } of table) this.#keys.set(key, { committed: { value, version }, holder: undefined, cleared: [] });
    this.#applyMembers(members);
  }

  #applyMembers(members: readonly MemberName[]): void {
    if (!members.includes(this.name)) {
      this.#state = 'left';
      this.#peers = [];
      return;
    }
    this.#peers = members.filter((member) => member !== this.name);
    if (this.#state === 'joining') {
      this.#state = 'installed';
      for (const wake of this.#installWaiters.splice(0)) wake();
    }
  }

  /** Waits until a newcomer is installed; `SHUTDOWN` once this member has left. */
  async #installed(operation: string): Promise<void> {
    while (this.#state === 'joining') await this.#park(new Promise<void>((resolve) => this.#installWaiters.push(resolve)));
    if (this.#state === 'left') throw new FosError('SHUTDOWN', `${operation}: member ${this.name} has left the store`, { value: this.name });
  }

  /** Figure 4-2 (a), local code, with the departure: never originate while the arbiter is held. */
  async #originate(modification: Modification<V>): Promise<void> {
    await this.#installed(modification.op);
    await this.modifyLock();
    try {
      // A membership change may have removed this member while the modification slept in modifyLock.
      await this.#installed(modification.op);
      await this.#originateLocked(modification);
    } finally {
      this.modifyRelease();
    }
  }

  async #originateLocked(modification: Modification<V>): Promise<void> {
    const state = this.#keyState(modification.key);
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
    if (this.#bugs.thesisPreemption) return this.#onVoteRequestAsInTheThesis(from, request, originator, modification);
    const state = this.#keyState(modification.key);
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

  /** Figure 4-2 (b) as the thesis has it (experiment b, never in production): priority preempts and forces. */
  async #onVoteRequestAsInTheThesis(from: MemberName, request: string, originator: MemberName, modification: Modification<V>): Promise<void> {
    const state = this.#keyState(modification.key);
    // hasPriority: a free arbiter, or a holder whose originator's name is higher; else sleep on it.
    while (state.holder !== undefined && !(originator < state.holder.originator)) await this.#sleepOnArbiter(state);
    state.holder = { request, originator };
    const outcome = new Promise<boolean>((resolve) => this.#outcomes.set(request, resolve));
    this.#counters.votesYes++;
    this.#transport.send(from, { kind: 'vote', request, yes: true });
    const commit = await this.#park(outcome);
    // isOwnedBy(originator): a preempted request's outcome changes nothing here.
    if (commit && state.holder?.request === request) {
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

  #keyState(key: string): KeyState<V> {
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
      const wake = (): void => {
        timer.cancel();
        resolve(true);
      };
      // A Get that gives up leaves no sleeper behind on the arbiter.
      const timer = this.#clock.setTimer(timeoutMs, () => {
        state.cleared.splice(state.cleared.indexOf(wake), 1);
        resolve(false);
      });
      state.cleared.push(wake);
    });
  }

  #clear(state: KeyState<V>, request: string): void {
    if (state.holder?.request === request) state.holder = undefined;
    for (const wake of state.cleared.splice(0)) wake();
    this.#checkIdle();
  }

  // ---- inspection ----------------------------------------------------------------------------------------

  /** Every committed entry, sorted by key (for tests and state transfer). */
  snapshot(): Array<TableEntry<V>> {
    return [...this.#keys]
      .filter(([, state]) => state.committed !== undefined)
      .map(([key, state]) => ({ key, value: (state.committed as Versioned<V>).value, version: (state.committed as Versioned<V>).version }))
      .sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
  }

  /** The hash of the committed table (as `LocalStore.hash`): equal tables, equal hashes. */
  hash(): string {
    return tableHash(this.snapshot());
  }

  /** True when no arbiter is held, no vote, outcome or membership reply is awaited, and nothing sleeps. */
  get quiet(): boolean {
    if (this.#votings.size > 0 || this.#outcomes.size > 0 || this.#phaseReplies.size > 0 || this.#membershipReplies.size > 0 || this.#installing !== undefined) return false;
    if (this.#blocking || this.#modifying > 0 || this.#unblockWaiters.length > 0 || this.#idleWaiters.length > 0 || this.#installWaiters.length > 0) return false;
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
