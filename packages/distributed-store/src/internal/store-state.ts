// Every piece of a member's protocol state, as plain data, and the small steps the two halves of the
// protocol (two-phase commit, membership) share: the arbiter of an entry, the modify and blocking
// locks of Table 4.7, and the effects handed to the host. Nothing here waits: a step that cannot go on
// records where it sleeps (a sleeper on an arbiter, a waiter on a lock), and the step that clears the
// arbiter or releases the lock puts the sleepers back on the run queue, which the core drains before it
// returns to its host.
import { describeValue, FosError } from '@fos/base';
import type {
  CompletedOperation,
  OperationId,
  OperationResult,
  OutgoingMessage,
  StoreCoreStats,
} from '../replicated/core-types.js';
import type { MembershipChange, MemberName, Modification, StoreMessage, TableEntry } from '../replicated/messages.js';
import type { Versioned } from '../store.js';
import type { ArbiterHolder, StoreRules } from './rules.js';

/** Something that goes on when it is taken off the run queue. */
export type Wakeup<V> =
  /** A local operation continues from its stage. */
  | { readonly kind: 'operation'; readonly id: OperationId }
  /** A vote request that slept on an arbiter asks it again (Figure 4-2 (b)). */
  | {
      readonly kind: 'voteRequest';
      readonly from: MemberName;
      readonly request: string;
      readonly originator: MemberName;
      readonly modification: Modification<V>;
    }
  /** The coordinator's current membership change goes on, or the next one starts. */
  | { readonly kind: 'coordinate' }
  /** A member blocked by a coordinator answers `blocked` once it is idle. */
  | { readonly kind: 'blocked'; readonly to: MemberName; readonly change: string };

/** What sleeps on an arbiter until it clears. */
export type ArbiterSleeper<V> = Extract<Wakeup<V>, { kind: 'operation' | 'voteRequest' }>;

/** What waits for the blocking lock to be granted (no modification in progress, no entry pending). */
export type IdleWaiter<V> = Extract<Wakeup<V>, { kind: 'coordinate' | 'blocked' }>;

/** One entry: its committed value, its arbiter, and what sleeps on the arbiter. */
export type KeyState<V> = {
  committed: Versioned<V> | undefined;
  holder: ArbiterHolder | undefined;
  readonly sleepers: Array<ArbiterSleeper<V>>;
};

/** A modification this member originates, from Table 4.7's modify lock to its outcome. */
export type PendingModification<V> = {
  readonly id: OperationId;
  readonly operation: Modification<V>;
  stage: 'install' | 'modifyLock' | 'arbiter' | 'votes';
  request: string | undefined;
};

/** A Get, waiting for installation or for a pending entry's outcome (until `deadlineMs`). */
export type PendingGet = {
  readonly id: OperationId;
  readonly operation: { readonly op: 'get'; readonly key: string };
  stage: 'install' | 'pending';
  deadlineMs: number | undefined;
};

/** A join or a leave, asked of the coordinator and waiting for its answer. */
export type PendingMembership = {
  readonly id: OperationId;
  readonly operation: { readonly op: 'join'; readonly sponsor: MemberName } | { readonly op: 'leave' };
  stage: 'start' | 'change' | 'afterChange';
  change: MembershipChange | undefined;
};

export type PendingOperation<V> = PendingModification<V> | PendingGet | PendingMembership;

export function isModification<V>(pending: PendingOperation<V>): pending is PendingModification<V> {
  const { op } = pending.operation;
  return op === 'insert' || op === 'update' || op === 'delete';
}

export function isGet<V>(pending: PendingOperation<V>): pending is PendingGet {
  return pending.operation.op === 'get';
}

/** The originator's tally of one request's votes. */
export type Voting = {
  readonly id: OperationId;
  readonly waiting: Set<MemberName>;
  readonly yes: MemberName[];
  no: number;
};

/** A yes vote this member gave, waiting for its outcome. */
export type HeldVote<V> = { readonly key: string; readonly modification: Modification<V> };

/** A membership change the coordinator carries out, and the phase it is in. */
export type Coordination = {
  readonly change: MembershipChange;
  readonly replyTo: MemberName;
  /** The peers when the change started (every one of them is blocked). */
  readonly peers: readonly MemberName[];
  /** The members once the change is done. */
  readonly next: readonly MemberName[];
  phase: 'block' | 'blockingLock' | 'install' | 'leaverAck';
  /** Who has not answered the current phase yet. */
  readonly waiting: Set<MemberName>;
};

export type CoreState<V> = {
  readonly name: MemberName;
  readonly rules: StoreRules;
  readonly installChunkBytesMax: number;
  /** The latest time an input brought. */
  nowMs: number;
  peers: MemberName[];
  stage: 'joining' | 'installed' | 'left';
  readonly keys: Map<string, KeyState<V>>;
  readonly operations: Map<OperationId, PendingOperation<V>>;
  /** Gets sleeping on an arbiter with a deadline. */
  readonly getsWaiting: Set<OperationId>;
  /** Originator side: requests waiting for votes. */
  readonly votings: Map<string, Voting>;
  /** Voter side: yes votes waiting for their outcome. */
  readonly heldVotes: Map<string, HeldVote<V>>;
  readonly runQueue: Array<Wakeup<V>>;
  // Table 4.7.
  modifying: number;
  blocking: boolean;
  readonly unblockWaiters: OperationId[];
  readonly idleWaiters: Array<IdleWaiter<V>>;
  // Table 4.6.
  readonly installWaiters: OperationId[];
  /** Local joins and leaves by change id, waiting for the coordinator's answer. */
  readonly membershipReplies: Map<string, OperationId>;
  /** At the coordinator: changes waiting for their turn (one change at a time). */
  readonly changes: Array<{ readonly change: MembershipChange; readonly replyTo: MemberName }>;
  coordination: Coordination | undefined;
  /** A newcomer's table as its parts arrive (in order: the transport keeps a pair's order). */
  installing: { readonly change: string; nextPart: number; readonly entries: Array<TableEntry<V>> } | undefined;
  nextOperation: number;
  nextRequest: number;
  nextChange: number;
  readonly counters: { -readonly [K in keyof StoreCoreStats]: number };
  // Effects, taken by the host.
  readonly outbox: Array<OutgoingMessage<V>>;
  readonly completed: Array<CompletedOperation<V>>;
};

export function sendMessage<V>(state: CoreState<V>, to: MemberName, message: StoreMessage<V>): void {
  state.outbox.push({ to, message });
}

/** Ends a local operation with `result`. */
export function complete<V>(state: CoreState<V>, id: OperationId, result: OperationResult<V>): void {
  state.operations.delete(id);
  state.getsWaiting.delete(id);
  state.completed.push({ id, result });
}

export function fail<V>(state: CoreState<V>, id: OperationId, error: FosError): void {
  complete(state, id, { ok: false, error });
}

/** True when this member serves; otherwise the operation waits for installation, or fails with `SHUTDOWN` once the member has left. */
export function installedOrWait<V>(state: CoreState<V>, id: OperationId, operation: string): boolean {
  if (state.stage === 'installed') return true;
  if (state.stage === 'joining') state.installWaiters.push(id);
  else
    fail(
      state,
      id,
      new FosError('SHUTDOWN', `${operation}: member ${state.name} has left the store`, { value: state.name }),
    );
  return false;
}

export function keyState<V>(state: CoreState<V>, key: string): KeyState<V> {
  let entry = state.keys.get(key);
  if (entry === undefined) {
    entry = { committed: undefined, holder: undefined, sleepers: [] };
    state.keys.set(key, entry);
  }
  return entry;
}

/** Releases `request`'s hold on the arbiter (if it still holds it) and wakes every sleeper. */
export function clearArbiter<V>(state: CoreState<V>, entry: KeyState<V>, request: string): void {
  if (entry.holder?.request === request) entry.holder = undefined;
  state.runQueue.push(...entry.sleepers.splice(0));
  checkIdle(state);
}

/** Table 4.7 `modifyLock`: taken by every new modification; false (and queued) while a membership change blocks. */
export function modifyLock<V>(state: CoreState<V>, id: OperationId): boolean {
  if (state.blocking && !state.rules.modifyWhileBlocking) {
    state.unblockWaiters.push(id);
    return false;
  }
  state.modifying++;
  return true;
}

/** Table 4.7 `modifyRelease`: a modification returns; may grant the blocking lock. */
export function modifyRelease<V>(state: CoreState<V>): void {
  state.modifying--;
  checkIdle(state);
}

/** Table 4.7 `blockingRelease`: modifications may start again; those that slept in `modifyLock` wake. */
export function blockingRelease<V>(state: CoreState<V>): void {
  state.blocking = false;
  for (const id of state.unblockWaiters.splice(0)) state.runQueue.push({ kind: 'operation', id });
}

/** The blocking lock is granted once no modification is in progress here and no entry is pending. */
export function isIdle<V>(state: CoreState<V>): boolean {
  if (state.modifying > 0) return false;
  for (const entry of state.keys.values()) if (entry.holder !== undefined) return false;
  return true;
}

function checkIdle<V>(state: CoreState<V>): void {
  if (state.idleWaiters.length > 0 && isIdle(state)) state.runQueue.push(...state.idleWaiters.splice(0));
}

export function meetsPrecondition<V>(committed: Versioned<V> | undefined, modification: Modification<V>): boolean {
  if (modification.op === 'insert') return committed === undefined;
  return committed !== undefined && committed.version === modification.expectedVersion;
}

export function applyModification<V>(
  committed: Versioned<V> | undefined,
  modification: Modification<V>,
): Versioned<V> | undefined {
  switch (modification.op) {
    case 'insert':
      return { value: modification.value, version: 1 };
    case 'update':
      return { value: modification.value, version: (committed?.version ?? 0) + 1 };
    case 'delete':
      return undefined;
  }
}

export function conflict<V>(modification: Modification<V>, why: string): FosError {
  return new FosError('CONFLICT', `${modification.op} of store key ${describeValue(modification.key)}: ${why}`, {
    value: modification.key,
  });
}
