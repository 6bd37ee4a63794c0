// Figure 4-2 of the thesis as steps of a state machine: the originator's local code (claim the arbiter,
// ask every peer to vote, commit only if all vote yes) and each voter's remote code (claim the arbiter
// or sleep on it or refuse, as the rules say; vote; apply the outcome). Gets are local and wait out a
// pending entry up to `pendingGetWaitMsMax`.
import { assert, describeValue, FosError } from '@fos/base';
import { pendingGetWaitMsMax, requestsInFlightMax } from '../limits.js';
import type { MemberName, Modification } from '../replicated/messages.js';
import {
  applyModification,
  clearArbiter,
  complete,
  conflict,
  fail,
  installedOrWait,
  isGet,
  keyState,
  meetsPrecondition,
  modifyLock,
  modifyRelease,
  sendMessage,
  type CoreState,
  type KeyState,
  type PendingGet,
  type PendingModification,
  isModification,
} from './store-state.js';

/** Figure 4-2 (a), local code, from wherever the modification stopped last (with Table 4.7's modify lock). */
export function advanceModification<V>(state: CoreState<V>, pending: PendingModification<V>): void {
  if (pending.stage === 'install') {
    if (!installedOrWait(state, pending.id, pending.operation.op)) return;
    pending.stage = 'modifyLock';
  }
  if (pending.stage === 'modifyLock') {
    if (!modifyLock(state, pending.id)) return;
    // A membership change may have removed this member while the modification slept in modifyLock.
    if (state.stage === 'left') {
      modifyRelease(state);
      installedOrWait(state, pending.id, pending.operation.op);
      return;
    }
    pending.stage = 'arbiter';
  }
  assert(
    pending.stage === 'arbiter',
    `a modification is woken only before it asked for votes (it is at ${pending.stage})`,
  );
  originate(state, pending);
}

/** Claims the arbiter (never while it is held, by the rules of this package), checks the precondition, asks for votes. */
function originate<V>(state: CoreState<V>, pending: PendingModification<V>): void {
  const { operation } = pending;
  const entry = keyState(state, operation.key);
  if (entry.holder !== undefined && !state.rules.originateWhileHeld) {
    state.counters.arbiterWaits++;
    entry.sleepers.push({ kind: 'operation', id: pending.id });
    return;
  }
  const request = `${state.name}#${state.nextRequest++}`;
  entry.holder = { request, originator: state.name };
  pending.request = request;
  if (state.rules.originatorChecksPrecondition && !meetsPrecondition(entry.committed, operation)) {
    state.counters.conflicts++;
    finishModification(state, pending, entry, conflict(operation, 'its precondition does not hold here'));
    return;
  }
  if (state.peers.length === 0) {
    commit(state, entry, operation);
    finishModification(state, pending, entry, undefined);
    return;
  }
  if (state.votings.size >= requestsInFlightMax) {
    const error = new FosError(
      'LIMIT_EXCEEDED',
      `requestsInFlightMax (${requestsInFlightMax}) modifications are in flight at ${state.name}`,
      { value: state.votings.size },
    );
    finishModification(state, pending, entry, error);
    return;
  }
  state.votings.set(request, { id: pending.id, waiting: new Set(state.peers), yes: [], no: 0 });
  pending.stage = 'votes';
  for (const peer of state.peers)
    sendMessage(state, peer, { kind: 'voteRequest', request, originator: state.name, modification: operation });
}

/** A vote for a request this member originated; the last one decides. */
export function onVote<V>(state: CoreState<V>, from: MemberName, request: string, yes: boolean): void {
  const voting = state.votings.get(request);
  if (voting === undefined || !voting.waiting.delete(from)) return;
  if (yes) voting.yes.push(from);
  else voting.no++;
  if (voting.waiting.size > 0) return;
  state.votings.delete(request);
  const pending = state.operations.get(voting.id);
  assert(
    pending !== undefined && isModification(pending) && pending.stage === 'votes',
    `request ${request} belongs to a modification waiting for votes`,
  );
  const modification = pending.operation;
  const commitNow = voting.no === 0;
  for (const peer of voting.yes)
    sendMessage(state, peer, { kind: 'outcome', request, key: modification.key, commit: commitNow });
  const entry = keyState(state, modification.key);
  if (!commitNow) {
    state.counters.conflicts++;
    finishModification(state, pending, entry, conflict(modification, `${voting.no} member(s) refused it`));
    return;
  }
  commit(state, entry, modification);
  finishModification(state, pending, entry, undefined);
}

function commit<V>(state: CoreState<V>, entry: KeyState<V>, modification: Modification<V>): void {
  entry.committed = applyModification(entry.committed, modification);
  state.counters.committed++;
}

/** The arbiter cleared, the modify lock released, and the operation answered (`error` undefined: committed). */
function finishModification<V>(
  state: CoreState<V>,
  pending: PendingModification<V>,
  entry: KeyState<V>,
  error: FosError | undefined,
): void {
  assert(pending.request !== undefined, 'a modification that finishes has claimed the arbiter');
  clearArbiter(state, entry, pending.request);
  modifyRelease(state);
  if (error === undefined) complete(state, pending.id, { ok: true, entry: undefined });
  else fail(state, pending.id, error);
}

/** Figure 4-2 (b), remote code: claim the arbiter and vote, sleep on it, or refuse, as the rules say. */
export function onVoteRequest<V>(
  state: CoreState<V>,
  from: MemberName,
  request: string,
  originator: MemberName,
  modification: Modification<V>,
): void {
  const entry = keyState(state, modification.key);
  const decision = state.rules.arbitrate(entry.holder, originator);
  if (decision === 'sleep') {
    state.counters.arbiterWaits++;
    entry.sleepers.push({ kind: 'voteRequest', from, request, originator, modification });
    return;
  }
  if (
    decision === 'refuse' ||
    (state.rules.voterChecksPrecondition && !meetsPrecondition(entry.committed, modification))
  ) {
    state.counters.votesNo++;
    sendMessage(state, from, { kind: 'vote', request, yes: false });
    return;
  }
  entry.holder = { request, originator };
  state.heldVotes.set(request, { key: modification.key, modification });
  state.counters.votesYes++;
  sendMessage(state, from, { kind: 'vote', request, yes: true });
}

/** The outcome of a request this member voted yes on: apply it (nothing was applied before), then clear the arbiter. */
export function onOutcome<V>(state: CoreState<V>, request: string, commitNow: boolean): void {
  const held = state.heldVotes.get(request);
  if (held === undefined) return;
  state.heldVotes.delete(request);
  const entry = keyState(state, held.key);
  if (commitNow && (!state.rules.applyOnlyIfOwner || entry.holder?.request === request))
    commit(state, entry, held.modification);
  clearArbiter(state, entry, request);
}

/**
 * A Get reads the committed entry here. An entry with a modification pending is waited out (up to
 * `pendingGetWaitMsMax` from when the Get found it pending), then answered; past the bound, `TIMEOUT`,
 * never the older value.
 */
export function advanceGet<V>(state: CoreState<V>, pending: PendingGet): void {
  const { key } = pending.operation;
  if (pending.stage === 'install') {
    if (!installedOrWait(state, pending.id, 'get')) return;
    pending.stage = 'pending';
    if (state.keys.get(key)?.holder !== undefined) {
      state.counters.getWaits++;
      pending.deadlineMs = state.nowMs + pendingGetWaitMsMax;
    }
  }
  const entry = state.keys.get(key);
  if (entry?.holder === undefined) {
    complete(state, pending.id, {
      ok: true,
      entry: entry?.committed === undefined ? undefined : { ...entry.committed },
    });
    return;
  }
  assert(pending.deadlineMs !== undefined, 'a Get that waits has a deadline');
  if (pending.deadlineMs <= state.nowMs) {
    fail(state, pending.id, getTimeout(key));
    return;
  }
  entry.sleepers.push({ kind: 'operation', id: pending.id });
  state.getsWaiting.add(pending.id);
}

/** Answers `TIMEOUT` to every Get whose deadline has passed; a Get that gives up leaves no sleeper behind. */
export function expireGets<V>(state: CoreState<V>): void {
  for (const id of [...state.getsWaiting]) {
    const get = state.operations.get(id);
    assert(get !== undefined && isGet(get), 'a waiting Get is a pending operation');
    assert(get.deadlineMs !== undefined, 'a waiting Get has a deadline');
    if (get.deadlineMs > state.nowMs) continue;
    const sleepers = state.keys.get(get.operation.key)?.sleepers ?? [];
    const index = sleepers.findIndex((sleeper) => sleeper.kind === 'operation' && sleeper.id === id);
    assert(index >= 0, 'a waiting Get sleeps on its entry');
    sleepers.splice(index, 1);
    fail(state, id, getTimeout(get.operation.key));
  }
}

/** The earliest deadline of a waiting Get, or undefined. */
export function nextDeadlineMs<V>(state: CoreState<V>): number | undefined {
  let earliest: number | undefined;
  for (const id of state.getsWaiting) {
    const deadlineMs = (state.operations.get(id) as PendingGet | undefined)?.deadlineMs;
    if (deadlineMs !== undefined && (earliest === undefined || deadlineMs < earliest)) earliest = deadlineMs;
  }
  return earliest;
}

function getTimeout(key: string): FosError {
  return new FosError(
    'TIMEOUT',
    `store key ${describeValue(key)} stayed pending for pendingGetWaitMsMax (${pendingGetWaitMsMax} ms)`,
    { value: key },
  );
}
