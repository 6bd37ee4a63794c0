// What a member's core takes in, checked at its boundary: a user's operation (`propose`) and a peer's
// message (`step`). Each check reads every field once and hands back a fresh object of what it read,
// so that the core never meets a getter or a proxy again, and refuses with `BAD_REQUEST` (or
// `MESSAGE_TOO_LARGE` for a value) before the core changes anything.
import { copyBody, describeValue, type MessageBody } from '@fos/base';
import { storeValueBytesMax } from '../limits.js';
import type { ProposedOperation } from '../replicated/core-types.js';
import type { MembershipChange, Modification, StoreMessage, TableEntry } from '../replicated/messages.js';
import {
  checkBoolean,
  checkKey,
  checkMemberName,
  checkMemberNames,
  checkRecord,
  checkText,
  checkValue,
  checkVersion,
  readArgument,
  refuse,
} from './arguments.js';

/** A modification as a proposal or a vote request carries it; `copyValue` copies the value (a user's), else only checks it (a peer's). */
function checkedModification<V>(modification: unknown, copyValue: boolean): Modification<V> {
  checkRecord(modification, 'a modification');
  const { op, key, value, expectedVersion } = modification;
  const checkedValue = (): V => {
    // Only an object can be shared with the caller: a string, a number or a bigint is checked, not copied.
    if (copyValue && typeof value === 'object' && value !== null)
      return copyBody(value as MessageBody, storeValueBytesMax) as V;
    checkValue(value);
    return value as V;
  };
  switch (op) {
    case 'insert':
      return { op, key: checkKey(key), value: checkedValue() };
    case 'update':
      return { op, key: checkKey(key), value: checkedValue(), expectedVersion: checkVersion(expectedVersion) };
    case 'delete':
      return { op, key: checkKey(key), expectedVersion: checkVersion(expectedVersion) };
    default:
      return refuse(`a modification's op ${describeValue(op)} is not insert, update or delete`, op);
  }
}

/** A user's operation for `propose`, checked; its value is a copy, so the caller never shares it with the table. */
export function checkedOperation<V>(operation: unknown, member: string): ProposedOperation<V> {
  return readArgument(operation, 'a store operation', () => {
    checkRecord(operation, 'a store operation');
    switch (operation.op) {
      case 'get':
        return { op: 'get', key: checkKey(operation.key) };
      case 'join': {
        const sponsor = checkMemberName(operation.sponsor, 'the sponsor');
        if (sponsor === member) refuse(`member ${member} cannot sponsor its own join`, sponsor);
        return { op: 'join', sponsor };
      }
      case 'leave':
        return { op: 'leave' };
      default:
        return checkedModification<V>(operation, true);
    }
  });
}

function checkedChange(change: unknown): MembershipChange {
  checkRecord(change, 'a membership change');
  const { op } = change;
  if (op !== 'join' && op !== 'leave') refuse(`a membership change's op ${describeValue(op)} is not join or leave`, op);
  return { change: checkText(change.change, 'a change id'), op, member: checkMemberName(change.member) };
}

function checkedTable<V>(table: unknown): Array<TableEntry<V>> {
  if (!Array.isArray(table)) refuse(`an install's table is not an array: ${describeValue(table)}`, table);
  return [...(table as unknown[])].map((entry) => {
    checkRecord(entry, 'a table entry');
    const { key, value, version } = entry;
    checkValue(value);
    return { key: checkKey(key), value: value as V, version: checkVersion(version, 'a table entry version') };
  });
}

function checkedPart(part: unknown): number {
  if (typeof part !== 'number' || !Number.isSafeInteger(part) || part < 0)
    refuse(`an install's part ${describeValue(part)} is not a non-negative integer`, part);
  return part;
}

/** The fields of a message of each kind, checked (the kind itself is checked by the caller). */
function checkedFields<V>(message: Record<string, unknown>): StoreMessage<V> {
  const change = (): string => checkText(message.change, `a ${String(message.kind)} message's change`);
  switch (message.kind) {
    case 'voteRequest':
      return {
        kind: 'voteRequest',
        request: checkText(message.request, 'a request id'),
        originator: checkMemberName(message.originator, 'the originator'),
        modification: checkedModification<V>(message.modification, false),
      };
    case 'vote':
      return {
        kind: 'vote',
        request: checkText(message.request, 'a request id'),
        yes: checkBoolean(message.yes, 'a vote'),
      };
    case 'outcome':
      return {
        kind: 'outcome',
        request: checkText(message.request, 'a request id'),
        key: checkKey(message.key),
        commit: checkBoolean(message.commit, 'an outcome'),
      };
    case 'membershipRequest':
      return {
        kind: 'membershipRequest',
        change: checkedChange(message.change),
        replyTo: checkMemberName(message.replyTo),
      };
    case 'membershipDone': {
      const error = message.error === undefined ? {} : { error: checkText(message.error, 'a refusal') };
      return { kind: 'membershipDone', change: change(), ...error };
    }
    case 'install': {
      const members =
        message.members === undefined ? {} : { members: checkMemberNames(message.members, 'the members') };
      return {
        kind: 'install',
        change: change(),
        part: checkedPart(message.part),
        table: checkedTable<V>(message.table),
        ...members,
      };
    }
    case 'members': {
      const ack = message.ack === undefined ? {} : { ack: checkBoolean(message.ack, 'ack') };
      return { kind: 'members', change: change(), members: checkMemberNames(message.members, 'the members'), ...ack };
    }
    case 'block':
    case 'blocked':
    case 'installed':
    case 'membersApplied':
      return { kind: message.kind, change: change() };
    default:
      return refuse(`a store message's kind ${describeValue(message.kind)} is not one of the protocol`, message.kind);
  }
}

/** A peer's message for `step`, checked; values are checked, not copied (a transport hands each message over once). */
export function checkedMessage<V>(message: unknown): StoreMessage<V> {
  return readArgument(message, 'a store message', () => {
    checkRecord(message, 'a store message');
    return checkedFields<V>(message);
  });
}
