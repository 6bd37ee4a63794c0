import { describeValue, FosError, type MessageBody } from '@fos/base';
import {
  checkMemberName,
  checkMemberNames,
  checkRecord,
  checkTime,
  readArgument,
  refuse,
} from '../internal/arguments.js';
import { tableHash } from '../internal/hash.js';
import { checkedMessage, checkedOperation } from '../internal/inputs.js';
import {
  advanceMembership,
  answerBlocked,
  coordinate,
  onBlock,
  onInstallPart,
  onMembershipDone,
  onMembershipRequest,
  onMembers,
  onPhaseReply,
  tableSnapshot,
} from '../internal/membership.js';
import { rulesOf } from '../internal/rules.js';
import { isGet, isModification, type CoreState, type PendingOperation, type Wakeup } from '../internal/store-state.js';
import {
  advanceGet,
  advanceModification,
  expireGets,
  nextDeadlineMs,
  onOutcome,
  onVote,
  onVoteRequest,
} from '../internal/two-phase-commit.js';
import { installChunkBytesDefault, storePeersMax } from '../limits.js';
import type { OperationId, ProposedOperation, StoreCoreOptions, StoreCoreStats, StoreReady } from './core-types.js';
import type { MemberName, StoreMessage, TableEntry } from './messages.js';

/** The options of a core, read once and checked (a getter or proxy that throws is `BAD_REQUEST`). */
function checkedOptions(options: StoreCoreOptions): {
  name: MemberName;
  peers: MemberName[];
  installChunkBytesMax: number;
  joining: boolean;
  rules: ReturnType<typeof rulesOf>;
} {
  checkRecord(options, 'the options of a store member');
  const given = readArgument(options, 'the options of a store member', () => ({
    name: options.name,
    peers: options.peers,
    installChunkBytesMax: options.installChunkBytesMax,
    joining: options.joining,
    rules: rulesOf(options),
  }));
  const name = checkMemberName(given.name);
  if (Array.isArray(given.peers) && given.peers.length > storePeersMax)
    throw new FosError('LIMIT_EXCEEDED', `a member has at most storePeersMax (${storePeersMax}) peers`, {
      value: given.peers.length,
    });
  const peers = checkMemberNames(given.peers, 'the peers');
  const chunkBytes = given.installChunkBytesMax ?? installChunkBytesDefault;
  if (typeof chunkBytes !== 'number' || !Number.isSafeInteger(chunkBytes) || chunkBytes < 1)
    refuse(`installChunkBytesMax ${describeValue(chunkBytes)} is not a positive integer`, chunkBytes);
  if (peers.includes(name)) refuse(`member ${name} is listed among its own peers`, name);
  if (given.joining !== undefined && typeof given.joining !== 'boolean')
    refuse(`joining ${describeValue(given.joining)} is not a boolean`, given.joining);
  return { name, peers, installChunkBytesMax: chunkBytes, joining: given.joining === true, rules: given.rules };
}

/**
 * The protocol core of one member of the fully replicated store (thesis §4.4), as a synchronous state
 * machine in the style of etcd's raft: the host feeds it inputs — {@link propose} (a user's operation),
 * {@link step} (a message from a peer), {@link tick} (time passing) — each with the current time, and
 * after each takes its effects with {@link ready}: the messages to send, the operations completed, and
 * the deadline at which it wants a tick. It holds every piece of protocol state as plain data and does
 * no I/O; it has no promise, no timer and no clock of its own.
 *
 * Gets are local; every modification is agreed by all members with two-phase commit, guarded by one
 * arbiter per entry. An arbiter is never taken from its holder: a request that meets a held arbiter
 * sleeps on it if it has priority (lowest originator name) or comes from the holder's originator, and
 * is refused with `CONFLICT` otherwise (wait-die). A member votes yes only if its committed entry meets
 * the precondition; a modification that is not agreed by all answers `CONFLICT` and changes nothing.
 * Membership changes (Tables 4.6 and 4.7) are carried out one at a time by the lowest-named member.
 */
export class StoreCore<V extends MessageBody> {
  readonly #state: CoreState<V>;
  #runHead = 0;

  /**
   * @param options - see {@link StoreCoreOptions}
   * @throws LIMIT_EXCEEDED with more than `storePeersMax` peers
   * @throws BAD_REQUEST when the options are not an object, the name or a peer's is not a string of 1 to
   *   `storeMemberNameCharactersMax` characters, a peer is listed twice, `installChunkBytesMax` is not a
   *   positive integer, or the member is among its own peers
   */
  constructor(options: StoreCoreOptions) {
    const { name, peers, installChunkBytesMax, joining, rules } = checkedOptions(options);
    this.#state = {
      name,
      rules,
      installChunkBytesMax,
      nowMs: Number.NEGATIVE_INFINITY,
      peers: joining ? [] : peers,
      stage: joining ? 'joining' : 'installed',
      keys: new Map(),
      operations: new Map(),
      getsWaiting: new Set(),
      votings: new Map(),
      heldVotes: new Map(),
      runQueue: [],
      modifying: 0,
      blocking: false,
      unblockWaiters: [],
      idleWaiters: [],
      installWaiters: [],
      membershipReplies: new Map(),
      changes: [],
      coordination: undefined,
      installing: undefined,
      nextOperation: 1,
      nextRequest: 1,
      nextChange: 1,
      counters: { committed: 0, conflicts: 0, votesYes: 0, votesNo: 0, arbiterWaits: 0, getWaits: 0 },
      outbox: [],
      completed: [],
    };
  }

  /** This member's name. */
  get name(): MemberName {
    return this.#state.name;
  }

  // ---- inputs ----------------------------------------------------------------------------------------

  /**
   * A user's operation; returns its id, which its completion in {@link ready} carries. It may complete
   * at once (a Get of an entry nothing is pending on, a modification of a lone member) or after later
   * inputs. Errors of an operation are completions: `CONFLICT`, `TIMEOUT`, `SHUTDOWN`, `BAD_REQUEST`,
   * `LIMIT_EXCEEDED` (see the README). A malformed operation or time is refused at once instead, with a
   * thrown `BAD_REQUEST` (or `MESSAGE_TOO_LARGE` for a value): it gets no id and changes nothing. The
   * value is copied in, so the caller never shares an object with the table.
   */
  propose(operation: ProposedOperation<V>, nowMs: number): OperationId {
    const time = checkTime(nowMs, this.#state.nowMs, this.#state.name);
    operation = checkedOperation<V>(operation, this.#state.name);
    this.#state.nowMs = time;
    const state = this.#state;
    const id = state.nextOperation++;
    const pending: PendingOperation<V> =
      operation.op === 'get'
        ? { id, operation, stage: 'install', deadlineMs: undefined }
        : operation.op === 'join' || operation.op === 'leave'
          ? { id, operation, stage: 'start', change: undefined }
          : { id, operation, stage: 'install', request: undefined };
    state.operations.set(id, pending);
    state.runQueue.push({ kind: 'operation', id });
    this.#drain();
    return id;
  }

  /**
   * A message from peer `from` (the host delivers each pair's messages in the order they were sent).
   * A malformed sender, message or time is refused with `BAD_REQUEST` (a value too large with
   * `MESSAGE_TOO_LARGE`) before anything changes.
   */
  step(from: MemberName, message: StoreMessage<V>, nowMs: number): void {
    const time = checkTime(nowMs, this.#state.nowMs, this.#state.name);
    checkMemberName(from, 'the sender');
    message = checkedMessage<V>(message);
    this.#state.nowMs = time;
    const state = this.#state;
    switch (message.kind) {
      case 'voteRequest':
        onVoteRequest(state, from, message.request, message.originator, message.modification);
        break;
      case 'vote':
        onVote(state, from, message.request, message.yes);
        break;
      case 'outcome':
        onOutcome(state, message.request, message.commit);
        break;
      case 'membershipRequest':
        onMembershipRequest(state, message.change, message.replyTo);
        break;
      case 'membershipDone':
        onMembershipDone(state, message.change, message.error);
        break;
      case 'block':
        onBlock(state, from, message.change);
        break;
      case 'blocked':
      case 'installed':
      case 'membersApplied':
        onPhaseReply(state, message.kind, message.change, from);
        break;
      case 'install':
        onInstallPart(state, from, message);
        break;
      case 'members':
        onMembers(state, from, message);
        break;
    }
    this.#drain();
  }

  /** Time passed: answers `TIMEOUT` to every Get whose deadline ({@link StoreReady.wakeAtMs}) is due. `BAD_REQUEST` for a time that is not finite or goes back. */
  tick(nowMs: number): void {
    this.#state.nowMs = checkTime(nowMs, this.#state.nowMs, this.#state.name);
    expireGets(this.#state);
    this.#drain();
  }

  /** The effects of the inputs since the last call: messages to send, operations completed, and the next deadline. */
  ready(): StoreReady<V> {
    const state = this.#state;
    return { messages: state.outbox.splice(0), completed: state.completed.splice(0), wakeAtMs: nextDeadlineMs(state) };
  }

  /** Runs whatever the last input woke (sleepers on a cleared arbiter, waiters on a released lock), oldest first. */
  #drain(): void {
    const queue = this.#state.runQueue;
    while (this.#runHead < queue.length) {
      const wakeup = queue[this.#runHead++] as Wakeup<V>;
      this.#resume(wakeup);
    }
    queue.length = 0;
    this.#runHead = 0;
  }

  #resume(wakeup: Wakeup<V>): void {
    const state = this.#state;
    switch (wakeup.kind) {
      case 'operation': {
        const pending = state.operations.get(wakeup.id);
        if (pending === undefined) return;
        if (isModification(pending)) advanceModification(state, pending);
        else if (isGet(pending)) advanceGet(state, pending);
        else advanceMembership(state, pending);
        return;
      }
      case 'voteRequest':
        onVoteRequest(state, wakeup.from, wakeup.request, wakeup.originator, wakeup.modification);
        return;
      case 'coordinate':
        coordinate(state);
        return;
      case 'blocked':
        answerBlocked(state, wakeup.to, wakeup.change);
        return;
    }
  }

  // ---- inspection ------------------------------------------------------------------------------------

  /** The other members, as this one knows them. */
  get peers(): readonly MemberName[] {
    return this.#state.peers;
  }

  /** Whether this member serves: installed, not joining, not left. */
  get serving(): boolean {
    return this.#state.stage === 'installed';
  }

  /** Counters. */
  stats(): StoreCoreStats {
    return { ...this.#state.counters };
  }

  /** Every committed entry, sorted by key (for tests and state transfer). */
  snapshot(): Array<TableEntry<V>> {
    return tableSnapshot(this.#state);
  }

  /** The hash of the committed table (as `LocalStore.hash`): equal tables, equal hashes. */
  hash(): string {
    return tableHash(this.snapshot());
  }

  /** True when no operation is pending, no arbiter is held, no vote, outcome or membership reply is awaited, and nothing sleeps. */
  get quiet(): boolean {
    const state = this.#state;
    if (
      state.operations.size > 0 ||
      state.votings.size > 0 ||
      state.heldVotes.size > 0 ||
      state.membershipReplies.size > 0
    )
      return false;
    if (state.coordination !== undefined || state.changes.length > 0 || state.installing !== undefined) return false;
    if (
      state.blocking ||
      state.modifying > 0 ||
      state.unblockWaiters.length > 0 ||
      state.idleWaiters.length > 0 ||
      state.installWaiters.length > 0
    )
      return false;
    for (const entry of state.keys.values()) if (entry.holder !== undefined || entry.sleepers.length > 0) return false;
    return true;
  }
}
