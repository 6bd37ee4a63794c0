// The mailbox structure of thesis §4.2.1, as its owner uses it: creating one registers it in the
// kernel's table (the kernel fills in its location and mints its first send capability); the owner
// edits its valid capabilities and names (removing either shoots down the channels made under it,
// §4.2.4) and takes messages from its queue, by a waiting receive, a poll or a readable callback.
import { decodeBody, describeValue, FosError, isFosError, validateName } from '@fos/base';
import { hashCheckedCapability, mintCapability, validateCapability, type Capability } from '../../capability.js';
import type { CreatedMailbox, ReceivedMessage } from '../../kernel.js';
import { receiversPerMailboxMax } from '../../limits.js';
import { locationText, type MailboxLocation } from '../../location.js';
import { validateMailboxName } from '../mailbox-name.js';
import type { Mailbox, ProcessRecord, QueuedMessage } from '../tables.js';
import { addNameTo, removeNameFrom } from './aliases.js';
import { drainChannel, shootDown } from './channels.js';
import { invokeCallback, removeMailbox } from './lifecycle.js';
import { checkCaller, ownedMailbox, publishStats, type KernelState } from './state.js';

// ---- the mailbox and its capabilities and names ----------------------------------------------------

/** `createMailbox`: a new mailbox of `caller`, with a fresh send capability and no name yet. */
export function createMailbox(state: KernelState, caller: ProcessRecord, options: unknown): CreatedMailbox {
  checkCaller(state, caller);
  if (caller.mailboxes.size >= state.limits.mailboxesPerProcessMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `process ${caller.name} already holds mailboxesPerProcessMax (${state.limits.mailboxesPerProcessMax}) mailboxes`,
      {
        value: caller.mailboxes.size,
      },
    );
  }
  const queueMessagesMax = queueBound(state, options);
  const location: MailboxLocation = { machine: state.machine, core: state.core, mailbox: state.nextMailboxId++ };
  const capability = mintCapability(state.random);
  const mailbox: Mailbox = {
    location,
    owner: caller.id,
    queueMessagesMax,
    queue: [],
    names: new Set(),
    capabilityHashes: new Set([hashCheckedCapability(capability)]),
    streams: new Map(),
    channels: new Map(),
    receivers: [],
    readable: undefined,
    taken: 0,
    nameServer: false,
    ringsWaitForRoom: false,
  };
  state.mailboxes.set(location.mailbox, mailbox);
  publishStats(state);
  caller.mailboxes.add(location.mailbox);
  return { location, capability };
}

/**
 * The queue bound `createMailbox` options ask for (`undefined` or an object whose `queueMessagesMax`
 * is absent or a whole number in 1..the machine's `queueMessagesMax`); `BAD_REQUEST` otherwise.
 */
function queueBound(state: KernelState, options: unknown): number {
  const limit = state.limits.queueMessagesMax;
  let requested: unknown;
  try {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      throw new FosError('BAD_REQUEST', `createMailbox options ${describeValue(options)} are not an object`, {
        value: options,
      });
    }
    requested = (options as { queueMessagesMax?: unknown } | undefined)?.queueMessagesMax;
  } catch (error) {
    if (isFosError(error)) throw error;
    throw new FosError('BAD_REQUEST', 'createMailbox options cannot be read (a getter or proxy throws)', {
      value: options,
      cause: error,
    });
  }
  if (requested === undefined) return limit;
  if (!Number.isInteger(requested) || (requested as number) < 1 || (requested as number) > limit) {
    throw new FosError('BAD_REQUEST', `queueMessagesMax ${describeValue(requested)} is not an integer in 1..${limit}`, {
      value: requested,
    });
  }
  return requested as number;
}

/** `destroyMailbox`: later sends to its location answer `UNREACHABLE`; its channels are shot down. */
export function destroyMailbox(state: KernelState, caller: ProcessRecord, location: unknown): void {
  removeMailbox(state, ownedMailbox(state, caller, location));
}

/** Mints and adds one more send capability to an own mailbox. */
export function addCapability(state: KernelState, caller: ProcessRecord, location: unknown): Capability {
  const mailbox = ownedMailbox(state, caller, location);
  if (mailbox.capabilityHashes.size >= state.limits.capabilitiesPerMailboxMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `mailbox ${locationText(mailbox.location)} already has capabilitiesPerMailboxMax (${state.limits.capabilitiesPerMailboxMax}) capabilities`,
      {
        value: mailbox.capabilityHashes.size,
      },
    );
  }
  const capability = mintCapability(state.random);
  mailbox.capabilityHashes.add(hashCheckedCapability(capability));
  return capability;
}

/** Removes a send capability of an own mailbox and shoots down every channel created under it. */
export function removeCapability(
  state: KernelState,
  caller: ProcessRecord,
  location: unknown,
  capability: unknown,
): void {
  const mailbox = ownedMailbox(state, caller, location);
  const hash = hashCheckedCapability(validateCapability(capability));
  if (!mailbox.capabilityHashes.delete(hash)) {
    throw new FosError(
      'PERMISSION_DENIED',
      `the capability is not valid for mailbox ${locationText(mailbox.location)}`,
      { value: mailbox.location },
    );
  }
  shootDown(state, mailbox, (reader) => reader.capabilityHash === hash, 'revoked');
}

/** Adds a valid name to an own mailbox (a direct mapping, thesis §4.3). */
export function addName(state: KernelState, caller: ProcessRecord, location: unknown, name: unknown): void {
  addNameTo(state, ownedMailbox(state, caller, location), validateMailboxName(name));
}

/** Removes a valid name of an own mailbox and shoots down every channel created under it. */
export function removeName(state: KernelState, caller: ProcessRecord, location: unknown, name: unknown): void {
  removeNameFrom(state, ownedMailbox(state, caller, location), validateName(name));
}

/** The valid names of an own mailbox, for inspection. */
export function mailboxNames(state: KernelState, caller: ProcessRecord, location: unknown): string[] {
  return [...ownedMailbox(state, caller, location).names];
}

// ---- receiving -------------------------------------------------------------------------------------------

/** Messages waiting in an own mailbox's queue (a poll, for schedulers such as the dispatcher). */
export function pendingMessages(state: KernelState, caller: ProcessRecord, location: unknown): number {
  return ownedMailbox(state, caller, location).queue.length;
}

/** `tryReceive`: the next message of an own mailbox, or undefined when its queue is empty. */
export function tryReceive(state: KernelState, caller: ProcessRecord, location: unknown): ReceivedMessage | undefined {
  const mailbox = ownedMailbox(state, caller, location);
  const queued = mailbox.queue.shift();
  if (queued === undefined) return undefined;
  mailbox.taken++;
  afterDequeue(state, mailbox);
  return toReceived(queued);
}

/** `receive`: resolves with the next message of an own mailbox, waiting for one if needed. */
export function receive(state: KernelState, caller: ProcessRecord, location: unknown): Promise<ReceivedMessage> {
  const mailbox = ownedMailbox(state, caller, location);
  const queued = mailbox.queue.shift();
  if (queued !== undefined) {
    mailbox.taken++;
    afterDequeue(state, mailbox);
    return Promise.resolve(toReceived(queued));
  }
  if (mailbox.receivers.length >= receiversPerMailboxMax) {
    return Promise.reject(
      new FosError(
        'LIMIT_EXCEEDED',
        `mailbox ${locationText(mailbox.location)} already has receiversPerMailboxMax (${receiversPerMailboxMax}) receives waiting`,
        {
          value: mailbox.location,
        },
      ),
    );
  }
  return new Promise((resolve, reject) =>
    mailbox.receivers.push({ deliver: (message) => resolve(toReceived(message)), fail: reject }),
  );
}

/**
 * Sets (or clears, with null) the callback the kernel invokes when an own mailbox has messages.
 * It runs in a microtask after an arrival (and at once if messages wait), never while its previous
 * (async) run is still going, and again after a run that took messages while some remain; a run
 * that took none waits for the next arrival. One that throws or rejects crashes the process.
 */
export function onReadable(state: KernelState, caller: ProcessRecord, location: unknown, callback: unknown): void {
  const mailbox = ownedMailbox(state, caller, location);
  if (callback !== null && typeof callback !== 'function') {
    throw new FosError(
      'BAD_REQUEST',
      `the readable callback ${describeValue(callback)} is neither a function nor null`,
      {
        value: callback,
      },
    );
  }
  if (callback === null) {
    mailbox.readable = undefined;
    return;
  }
  // One run at a time: while an async run is still going, arrivals only mark the mailbox. After a
  // run, the callback runs again if messages wait and the run took some (or more arrived meanwhile);
  // a run that took none waits for the next arrival, so an owner that leaves its queue unread (a
  // paused dispatcher) is not called in a loop.
  let scheduled = false;
  let running = false;
  let arrivedWhileRunning = false;
  const run = (): void => {
    scheduled = false;
    if (caller.state !== 'running' || mailbox.readable !== readable || mailbox.queue.length === 0) return;
    running = true;
    arrivedWhileRunning = false;
    const takenBefore = mailbox.taken;
    invokeCallback(state, caller, callback as () => void | Promise<void>, () => {
      running = false;
      if (mailbox.queue.length > 0 && (arrivedWhileRunning || mailbox.taken > takenBefore)) readable();
    });
  };
  const readable = (): void => {
    if (running) {
      arrivedWhileRunning = true;
      return;
    }
    if (scheduled) return;
    scheduled = true;
    queueMicrotask(run);
  };
  mailbox.readable = readable;
  if (mailbox.queue.length > 0) readable();
}

/** A dequeue made room: rings whose drain stopped for want of it go on (else their doorbells drain them). */
function afterDequeue(state: KernelState, mailbox: Mailbox): void {
  if (!mailbox.ringsWaitForRoom) return;
  mailbox.ringsWaitForRoom = false;
  for (const reader of mailbox.channels.values()) drainChannel(state, mailbox, reader);
}

function toReceived(message: QueuedMessage): ReceivedMessage {
  return {
    body: decodeBody(message.bytes),
    sender: message.sender,
    destinationName: message.destinationName,
    enqueuedAtMs: message.enqueuedAtMs,
    via: message.via,
  };
}
