// Assembling a process's libfos: its reply mailbox, its dispatcher with the send path plugged in, and
// the Libfos object over them; and the two ways an entry function gets one.
import { assert, type MessageBody } from '@fos/base';
import { Dispatcher } from '@fos/dispatcher';
import type { ProcessContext, ProcessHandle, SpawnOptions } from '@fos/microkernel';
import type { z } from 'zod';
import { parseArgument } from './internal/arguments.js';
import { Libfos, type LibfosOptions } from './libfos.js';
import { defaultLibfosLimits, type LibfosLimits } from './limits.js';
import { createSendPath } from './send-path.js';

/**
 * Assembles a process's libfos: a reply mailbox (nameless until its canonical alias is registered), a
 * dispatcher whose one way out is this process's send path (send-path.ts: unchecked replies for
 * name-service members holding the kernel capability, user-space channels, the kernel path), and the
 * name cache.
 */
export async function createLibfos(context: ProcessContext, options: LibfosOptions = {}): Promise<Libfos> {
  const reply = await context.kernel.createMailbox();
  const limits: LibfosLimits = { ...defaultLibfosLimits, ...options.limits };
  const sendPath = createSendPath(context.kernel, context.clock, {
    kernelCapability: options.kernelCapability,
    channelAfterSends: limits.channelAfterSends,
    channelsPerProcessMax: limits.channelsPerProcessMax,
    // Asked at send time only, once the dispatcher below exists.
    replyNamed: () => dispatcher.replyAddress.name !== null,
  });
  const dispatcher = new Dispatcher({
    kernel: context.kernel,
    send: sendPath.send,
    clock: context.clock,
    replyAddress: { name: null, location: reply.location, capability: reply.capability },
    crash: (error) =>
      context.guard(() => {
        throw error;
      }),
    ...(options.log === undefined ? {} : { log: options.log }),
    stopWhen: context.exited,
  });
  return new Libfos(context, dispatcher, reply, sendPath, limits, options);
}

/** What {@link withLibfos} takes: the options of the process's libfos, and what its args must be. */
export interface WithLibfosOptions<A> extends LibfosOptions {
  /**
   * The schema of the entry's `args` (zod). They are checked before the process's libfos is made:
   * the entry refuses args that fail it with `BAD_REQUEST`, saying where and why, so the process ends
   * and its spawn fails (`UNREACHABLE`, with that error's message). Without a schema the args reach
   * the entry as they came.
   */
  readonly args?: z.ZodType<A>;
}

/**
 * An entry function that receives its process's libfos instead of the bare context, and its args
 * checked when `options.args` gives their schema (a process's args come from whoever spawned it).
 */
export function withLibfos<A extends MessageBody, R>(
  entry: (libfos: Libfos, args: A) => Promise<R>,
  options: WithLibfosOptions<A> = {},
): (context: ProcessContext, args: MessageBody) => Promise<R> {
  const { args: schema, ...libfosOptions } = options;
  return async (context, args) => {
    const checked = schema === undefined ? (args as A) : parseArgument('withLibfos', 'the args', schema, args);
    return entry(await createLibfos(context, libfosOptions), checked);
  };
}

/** Whatever spawns processes: a `Machine`, or a booted instance. */
export interface ProcessSpawner {
  spawn(options: SpawnOptions): Promise<ProcessHandle>;
}

/**
 * Spawns a process on `core` whose entry assembles its libfos, and hands that libfos back. Only for
 * fabrics that run every core in the caller's thread (`local`, `sim`: tests, benchmarks, demos): the
 * object returned is the process's own. `UNREACHABLE` when the entry crashed.
 */
export async function spawnLibfos(
  spawner: ProcessSpawner,
  core: number,
  name: string,
  options: LibfosOptions = {},
): Promise<Libfos> {
  let made: Libfos | undefined;
  await spawner.spawn({
    core,
    name,
    function: async (context) => {
      made = await createLibfos(context, options);
    },
  });
  assert(made !== undefined, `the entry of ${name} assembled its libfos`);
  return made;
}
