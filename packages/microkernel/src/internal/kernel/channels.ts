// User-space channels, doorbells and shoot-down (thesis §2.2, and the user-space half of §4.2.4):
// a channel is made by the kernel with the checks of `ukSend`; afterwards the writer copies messages
// into a shared ring without the kernel, and the owner's kernel copies them out into the mailbox queue
// (the second copy of §2.2). Removing the name or the capability a channel was made under shoots it
// down, so a live channel always has a valid name and capability. The writer's end lives in the
// sender's kernel (`writers`), the reader's end in the owner's (`mailbox.channels`).
import { encodeBodyTransient, FosError, validateName } from '@fos/base';
import { hashCheckedCapability, validateCapability, type Capability } from '../../capability.js';
import type { KernelMessage } from '../../fabric.js';
import { locationText, type MailboxLocation } from '../../location.js';
import { ChannelRing, type ChannelCloseReason, type RingWriteResult } from '../../ring.js';
import type { ChannelReader, ChannelWriter, Mailbox, ProcessRecord } from '../tables.js';
import { acquirePath, releasePath, sendStream } from './send-paths.js';
import {
  checkCaller,
  checkDeliveryRights,
  enqueue,
  identity,
  request,
  targetMailbox,
  validateTarget,
  type KernelState,
} from './state.js';

// ---- the writer's side (the sender's kernel) ------------------------------------------------------

/**
 * Creates a user-space channel to a mailbox (thesis §2.2, §4.2.4) under an intended name and a
 * capability, with the checks of `ukSend`. One channel per stream; removing the name or the capability
 * from the mailbox shoots it down.
 */
export async function createChannel(
  state: KernelState,
  caller: ProcessRecord,
  destinationName: unknown,
  location: unknown,
  capability: unknown,
): Promise<ChannelWriter> {
  checkCaller(state, caller);
  const name = validateName(destinationName);
  const target = validateTarget(state, location);
  const sendCapability = validateCapability(capability);
  const stream = sendStream(state, caller, target);
  if (stream.channel !== undefined) {
    throw new FosError(
      'NAME_EXISTS',
      `process ${caller.name} already has a channel to ${locationText(target)}; close it first`,
      { value: target },
    );
  }
  const ring = ChannelRing.create(state.limits.channelRingBytes);
  const channelId = `${state.core}.${state.nextChannelNumber++}`;
  await request(state, target.core, (requestId) => ({
    kind: 'channelOpen',
    fromCore: state.core,
    requestId,
    channelId,
    sender: identity(state, caller),
    destinationName: name,
    location: target,
    capability: sendCapability,
    ring: ring.buffer,
  }));
  if (stream.channel !== undefined || caller.state !== 'running') {
    state.port.post(target.core, { kind: 'channelClose', fromCore: state.core, channelId, location: target });
    throw new FosError(
      'NAME_EXISTS',
      `process ${caller.name} opened another channel to ${locationText(target)} meanwhile`,
      { value: target },
    );
  }
  const writer: ChannelWriter = {
    channelId,
    ring,
    location: target,
    destinationName: name,
    capability: sendCapability,
    process: caller.id,
    stream,
    drainWaiters: [],
    closed: false,
  };
  stream.channel = writer;
  caller.channels.add(channelId);
  state.writers.set(channelId, writer);
  return writer;
}

/**
 * Writes one message into a channel, whole or not at all: `WOULD_BLOCK` when the ring is full,
 * `PERMISSION_DENIED` once shot down (the sender recovers through the name service), `UNREACHABLE`
 * once the mailbox is gone. Waits first until this stream's kernel-path sends are answered.
 */
export async function channelSend(
  state: KernelState,
  caller: ProcessRecord,
  writer: ChannelWriter,
  body: unknown,
): Promise<void> {
  checkCaller(state, caller);
  if (writer.closed) throw closedChannelError(writer, writer.ring.closeReason ?? 'closed');
  // Encoded into the codec's buffer and copied straight into the ring (no copy of its own), unless
  // this send must wait for the path first: then other encodes may run meanwhile.
  let bytes = encodeBodyTransient(
    body,
    Math.min(state.limits.messageBytesMax, ChannelRing.messageBytesMaxFor(writer.ring.capacityBytes)),
  );
  const stream = writer.stream;
  if (stream.refused.size > 0) {
    throw new FosError(
      'WOULD_BLOCK',
      `the stream to ${locationText(writer.location)} has refused sends (${[...stream.refused].join(', ')}); re-send or abandon them first`,
      {
        value: writer.location,
      },
    );
  }
  const wait = acquirePath(stream, 'channel');
  if (wait !== undefined) {
    bytes = new Uint8Array(bytes); // a copy (the codec's buffer is a Node Buffer, whose slice is a view)
    await wait;
  }
  let result: RingWriteResult;
  try {
    result = writer.ring.tryWrite(bytes);
  } finally {
    releasePath(stream);
  }
  if (result.kind === 'full') {
    throw new FosError(
      'WOULD_BLOCK',
      `channel to ${writer.destinationName} (${locationText(writer.location)}) is full`,
      { value: writer.location },
    );
  }
  if (result.kind === 'closed') {
    closeChannelWriter(state, writer);
    throw closedChannelError(writer, result.reason);
  }
  if (state.port.ringDoorbell !== undefined) state.port.ringDoorbell(writer.location.core);
  else if (result.doorbell)
    state.port.post(writer.location.core, {
      kind: 'doorbell',
      fromCore: state.core,
      channelId: writer.channelId,
      location: writer.location,
    });
}

/** Closes a channel from the writer's side; what was written is still delivered. */
export function closeChannelWriter(state: KernelState, writer: ChannelWriter): void {
  if (!writer.closed) {
    writer.closed = true;
    if (!state.shutDown)
      state.port.post(writer.location.core, {
        kind: 'channelClose',
        fromCore: state.core,
        channelId: writer.channelId,
        location: writer.location,
      });
  }
  state.writers.delete(writer.channelId);
  state.processes.get(writer.process)?.channels.delete(writer.channelId);
  if (writer.stream.channel === writer) writer.stream.channel = undefined;
  for (const wake of writer.drainWaiters.splice(0)) wake();
}

/** The reader's kernel said a channel ran empty (`drained`): wakes the sends waiting for that. */
export function onDrained(state: KernelState, channelId: string): void {
  const writer = state.writers.get(channelId);
  if (writer === undefined) return;
  if (writer.ring.empty || writer.ring.closed || writer.ring.requestDrainNotice()) {
    for (const wake of writer.drainWaiters.splice(0)) wake();
  }
}

function closedChannelError(writer: ChannelWriter, reason: ChannelCloseReason): FosError {
  const where = `${writer.destinationName} (${locationText(writer.location)})`;
  if (reason === 'destroyed')
    return new FosError('UNREACHABLE', `channel to ${where} is gone: the mailbox was destroyed`, {
      value: writer.location,
    });
  if (reason === 'revoked')
    return new FosError('PERMISSION_DENIED', `channel to ${where} was shot down: its name or capability was removed`, {
      value: writer.location,
    });
  return new FosError('BAD_REQUEST', `channel to ${where} is closed`, { value: writer.location });
}

// ---- the reader's side (the owner's kernel) --------------------------------------------------------

/** The owner's side of `createChannel` (`channelOpen`): the checks of `ukSend`, then the reader's end. */
export function openChannelReader(
  state: KernelState,
  message: Extract<KernelMessage, { kind: 'channelOpen' }>,
): undefined {
  const mailbox = targetMailbox(state, message.location);
  checkDeliveryRights(mailbox, message.destinationName, message.capability);
  const reader: ChannelReader = {
    channelId: message.channelId,
    ring: ChannelRing.attach(message.ring),
    sender: message.sender,
    writerCore: message.fromCore,
    destinationName: message.destinationName,
    capabilityHash: hashCheckedCapability(message.capability as Capability),
    cutoff: undefined,
  };
  mailbox.channels.set(message.channelId, reader);
  state.channelMailboxes.add(mailbox);
  // The reader starts asleep, wanting a doorbell, before the writer hears the channel is open: else
  // the first messages would wait in the ring until something else made this mailbox drain it.
  drainChannel(state, mailbox, reader);
  return undefined;
}

/** The writer closed its end (`channelClose`): deliver what it wrote, then forget the channel. */
export function closeChannelReader(
  state: KernelState,
  location: MailboxLocation,
  channelId: string,
  reason: ChannelCloseReason,
): void {
  const mailbox = state.mailboxes.get(location.mailbox);
  const reader = mailbox?.channels.get(channelId);
  if (mailbox === undefined || reader === undefined) return;
  reader.cutoff ??= reader.ring.close(reason);
  drainChannel(state, mailbox, reader);
}

/** A `doorbell` message: the ring of one channel has messages for a reader that slept. */
export function onDoorbell(state: KernelState, location: MailboxLocation, channelId: string): void {
  const mailbox = state.mailboxes.get(location.mailbox);
  const reader = mailbox?.channels.get(channelId);
  if (mailbox && reader) drainChannel(state, mailbox, reader);
}

/** Copies ring messages into the mailbox queue (the second copy of §2.2) while there is room. */
export function drainChannel(state: KernelState, mailbox: Mailbox, reader: ChannelReader): number {
  let moved = 0;
  for (;;) {
    if (mailbox.receivers.length === 0 && mailbox.queue.length >= mailbox.queueMessagesMax) {
      mailbox.ringsWaitForRoom = true;
      return moved;
    }
    const bytes = reader.ring.readNext(reader.cutoff);
    if (bytes !== undefined) {
      enqueue(state, mailbox, {
        bytes,
        sender: reader.sender,
        destinationName: reader.destinationName,
        enqueuedAtMs: state.clock.now(),
        via: 'channel',
      });
      moved++;
      continue;
    }
    if (reader.cutoff !== undefined) {
      mailbox.channels.delete(reader.channelId);
      if (mailbox.channels.size === 0) state.channelMailboxes.delete(mailbox);
      state.port.post(reader.writerCore, { kind: 'drained', fromCore: state.core, channelId: reader.channelId });
      return moved;
    }
    if (reader.ring.takeDrainRequest())
      state.port.post(reader.writerCore, { kind: 'drained', fromCore: state.core, channelId: reader.channelId });
    if (reader.ring.prepareToSleep()) return moved;
  }
}

/**
 * Copies what every channel into this core's mailboxes holds into their queues (what a worker core
 * does when its doorbell rings). Returns how many messages it moved.
 */
export function pollChannels(state: KernelState): number {
  let moved = 0;
  // Deleting the entry being visited (a drained, closed channel) is safe while iterating a Map or Set.
  for (const mailbox of state.channelMailboxes) {
    for (const reader of mailbox.channels.values()) moved += drainChannel(state, mailbox, reader);
  }
  return moved;
}

/**
 * Shoot-down (§4.2.4): closes the rings of the mailbox's channels that `matches` picks. Each reader
 * delivers up to the write index at the instant of the close and not one message more.
 */
export function shootDown(
  state: KernelState,
  mailbox: Mailbox,
  matches: (reader: ChannelReader) => boolean,
  reason: ChannelCloseReason,
): void {
  for (const reader of [...mailbox.channels.values()]) {
    if (!matches(reader) || reader.cutoff !== undefined) continue;
    reader.cutoff = reader.ring.close(reason);
    drainChannel(state, mailbox, reader);
  }
}
