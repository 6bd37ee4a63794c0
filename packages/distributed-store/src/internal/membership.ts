// Table 4.6 (join, leave) and Table 4.7 (the blocking lock) as steps of a state machine. A change is
// carried out by the coordinator (the lowest-named member), one change at a time, in phases: the
// blocking lock on every peer (`block`/`blocked`) and then here, the table copied to a newcomer in
// `install` parts (`installed`), a leaver told first (`members` with `ack`, `membersApplied`), and the new
// member list sent to every member, which releases the blocking lock.
import { assert, describedCharactersMax, describeValue, encodeBody, FosError } from '@fos/base';
import { storePeersMax } from '../limits.js';
import type { MembershipChange, MemberName, StoreMessage, TableEntry } from '../replicated/messages.js';
import {
  blockingRelease,
  complete,
  fail,
  installedOrWait,
  isIdle,
  sendMessage,
  type CoreState,
  type Coordination,
  type PendingMembership,
} from './store-state.js';

/** A peer's text as it is when it is short, else described (cut, and its length counted). */
function shortText(text: string): string {
  return text.length <= describedCharactersMax ? text : describeValue(text);
}

/** A join or a leave of this member, from wherever it stopped last. */
export function advanceMembership<V>(state: CoreState<V>, pending: PendingMembership): void {
  const { operation } = pending;
  if (pending.stage === 'start') {
    if (operation.op === 'join') {
      if (state.stage !== 'joining') {
        fail(
          state,
          pending.id,
          new FosError('BAD_REQUEST', `member ${state.name} is ${state.stage}, not joining`, { value: state.name }),
        );
        return;
      }
    } else {
      if (!installedOrWait(state, pending.id, 'leave')) return;
      if (state.peers.length === 0) {
        fail(
          state,
          pending.id,
          new FosError('BAD_REQUEST', `member ${state.name} is the last one: a store keeps at least one member`, {
            value: state.name,
          }),
        );
        return;
      }
    }
    const change: MembershipChange = {
      change: `${state.name}:${state.nextChange++}`,
      op: operation.op,
      member: state.name,
    };
    pending.stage = 'change';
    pending.change = change;
    state.membershipReplies.set(change.change, pending.id);
    if (operation.op === 'join')
      sendMessage(state, operation.sponsor, { kind: 'membershipRequest', change, replyTo: state.name });
    else onMembershipRequest(state, change, state.name);
    return;
  }
  assert(
    pending.stage === 'afterChange',
    `a membership operation is woken only before or after its change (it is at ${pending.stage})`,
  );
  // A joining member serves once the table is installed (the coordinator installs it before it answers).
  if (operation.op === 'join' && !installedOrWait(state, pending.id, 'join')) return;
  complete(state, pending.id, { ok: true, entry: undefined });
}

/** The coordinator's answer to a change this member asked for. */
export function onMembershipDone<V>(state: CoreState<V>, change: string, error: string | undefined): void {
  const id = state.membershipReplies.get(change);
  if (id === undefined) return;
  state.membershipReplies.delete(change);
  const pending = state.operations.get(id) as PendingMembership | undefined;
  assert(pending?.change !== undefined, `change ${change} belongs to a join or leave waiting for it`);
  if (error !== undefined) {
    fail(
      state,
      id,
      new FosError('BAD_REQUEST', `${pending.change.op} of ${pending.change.member}: ${shortText(error)}`, {
        value: pending.change.member,
      }),
    );
    return;
  }
  pending.stage = 'afterChange';
  state.runQueue.push({ kind: 'operation', id });
}

function coordinatorOf<V>(state: CoreState<V>): MemberName {
  return [state.name, ...state.peers].sort()[0] as MemberName;
}

/** A change asked of this member: forwarded to the coordinator, or queued here behind the ones before it. */
export function onMembershipRequest<V>(state: CoreState<V>, change: MembershipChange, replyTo: MemberName): void {
  const coordinator = coordinatorOf(state);
  if (coordinator !== state.name || state.stage !== 'installed') {
    sendMessage(state, coordinator, { kind: 'membershipRequest', change, replyTo });
    return;
  }
  state.changes.push({ change, replyTo });
  if (state.coordination === undefined) state.runQueue.push({ kind: 'coordinate' });
}

/** Why the coordinator refuses `change`, or undefined. */
function refusal<V>(state: CoreState<V>, change: MembershipChange): string | undefined {
  const members = [state.name, ...state.peers];
  if (change.op === 'join' && members.includes(change.member)) return `${change.member} is a member already`;
  if (change.op === 'leave' && !members.includes(change.member)) return `${change.member} is not a member`;
  if (change.op === 'leave' && members.length === 1) return 'a store keeps at least one member';
  if (change.op === 'join' && members.length > storePeersMax)
    return `a store has at most storePeersMax + 1 (${storePeersMax + 1}) members`;
  return undefined;
}

/** Starts the next queued change: sends `block` to every peer (the first phase). */
function startChange<V>(state: CoreState<V>): void {
  const queued = state.changes.shift();
  if (queued === undefined) return;
  const { change, replyTo } = queued;
  // This member may have stopped coordinating (it left, or a lower name joined) since the change was queued.
  if (state.stage !== 'installed' || coordinatorOf(state) !== state.name) {
    onMembershipRequest(state, change, replyTo);
    state.runQueue.push({ kind: 'coordinate' });
    return;
  }
  const why = refusal(state, change);
  if (why !== undefined) {
    reply(state, change, replyTo, why);
    state.runQueue.push({ kind: 'coordinate' });
    return;
  }
  const members = [state.name, ...state.peers];
  const next =
    change.op === 'join' ? [...members, change.member] : members.filter((member) => member !== change.member);
  state.coordination = {
    change,
    replyTo,
    peers: [...state.peers],
    next,
    phase: 'block',
    waiting: new Set(state.peers),
  };
  for (const peer of state.peers) sendMessage(state, peer, { kind: 'block', change: change.change });
}

/** The coordinator goes on with its change once everyone the current phase waits for has answered. */
export function coordinate<V>(state: CoreState<V>): void {
  if (state.coordination === undefined) startChange(state);
  const coordination = state.coordination;
  if (coordination === undefined || coordination.waiting.size > 0) return;
  const { change } = coordination;
  switch (coordination.phase) {
    case 'block':
      // Every peer is blocked; now the blocking lock here, which waits until nothing is pending.
      coordination.phase = 'blockingLock';
      state.blocking = true;
      coordinate(state);
      return;
    case 'blockingLock':
      if (!isIdle(state)) {
        state.idleWaiters.push({ kind: 'coordinate' });
        return;
      }
      coordination.phase = 'install';
      if (change.op === 'join') sendInstallParts(state, coordination);
      coordinate(state);
      return;
    case 'install': {
      // A member that leaves stops serving before anyone may modify again: while every member is
      // blocked nothing changes, so its last Gets are still current.
      coordination.phase = 'leaverAck';
      const leaver = leaverOf(state, coordination);
      if (leaver !== undefined) {
        coordination.waiting.add(leaver);
        sendMessage(state, leaver, { kind: 'members', change: change.change, members: coordination.next, ack: true });
      }
      coordinate(state);
      return;
    }
    case 'leaverAck':
      finishChange(state, coordination);
      return;
  }
}

function leaverOf<V>(state: CoreState<V>, coordination: Coordination): MemberName | undefined {
  const { change } = coordination;
  return change.op === 'leave' && change.member !== state.name ? change.member : undefined;
}

/** The new member list to every member (which releases their blocking lock), then here; the change is answered. */
function finishChange<V>(state: CoreState<V>, coordination: Coordination): void {
  const { change, peers, next } = coordination;
  const leaver = leaverOf(state, coordination);
  const told = change.op === 'join' ? [...peers, change.member] : peers.filter((peer) => peer !== leaver);
  for (const peer of told) sendMessage(state, peer, { kind: 'members', change: change.change, members: next });
  applyMembers(state, next);
  blockingRelease(state);
  state.coordination = undefined;
  reply(state, change, coordination.replyTo, undefined);
  state.runQueue.push({ kind: 'coordinate' });
}

function reply<V>(state: CoreState<V>, change: MembershipChange, replyTo: MemberName, error: string | undefined): void {
  if (replyTo === state.name) onMembershipDone(state, change.change, error);
  else
    sendMessage(
      state,
      replyTo,
      error === undefined
        ? { kind: 'membershipDone', change: change.change }
        : { kind: 'membershipDone', change: change.change, error },
    );
}

/** An answer to the current phase (`blocked`, `installed` or `membersApplied`). */
export function onPhaseReply<V>(
  state: CoreState<V>,
  kind: 'blocked' | 'installed' | 'membersApplied',
  change: string,
  from: MemberName,
): void {
  const coordination = state.coordination;
  if (coordination === undefined || coordination.change.change !== change) return;
  const expected = { block: 'blocked', blockingLock: undefined, install: 'installed', leaverAck: 'membersApplied' }[
    coordination.phase
  ];
  if (kind !== expected || !coordination.waiting.delete(from)) return;
  if (coordination.waiting.size === 0) state.runQueue.push({ kind: 'coordinate' });
}

/** From the coordinator: take the blocking lock, and answer `blocked` once no modification is pending here. */
export function onBlock<V>(state: CoreState<V>, from: MemberName, change: string): void {
  state.blocking = true;
  state.runQueue.push({ kind: 'blocked', to: from, change });
}

/** A blocked member answers once it is idle (Table 4.7 `blockingLock` granted). */
export function answerBlocked<V>(state: CoreState<V>, to: MemberName, change: string): void {
  if (!isIdle(state)) {
    state.idleWaiters.push({ kind: 'blocked', to, change });
    return;
  }
  sendMessage(state, to, { kind: 'blocked', change });
}

/** From the coordinator: the members from now on; releases the blocking lock. */
export function onMembers<V>(
  state: CoreState<V>,
  from: MemberName,
  message: Extract<StoreMessage<V>, { kind: 'members' }>,
): void {
  applyMembers(state, message.members);
  blockingRelease(state);
  if (message.ack === true) sendMessage(state, from, { kind: 'membersApplied', change: message.change });
}

/** Sends the table to the newcomer in parts of at most `installChunkBytesMax` encoded bytes of entries (at least one part). */
function sendInstallParts<V>(state: CoreState<V>, coordination: Coordination): void {
  const { change, next } = coordination;
  const parts: Array<Array<TableEntry<V>>> = [[]];
  let bytes = 0;
  for (const entry of tableSnapshot(state)) {
    const entryBytes = encodeBody(entry, Number.MAX_SAFE_INTEGER).length;
    const current = parts[parts.length - 1] as Array<TableEntry<V>>;
    if (current.length > 0 && bytes + entryBytes > state.installChunkBytesMax) {
      parts.push([entry]);
      bytes = entryBytes;
    } else {
      current.push(entry);
      bytes += entryBytes;
    }
  }
  coordination.waiting.add(change.member);
  parts.forEach((table, part) =>
    sendMessage(state, change.member, {
      kind: 'install',
      change: change.change,
      part,
      table,
      ...(part === parts.length - 1 ? { members: next } : {}),
    }),
  );
}

/** A newcomer collects the parts of the table; the last one (it carries the members) installs it. */
export function onInstallPart<V>(
  state: CoreState<V>,
  from: MemberName,
  message: Extract<StoreMessage<V>, { kind: 'install' }>,
): void {
  if (state.stage !== 'joining') return;
  const { change, part, table, members } = message;
  if (part === 0) state.installing = { change, nextPart: 0, entries: [] };
  const installing = state.installing;
  // Parts come in order from one coordinator, one change at a time; anything else is not ours.
  if (installing === undefined || installing.change !== change || installing.nextPart !== part) return;
  installing.nextPart++;
  installing.entries.push(...table);
  if (members === undefined) return;
  state.installing = undefined;
  state.keys.clear();
  for (const { key, value, version } of installing.entries)
    state.keys.set(key, { committed: { value, version }, holder: undefined, sleepers: [] });
  applyMembers(state, members);
  sendMessage(state, from, { kind: 'installed', change });
}

function applyMembers<V>(state: CoreState<V>, members: readonly MemberName[]): void {
  if (!members.includes(state.name)) {
    state.stage = 'left';
    state.peers = [];
    return;
  }
  state.peers = members.filter((member) => member !== state.name);
  if (state.stage === 'joining') {
    state.stage = 'installed';
    for (const id of state.installWaiters.splice(0)) state.runQueue.push({ kind: 'operation', id });
  }
}

/** Every committed entry, sorted by key. */
export function tableSnapshot<V>(state: CoreState<V>): Array<TableEntry<V>> {
  const entries: Array<TableEntry<V>> = [];
  for (const [key, entry] of state.keys)
    if (entry.committed !== undefined)
      entries.push({ key, value: entry.committed.value, version: entry.committed.version });
  return entries.sort((left, right) => (left.key < right.key ? -1 : left.key > right.key ? 1 : 0));
}
