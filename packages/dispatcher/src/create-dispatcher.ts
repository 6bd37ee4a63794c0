import { validateName } from '@fos/base';
import type { ProcessContext } from '@fos/microkernel';
import { Dispatcher } from './dispatcher.js';
import { checkAddressName, checkFunction, checkMethods, checkRecord, readArgument } from './internal/arguments.js';
import { checkedLimits } from './internal/options.js';
import type { DispatcherLimits } from './limits.js';
import type { SendFunction } from './types.js';

/**
 * Creates a dispatcher for a process: a reply mailbox named `replyName` (the process's own name
 * until libfos gives it a canonical alias), and `send` as the way out.
 */
export async function createDispatcher(
  context: ProcessContext,
  options: { send: SendFunction; replyName: string; limits?: Partial<DispatcherLimits>; log?: (line: string) => void },
): Promise<Dispatcher> {
  // Everything is checked before the reply mailbox is made: a refusal leaves no mailbox behind.
  checkRecord(context, 'a process context');
  readArgument(context, 'a process context', () => {
    checkMethods(context.kernel, 'the kernel', [
      'createMailbox',
      'addName',
      'destroyMailbox',
      'onReadable',
      'tryReceive',
      'pendingMessages',
    ]);
    checkMethods(context.clock, 'the clock', ['now', 'setTimer']);
    checkMethods(context, 'a process context', ['guard']);
  });
  checkRecord(options, 'the options of a dispatcher');
  readArgument(options, 'the options of a dispatcher', () => {
    checkFunction(options.send, 'send');
    validateName(checkAddressName(options.replyName, 'a reply name', false));
    checkedLimits(options.limits);
    if (options.log !== undefined) checkFunction(options.log, 'log');
  });
  const reply = await context.kernel.createMailbox();
  try {
    await context.kernel.addName(reply.location, options.replyName);
    return new Dispatcher({
      kernel: context.kernel,
      send: options.send,
      clock: context.clock,
      replyAddress: { name: options.replyName, location: reply.location, capability: reply.capability },
      crash: (error) =>
        context.guard(() => {
          throw error;
        }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.log === undefined ? {} : { log: options.log }),
      stopWhen: context.exited,
    });
  } catch (error) {
    // A refused name (taken, or the process's names used up) leaves no mailbox behind.
    await context.kernel.destroyMailbox(reply.location).catch(() => undefined);
    throw error;
  }
}
