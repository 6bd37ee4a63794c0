// `@fos/dispatcher/testing`: a way out for tests of code built on the dispatcher alone. A fos process
// gets its send function from libfos (`@fos/libfos-messaging`), which owns the send path: unchecked
// replies, user-space channels, the kernel path and its re-sends.
import { describeValue, hasFosErrorCode, isFosError, type Clock, type MessageBody } from '@fos/base';
import { checkedDestination, checkMethods, checkRecord, readArgument, refuse } from './internal/arguments.js';
import type { SystemCalls } from '@fos/microkernel';
import type { Destination, SendFunction } from './types.js';

/** Re-sends of one message refused with `WOULD_BLOCK` before {@link rawSendFunction} gives up. */
export const rawSendRetriesMax = 1000;

/** Counters of a {@link rawSendFunction}. */
export interface RawSendCounters {
  /** Refusals with `WOULD_BLOCK` (each re-sent 1 ms later). */
  wouldBlock: number;
  /** Messages given up after a refusal, so that their stream moves on. */
  abandoned: number;
}

/**
 * A send function over raw `ukSend`, for tests: every destination carries its name, location and
 * capability (nothing is resolved). A `WOULD_BLOCK` refusal is re-sent in place 1 ms later, up to
 * {@link rawSendRetriesMax} times; any other refusal abandons the message (the stream moves on) and
 * rejects with it. `BAD_REQUEST` for a kernel, clock or counters without what they must have, and
 * (a rejection) for a destination without a name, a location and a capability.
 */
export function rawSendFunction(
  kernel: SystemCalls,
  clock: Clock,
  counters: RawSendCounters = { wouldBlock: 0, abandoned: 0 },
): SendFunction {
  checkMethods(kernel, 'the kernel', ['ukSend', 'abandonSend']);
  checkMethods(clock, 'the clock', ['setTimer']);
  checkRecord(counters, 'the counters');
  readArgument(counters, 'the counters', () => {
    for (const name of ['wouldBlock', 'abandoned'] as const)
      if (typeof counters[name] !== 'number')
        refuse(`the counter ${name} ${describeValue(counters[name])} is not a number`, counters[name]);
  });
  const attempt = async (
    destination: Destination,
    body: MessageBody,
    resendOf: number | undefined,
    retries: number,
  ): Promise<void> => {
    const { name, location, capability } = checkedDestination(destination);
    if (name === null) refuse('rawSendFunction sends under a name, not to an unnamed mailbox', destination);
    if (location === undefined || capability === undefined)
      refuse(`rawSendFunction needs the location and capability of ${name}`, destination);
    try {
      await kernel.ukSend(name, location, capability, body, resendOf === undefined ? {} : { resendOf });
    } catch (error) {
      const sequence = isFosError(error) ? error.details.sequence : undefined;
      if (sequence === undefined) throw error;
      if (hasFosErrorCode(error, 'WOULD_BLOCK') && retries < rawSendRetriesMax) {
        counters.wouldBlock++;
        await new Promise<void>((resolve) => clock.setTimer(1, resolve));
        return attempt(destination, body, sequence, retries + 1);
      }
      kernel.abandonSend(location, sequence);
      counters.abandoned++;
      throw error;
    }
  };
  return (destination, body) => attempt(destination, body, undefined, 0);
}
