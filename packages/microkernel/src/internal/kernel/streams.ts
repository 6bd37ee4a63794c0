// `ukSend`, the kernel path of thesis §4.2.4, and the sequencing of its streams. The sender's kernel
// numbers each stream (one process → one mailbox); the owner's kernel checks the intended name and the
// capability against the mailbox (the checks of §4.2.4) and accepts a stream only in sequence. A
// refusal leaves a gap that only the refused message's re-send (`resendOf`) or `abandonSend` (a `skip`)
// fills, so pipelined sends and retries never reorder a stream.
import { describeValue, encodeBody, FosError, isFosError, validateName } from '@fos/base';
import { validateCapability } from '../../capability.js';
import type { KernelMessage } from '../../fabric.js';
import { locationText, type MailboxLocation } from '../../location.js';
import type { Mailbox, ProcessRecord, ReceiveStream, SendStream } from '../tables.js';
import { proxyCoreFor, validateSendTarget } from './proxy.js';
import { acquirePath, releasePath, sendStream, sendStreamKey } from './send-paths.js';
import {
  checkCaller,
  checkDeliveryRights,
  checkQueueSpace,
  enqueue,
  identity,
  request,
  targetMailbox,
  type KernelState,
  type RequestResult,
} from './state.js';

// ---- the sender's kernel -----------------------------------------------------------------------------

/**
 * `ukSend` (thesis §4.2.4): delivers `body` into the mailbox at `location` if `capability` is a valid
 * send capability of it and `destinationName` a valid name of it, checked by the kernel that owns
 * it. Resolves once the message is in the destination's queue. Messages of one stream (this process
 * → that mailbox) are accepted only in sequence: a refusal leaves a gap that only its re-send
 * (`resendOf`) or `abandonSend` fills, so pipelined sends never reorder.
 */
export async function ukSend(
  state: KernelState,
  caller: ProcessRecord,
  destinationName: unknown,
  location: unknown,
  capability: unknown,
  body: unknown,
  options?: unknown,
): Promise<void> {
  checkCaller(state, caller);
  const name = validateName(destinationName);
  const target = validateSendTarget(state, location);
  // A mailbox of another machine is reached through the machine's proxy (proxy.ts).
  const remote = target.machine !== state.machine;
  const toCore = remote ? proxyCoreFor(state, target) : target.core;
  const sendCapability = validateCapability(capability);
  const resendOf = resendOfOption(options);
  const bytes = encodeBody(body, state.limits.messageBytesMax);
  const stream = sendStream(state, caller, target);
  const sequence = takeSequence(state, caller, stream, resendOf);
  const wait = acquirePath(stream, 'kernel');
  if (wait !== undefined) await wait;
  stream.outstanding++;
  caller.unacknowledgedSends++;
  let answer: Promise<RequestResult>;
  try {
    answer = request(
      state,
      toCore,
      (requestId) => ({
        kind: remote ? 'forward' : 'deliver',
        fromCore: state.core,
        requestId,
        sender: identity(state, caller),
        location: target,
        destinationName: name,
        capability: sendCapability,
        sequence,
        bytes,
      }),
      streamKeyOf(caller, target, remote),
      // No unchecked reply crosses machines: a name server of another machine gets no permit.
      remote ? undefined : caller.id,
    );
  } finally {
    releasePath(stream);
  }
  try {
    await answer;
  } catch (error) {
    if (isFosError(error) && error.code !== 'SHUTDOWN') {
      stream.refused.add(sequence);
      throw new FosError(error.code, stripCode(error), {
        value: error.value ?? target,
        details: { sequence },
        cause: error,
      });
    }
    throw error;
  } finally {
    stream.outstanding--;
    caller.unacknowledgedSends--;
    if (stream.outstanding === 0) for (const wake of stream.idleWaiters.splice(0)) wake();
  }
}

/** Gives up a refused send for good: the stream moves past its sequence number. */
export function abandonSend(state: KernelState, caller: ProcessRecord, location: unknown, sequence: unknown): void {
  checkCaller(state, caller);
  const target = validateSendTarget(state, location);
  const remote = target.machine !== state.machine;
  const toCore = remote ? proxyCoreFor(state, target) : target.core;
  const stream = state.sendStreams.get(sendStreamKey(caller, target));
  if (typeof sequence !== 'number' || stream === undefined || !stream.refused.delete(sequence)) {
    throw new FosError(
      'BAD_REQUEST',
      `sequence ${describeValue(sequence)} is not a refused send to ${locationText(target)}`,
      { value: sequence },
    );
  }
  state.port.post(
    toCore,
    {
      kind: remote ? 'forwardSkip' : 'skip',
      fromCore: state.core,
      sender: identity(state, caller),
      location: target,
      sequence,
    },
    streamKeyOf(caller, target, remote),
  );
}

/** The fabric stream of the caller's messages to `target` (to its core, or to the proxy's). */
function streamKeyOf(caller: ProcessRecord, target: MailboxLocation, remote: boolean): string {
  return remote ? `${caller.id}>${locationText(target)}` : `${caller.id}>${target.core}/${target.mailbox}`;
}

/**
 * The `resendOf` of `ukSend` options (`undefined`, or an object whose `resendOf` is absent or a
 * number); `BAD_REQUEST` otherwise. Whether it names a refused send is for {@link takeSequence}.
 */
function resendOfOption(options: unknown): number | undefined {
  if (options === undefined) return undefined;
  let resendOf: unknown;
  try {
    if (typeof options === 'object' && options !== null) resendOf = (options as { resendOf?: unknown }).resendOf;
  } catch (error) {
    throw new FosError('BAD_REQUEST', 'ukSend options cannot be read (a getter or proxy throws)', {
      value: options,
      cause: error,
    });
  }
  if (typeof options !== 'object' || options === null || (resendOf !== undefined && typeof resendOf !== 'number')) {
    throw new FosError('BAD_REQUEST', `ukSend options ${describeValue(options)} are not { resendOf?: number }`, {
      value: options,
    });
  }
  return resendOf;
}

/** The sequence number of a send: the refused one it re-sends, else the stream's next. */
function takeSequence(
  state: KernelState,
  caller: ProcessRecord,
  stream: SendStream,
  resendOf: number | undefined,
): number {
  if (resendOf !== undefined) {
    if (!stream.refused.delete(resendOf))
      throw new FosError('BAD_REQUEST', `resendOf ${resendOf} is not a refused send of this stream`, {
        value: resendOf,
      });
    return resendOf;
  }
  if (caller.unacknowledgedSends >= state.limits.unacknowledgedSendsPerProcessMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `process ${caller.name} has unacknowledgedSendsPerProcessMax (${state.limits.unacknowledgedSendsPerProcessMax}) sends outstanding`,
      {
        value: caller.unacknowledgedSends,
      },
    );
  }
  return stream.nextSequence++;
}

/** The refusal's message without its `CODE: ` prefix (the re-thrown error adds it again). */
function stripCode(error: FosError): string {
  return error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
}

// ---- the owner's kernel -----------------------------------------------------------------------------------

/**
 * The owner's side of `ukSend` (`deliver` with a name): the checks of thesis §4.2.4, then the enqueue.
 * Returns the name server's process when the mailbox is a name server's (the sender gets a permit).
 */
export function acceptDelivery(
  state: KernelState,
  message: Extract<KernelMessage, { kind: 'deliver' }>,
  destinationName: string,
): string | undefined {
  const mailbox = targetMailbox(state, message.location);
  const stream = receiveStream(mailbox, message.sender.process);
  if (message.sequence !== stream.expected) {
    throw new FosError(
      'WOULD_BLOCK',
      `message ${message.sequence} of ${message.sender.process} to ${locationText(mailbox.location)} is out of sequence (waiting for ${stream.expected})`,
      {
        value: message.sequence,
      },
    );
  }
  checkDeliveryRights(mailbox, destinationName, message.capability);
  checkQueueSpace(mailbox);
  enqueue(state, mailbox, {
    bytes: message.bytes,
    sender: message.sender,
    destinationName,
    enqueuedAtMs: state.clock.now(),
    via: 'kernel',
  });
  stream.expected++;
  while (stream.skipped.delete(stream.expected)) stream.expected++;
  return mailbox.nameServer ? mailbox.owner : undefined;
}

/** The owner's side of `abandonSend` (`skip`): the stream may pass over that sequence number. */
export function acceptSkip(state: KernelState, location: MailboxLocation, process: string, sequence: number): void {
  const mailbox = state.mailboxes.get(location.mailbox);
  if (mailbox === undefined) return;
  const stream = receiveStream(mailbox, process);
  if (sequence < stream.expected) return;
  stream.skipped.add(sequence);
  while (stream.skipped.delete(stream.expected)) stream.expected++;
}

function receiveStream(mailbox: Mailbox, process: string): ReceiveStream {
  let stream = mailbox.streams.get(process);
  if (stream === undefined) {
    stream = { expected: 0, skipped: new Set() };
    mailbox.streams.set(process, stream);
  }
  return stream;
}
