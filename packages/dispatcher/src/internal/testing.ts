import { LocalFabric, Machine, SimFabric, type ProcessContext } from '@fos/microkernel';
import { createDispatcher } from '../create-dispatcher.js';
import { skipParkWaitForTests, type Dispatcher, type RegisterOptions } from '../dispatcher.js';
import type { DispatcherLimits } from '../limits.js';
import { rawSendFunction, type RawSendCounters } from '../testing.js';
import type { ReplyAddress } from '../types.js';

/** The in-thread fabrics every scenario runs on. */
export type TestFabricKind = 'local' | 'sim';

/** A machine for a test; crashes are collected instead of printed. */
export function testMachine(kind: TestFabricKind, seed = 1, cores = 4): { machine: Machine; crashes: string[] } {
  const fabric = kind === 'local' ? new LocalFabric({ cores }) : new SimFabric({ cores, seed });
  const crashes: string[] = [];
  return { machine: new Machine({ fabric, log: (line) => crashes.push(line) }), crashes };
}

/** A process with a dispatcher over raw ukSend ({@link rawSendFunction}). */
export interface DispatcherProcess {
  readonly context: ProcessContext;
  readonly dispatcher: Dispatcher;
  readonly sendCounters: RawSendCounters;
  readonly logs: string[];
  /** Creates a named mailbox served by `options.handler`; returns its address. */
  serve(name: string, options: RegisterOptions & { queueMessagesMax?: number }): Promise<ReplyAddress>;
}

/** Spawns a process on `core` with a dispatcher whose reply mailbox is `/test/<name>/reply`. */
export async function dispatcherProcess(
  machine: Machine,
  core: number,
  name: string,
  limits?: Partial<DispatcherLimits>,
  plant?: { skipParkWait?: boolean },
): Promise<DispatcherProcess> {
  let made: DispatcherProcess | undefined;
  await machine.spawn({
    core,
    name,
    function: async (context) => {
      const sendCounters: RawSendCounters = { wouldBlock: 0, abandoned: 0 };
      const logs: string[] = [];
      const dispatcher = await createDispatcher(context, {
        send: rawSendFunction(context.kernel, context.clock, sendCounters),
        replyName: `/test/${name}/reply`,
        log: (line) => logs.push(line),
        ...(limits === undefined ? {} : { limits }),
      });
      if (plant?.skipParkWait === true) skipParkWaitForTests(dispatcher);
      made = {
        context,
        dispatcher,
        sendCounters,
        logs,
        serve: async (serviceName, options) => {
          const mailbox = await context.kernel.createMailbox(
            options.queueMessagesMax === undefined ? {} : { queueMessagesMax: options.queueMessagesMax },
          );
          await context.kernel.addName(mailbox.location, serviceName);
          dispatcher.register(mailbox.location, options);
          return { name: serviceName, location: mailbox.location, capability: mailbox.capability };
        },
      };
    },
  });
  if (made === undefined) throw new Error('the entry did not run');
  return made;
}
