// The send path of a process's libfos: the one function its dispatcher sends every message through
// (requests, one-way messages, responses, follow-ups), composed here and nowhere else. A message
// takes one of three ways to the kernel:
//   1. a reply to a reply mailbox that has no name yet: `ukUncheckedSend`, for a name-service member
//      holding the kernel capability (§5.2);
//   2. an open user-space channel to the mailbox under the intended name (§2.2, channels.ts);
//   3. the kernel path: `ukSend` under the intended name, re-sent in place on `WOULD_BLOCK` and
//      abandoned on any other refusal, so that the stream moves on.
// Resolving names and recovering from refusals (§4.2.4) happen above, in `Libfos`: a refusal reaches
// it with the kernel's sequence number.
import { assert, FosError, hasFosErrorCode, isFosError, type Clock, type MessageBody } from '@fos/base';
import type { Destination, SendFunction } from '@fos/dispatcher';
import type { Capability, SystemCalls } from '@fos/microkernel';
import { ChannelTable, type ChannelCounters, type ChannelPolicy, type OpenChannel } from './channels.js';
import { sendBackoffMsMax, sendRetriesMax } from './limits.js';

/** Counters of the kernel path ({@link ukSendFunction}). */
export interface UkSendCounters {
  /** Refusals with `WOULD_BLOCK` (a full queue, or the stream waiting for an earlier re-send). */
  wouldBlock: number;
  /** Messages given up (abandoned) after a refusal that no re-send would cure. */
  abandoned: number;
}

/**
 * The kernel path alone: a dispatcher send function over raw `ukSend`, for processes that address
 * mailboxes directly (no name resolution, no channels: those are libfos's). The destination must
 * carry a location and a capability. A `WOULD_BLOCK` refusal is re-sent in place (filling the
 * stream's gap) after a back-off doubling from 1 ms to {@link sendBackoffMsMax}; any other refusal,
 * or {@link sendRetriesMax} re-sends, abandons the message so the stream moves on, and rejects with
 * the refusal.
 */
export function ukSendFunction(
  kernel: SystemCalls,
  clock: Clock,
  counters: UkSendCounters = { wouldBlock: 0, abandoned: 0 },
): SendFunction {
  return async (destination, body) => {
    const { name, location, capability } = destination;
    if (name === null)
      throw new FosError(
        'BAD_REQUEST',
        'ukSendFunction cannot answer a mailbox that has no name yet (only a name server can, unchecked)',
        { value: location },
      );
    if (location === undefined || capability === undefined) {
      throw new FosError(
        'BAD_REQUEST',
        `ukSendFunction needs a location and a capability for ${name} (name resolution is libfos's)`,
        { value: name },
      );
    }
    let resendOf: number | undefined;
    let backoffMs = 1;
    for (let attempt = 0; ; attempt++) {
      try {
        await kernel.ukSend(name, location, capability, body, resendOf === undefined ? {} : { resendOf });
        return;
      } catch (error) {
        if (!isFosError(error) || error.details.sequence === undefined) throw error;
        if (!hasFosErrorCode(error, 'WOULD_BLOCK') || attempt >= sendRetriesMax) {
          kernel.abandonSend(location, error.details.sequence);
          counters.abandoned++;
          throw error;
        }
        counters.wouldBlock++;
        resendOf = error.details.sequence;
        await new Promise<void>((resolve) => clock.setTimer(backoffMs, resolve));
        backoffMs = Math.min(backoffMs * 2, sendBackoffMsMax);
      }
    }
  };
}

/** What a {@link createSendPath} is made of. */
export interface SendPathOptions extends ChannelPolicy {
  /** Name-service members only: answers a reply mailbox that has no name yet, unchecked (§5.2). */
  readonly kernelCapability: Capability | undefined;
  /** True once this process's reply address has a name (its canonical alias). */
  readonly replyNamed: () => boolean;
}

/** A process's send path: the dispatcher's send function, its counters, and `close` for its channels. */
export interface SendPath {
  readonly send: SendFunction;
  /** Closes every channel (what was written is still delivered). */
  close(): void;
  readonly counters: { readonly send: UkSendCounters; readonly channels: ChannelCounters };
}

/** Composes the send path of one process (see the head of this module). */
export function createSendPath(kernel: SystemCalls, clock: Clock, options: SendPathOptions): SendPath {
  const sendCounters: UkSendCounters = { wouldBlock: 0, abandoned: 0 };
  const kernelPath = ukSendFunction(kernel, clock, sendCounters);
  const channels = new ChannelTable(
    kernel,
    { channelAfterSends: options.channelAfterSends, channelsPerProcessMax: options.channelsPerProcessMax },
    options.replyNamed,
  );
  const kernelCapability = options.kernelCapability;
  const throughChannel = async (entry: OpenChannel, destination: Destination, body: MessageBody): Promise<void> => {
    if (await channels.trySend(entry, body)) return;
    return kernelPath(destination, body);
  };
  const send: SendFunction = (destination, body) => {
    const { name, location, capability } = destination;
    if (name === null && kernelCapability !== undefined) {
      assert(location !== undefined, 'a nameless destination is a reply address with a location');
      return kernel.ukUncheckedSend(kernelCapability, location, body);
    }
    // Anything short of a name, a location and a capability: the kernel path refuses it (BAD_REQUEST).
    if (name === null || location === undefined || capability === undefined) return kernelPath(destination, body);
    const entry = channels.channelFor(name, location, capability);
    return entry === undefined ? kernelPath(destination, body) : throughChannel(entry, destination, body);
  };
  return { send, close: () => channels.close(), counters: { send: sendCounters, channels: channels.counters } };
}
