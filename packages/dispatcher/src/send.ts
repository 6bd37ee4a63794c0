import type { Clock } from '@fos/sim';
import { FosError, hasFosErrorCode, isFosError, type SystemCalls } from '@fos/microkernel';
import type { SendFunction } from './types.js';

/** Re-sends of one message refused with `WOULD_BLOCK` before {@link ukSendFunction} gives up. */
export const sendRetriesMax = 1000;
/** The longest back-off between two re-sends, in ms. */
export const sendBackoffMsMax = 64;

/** Counters of a {@link ukSendFunction}. */
export interface UkSendCounters {
  /** Refusals with `WOULD_BLOCK` (a full queue, or the stream waiting for an earlier re-send). */
  wouldBlock: number;
  /** Messages given up (abandoned) after a refusal that no re-send would cure. */
  abandoned: number;
}

/**
 * A dispatcher send function over raw `ukSend`, for processes that address mailboxes directly (no
 * name resolution: that is libfos). The destination must carry a location and a capability. A
 * `WOULD_BLOCK` refusal is re-sent in place (filling the stream's gap) after a back-off doubling from
 * 1 ms to {@link sendBackoffMsMax}; any other refusal, or {@link sendRetriesMax} re-sends, abandons the
 * message so the stream moves on, and rejects with the refusal.
 */
export function ukSendFunction(kernel: SystemCalls, clock: Clock, counters: UkSendCounters = { wouldBlock: 0, abandoned: 0 }): SendFunction {
  return async (destination, body) => {
    const { name, location, capability } = destination;
    if (name === null) throw new FosError('BAD_REQUEST', 'ukSendFunction cannot answer a mailbox that has no name yet (only a name server can, unchecked)', { value: location });
    if (location === undefined || capability === undefined) {
      throw new FosError('BAD_REQUEST', `ukSendFunction needs a location and a capability for ${name} (name resolution is libfos's)`, { value: name });
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
