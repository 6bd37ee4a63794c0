// The options of a dispatcher and of a served mailbox, read once and checked: `BAD_REQUEST` (naming the
// value) for anything a caller got wrong, before the dispatcher or the kernel changes anything.
import { describeValue, type Clock } from '@fos/base';
import type { MailboxLocation, SystemCalls } from '@fos/microkernel';
import type { DispatcherLimits } from '../limits.js';
import { callTimeoutMsMax, defaultDispatcherLimits } from '../limits.js';
import type { ReplyAddress, RequestHandler, SendFunction } from '../types.js';
import {
  checkedLocation,
  checkedReplyAddress,
  checkFunction,
  checkMethods,
  checkRecord,
  readArgument,
  refuse,
} from './arguments.js';

/** The limits, each a positive integer (`callTimeoutMsDefault` also at most `callTimeoutMsMax`), defaults filled in. */
export function checkedLimits(limits: unknown): DispatcherLimits {
  if (limits === undefined) return defaultDispatcherLimits;
  return readArgument(limits, 'the limits', () => {
    checkRecord(limits, 'the limits');
    const checked: Record<string, number> = { ...defaultDispatcherLimits };
    for (const name of Object.keys(defaultDispatcherLimits)) {
      const value = limits[name];
      if (value === undefined) continue;
      const maximum = name === 'callTimeoutMsDefault' ? callTimeoutMsMax : Number.MAX_SAFE_INTEGER;
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > maximum)
        refuse(`limit ${name} ${describeValue(value)} is not an integer in 1..${maximum}`, value);
      checked[name] = value;
    }
    return checked as unknown as DispatcherLimits;
  });
}

/** What a dispatcher is made of, checked. */
export type CheckedDispatcherOptions = {
  readonly kernel: SystemCalls;
  readonly send: SendFunction;
  readonly clock: Clock;
  readonly replyAddress: ReplyAddress;
  readonly crash: (error: unknown) => void;
  readonly log: ((line: string) => void) | undefined;
  readonly limits: DispatcherLimits;
  readonly stopWhen: Promise<unknown> | undefined;
};

/** The options of a dispatcher: a kernel, a clock, functions where functions go, a reply address, limits. */
export function checkedDispatcherOptions(options: unknown): CheckedDispatcherOptions {
  checkRecord(options, 'the options of a dispatcher');
  const given = readArgument(options, 'the options of a dispatcher', () => ({
    kernel: options.kernel,
    send: options.send,
    clock: options.clock,
    replyAddress: options.replyAddress,
    crash: options.crash,
    log: options.log,
    limits: options.limits,
    stopWhen: options.stopWhen,
  }));
  checkMethods(given.kernel, 'the kernel', ['onReadable', 'tryReceive', 'pendingMessages']);
  checkFunction(given.send, 'send');
  checkMethods(given.clock, 'the clock', ['now', 'setTimer']);
  checkFunction(given.crash, 'crash');
  if (given.log !== undefined) checkFunction(given.log, 'log');
  if (given.stopWhen !== undefined && !(given.stopWhen instanceof Promise))
    refuse(`stopWhen is not a promise: ${describeValue(given.stopWhen)}`, given.stopWhen);
  return {
    kernel: given.kernel as SystemCalls,
    send: given.send as SendFunction,
    clock: given.clock as Clock,
    replyAddress: checkedReplyAddress(given.replyAddress),
    crash: given.crash as (error: unknown) => void,
    log: given.log as ((line: string) => void) | undefined,
    limits: checkedLimits(given.limits),
    stopWhen: given.stopWhen as Promise<unknown> | undefined,
  };
}

/** A served mailbox's options: a handler, a finite priority, live threads in 1..`liveThreadsMaxBound`. */
export function checkedRegistration(
  location: unknown,
  options: unknown,
  liveThreadsMaxBound: number,
): { location: MailboxLocation; handler: RequestHandler; priority: number; liveThreadsMax: number } {
  const checkedAt = checkedLocation(location);
  checkRecord(options, 'the options of a served mailbox');
  const { handler, priority, liveThreadsMax } = readArgument(options, 'the options of a served mailbox', () => ({
    handler: options.handler,
    priority: options.priority ?? 0,
    liveThreadsMax: options.liveThreadsMax ?? liveThreadsMaxBound,
  }));
  checkFunction(handler, 'the handler');
  if (typeof priority !== 'number' || !Number.isFinite(priority))
    refuse(`priority ${describeValue(priority)} is not a finite number`, priority);
  if (
    typeof liveThreadsMax !== 'number' ||
    !Number.isInteger(liveThreadsMax) ||
    liveThreadsMax < 1 ||
    liveThreadsMax > liveThreadsMaxBound
  )
    refuse(
      `liveThreadsMax ${describeValue(liveThreadsMax)} is not an integer in 1..${liveThreadsMaxBound}`,
      liveThreadsMax,
    );
  return { location: checkedAt, handler: handler as RequestHandler, priority, liveThreadsMax };
}
