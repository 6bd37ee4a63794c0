// Moving a mailbox to a successor's mailbox, for the migration of a process or a fleet member. The
// thesis only touches migration (§4.2.2: a registration is made inactive while its process moves, so
// senders wait instead of failing; §5.2: a process cannot move while its first registration is
// pending, since the unchecked reply goes to a location). This kernel adds the move itself: the old
// mailbox's queue, valid names and send capabilities go over to the successor's kernel, so every
// capability published for the old mailbox is good for the new one and no queued message is lost or
// reordered.
import { FosError } from '@fos/base';
import { hashCheckedCapability, validateCapability, type Capability } from '../../capability.js';
import type { KernelMessage } from '../../fabric.js';
import type { MovedMailbox } from '../../kernel.js';
import { locationText } from '../../location.js';
import { standaloneBytes } from '../bytes.js';
import type { Mailbox, ProcessRecord, QueuedMessage } from '../tables.js';
import { removeMailbox } from './lifecycle.js';
import { ownedMailbox, publishStats, request, targetMailbox, validateTarget, type KernelState } from './state.js';

/**
 * Hands an own mailbox over to a successor's mailbox: the old mailbox closes at once (later sends to
 * it answer `UNREACHABLE`, its receives fail, what its channels held is drained into its queue and the
 * channels are closed), and the successor's kernel receives its queued messages (in order, before
 * anything queued there, with their stamps), its valid names and its send capabilities. A send
 * capability of the successor's mailbox is the successor's consent. The successor's kernel first
 * checks the consent and its limits without changing anything, so such a refusal leaves the old
 * mailbox as it was; if the successor changes between that check and the move, the old mailbox is
 * restored with its queue and names (not its channels or waiting receives), and the refusal thrown.
 * Per-stream sequence state is not moved: senders start a new stream to the new location.
 */
export async function moveMailbox(
  state: KernelState,
  caller: ProcessRecord,
  location: unknown,
  successor: unknown,
  successorCapability: unknown,
): Promise<MovedMailbox> {
  const checked = ownedMailbox(state, caller, location);
  const target = validateTarget(state, successor);
  const capability = validateCapability(successorCapability);
  if (locationText(target) === locationText(checked.location))
    throw new FosError('BAD_REQUEST', `a mailbox cannot be moved onto itself (${locationText(target)})`, {
      value: target,
    });
  if (checked.nameServer)
    throw new FosError(
      'BAD_REQUEST',
      `mailbox ${locationText(checked.location)} is a name server's; unregister it first`,
      { value: checked.location },
    );
  // A dry run first, so that a refusal (no consent, a limit) leaves the old mailbox as it was.
  await request(state, target.core, (requestId) => ({
    kind: 'moveIn',
    fromCore: state.core,
    requestId,
    location: target,
    capability,
    messages: [],
    names: [...checked.names],
    capabilityHashes: [...checked.capabilityHashes],
    check: true,
  }));
  const mailbox = ownedMailbox(state, caller, location);
  const messages = closeForMove(state, mailbox);
  const names = [...mailbox.names];
  const capabilityHashes = [...mailbox.capabilityHashes];
  removeMailbox(state, mailbox);
  try {
    // Ring copies may be slab pieces: each message travels as bytes of its own.
    const moving = messages.map((message) => ({ ...message, bytes: standaloneBytes(message.bytes) }));
    await request(state, target.core, (requestId) => ({
      kind: 'moveIn',
      fromCore: state.core,
      requestId,
      location: target,
      capability,
      messages: moving,
      names,
      capabilityHashes,
    }));
  } catch (error) {
    if (caller.state === 'running' && !state.shutDown) restoreAfterMove(state, caller, mailbox, messages);
    throw error;
  }
  return { location: target, messages: messages.length, names };
}

/** Closes the mailbox's channels as destroyed, drains what they held into its queue and takes the queue. */
function closeForMove(state: KernelState, mailbox: Mailbox): QueuedMessage[] {
  for (const reader of [...mailbox.channels.values()]) {
    reader.cutoff ??= reader.ring.close('destroyed');
    for (
      let bytes = reader.ring.readNext(reader.cutoff);
      bytes !== undefined;
      bytes = reader.ring.readNext(reader.cutoff)
    ) {
      mailbox.queue.push({
        bytes,
        sender: reader.sender,
        destinationName: reader.destinationName,
        enqueuedAtMs: state.clock.now(),
        via: 'channel',
      });
    }
  }
  return mailbox.queue.splice(0);
}

/**
 * The successor changed since the dry run (its mailbox went away, a limit filled up): restores the old
 * mailbox (its channels and waiting receives are gone, the rest is as it was).
 */
function restoreAfterMove(
  state: KernelState,
  caller: ProcessRecord,
  mailbox: Mailbox,
  messages: readonly QueuedMessage[],
): void {
  state.mailboxes.set(mailbox.location.mailbox, mailbox);
  publishStats(state);
  caller.mailboxes.add(mailbox.location.mailbox);
  mailbox.queue.push(...messages);
  if (mailbox.queue.length > 0) mailbox.readable?.();
}

/** The successor's side of `moveMailbox` (`moveIn`): checks the consent and the limits, then takes everything over. */
export function acceptMove(state: KernelState, message: Extract<KernelMessage, { kind: 'moveIn' }>): undefined {
  const mailbox = targetMailbox(state, message.location);
  if (!mailbox.capabilityHashes.has(hashCheckedCapability(message.capability as Capability))) {
    throw new FosError(
      'PERMISSION_DENIED',
      `the capability is not valid for mailbox ${locationText(mailbox.location)}: the successor did not consent`,
      { value: mailbox.location },
    );
  }
  const names = new Set([...mailbox.names, ...message.names]);
  if (names.size > state.limits.namesPerMailboxMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `mailbox ${locationText(mailbox.location)} would hold ${names.size} names (namesPerMailboxMax ${state.limits.namesPerMailboxMax})`,
      { value: names.size },
    );
  }
  const hashes = new Set([...mailbox.capabilityHashes, ...message.capabilityHashes]);
  if (hashes.size > state.limits.capabilitiesPerMailboxMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `mailbox ${locationText(mailbox.location)} would hold ${hashes.size} capabilities (capabilitiesPerMailboxMax ${state.limits.capabilitiesPerMailboxMax})`,
      {
        value: hashes.size,
      },
    );
  }
  if (message.check === true) return undefined;
  for (const name of message.names) mailbox.names.add(name);
  for (const hash of message.capabilityHashes) mailbox.capabilityHashes.add(hash);
  // The moved messages were accepted before anything queued here: they go first (past the queue
  // bound if need be: each was within the old mailbox's bound, and the bound is the kernel's).
  // (They were counted as delivered when the old mailbox took them.)
  const moved: QueuedMessage[] = [...message.messages];
  for (
    let receiver = mailbox.receivers[0];
    receiver !== undefined && moved.length > 0 && mailbox.queue.length === 0;
    receiver = mailbox.receivers[0]
  ) {
    mailbox.receivers.shift();
    receiver.deliver(moved.shift() as QueuedMessage);
  }
  mailbox.queue.unshift(...moved);
  if (mailbox.queue.length > 0) mailbox.readable?.();
  return undefined;
}
