// An agent: a process with a libfos and a control mailbox that executes a closed set of commands
// sent to that mailbox and answers each one. Tests drive processes they cannot hold (on worker
// threads a process lives in another thread) through agents, the same way on every fabric: a one-shot
// `agentCommand` process, spawned on the agent's core, sends the command with the raw kernel and
// returns the answer as its spawn result (see ./remote-agent.ts). This file is a process module, built
// to dist/testing/agent.js (tsup.config.ts), which every fabric spawns from.
//
// Each agent keeps its state in its entry's scope: module-level state would be shared by every
// process of a thread.
import { createLibfos, type Libfos } from '@fos/libfos-messaging';
import { FosError, type MessageBody } from '@fos/base';
import {
  formatLocation,
  type Capability,
  type Channel,
  type CreatedMailbox,
  type MailboxLocation,
  type ProcessContext,
} from '@fos/microkernel';
import {
  agentArgsSchema,
  agentChannelsMax,
  agentCommandSchema,
  agentCommandTimeoutMs,
  agentControlName,
  agentLookupDestinationsMax,
  agentMailboxesMax,
  agentRecordedMax,
  agentReplyName,
  commandArgsSchema,
  controlMessageSchema,
  describeBody,
  describeIssues,
  errorAnswer,
  parseArgs,
  type AgentAddress,
  type AgentAnswer,
  type AgentCommand,
  type AgentStats,
} from './agent-protocol.js';
import { Stream } from './agent-stream.js';

/**
 * The agent's process entry: assembles its libfos, creates its control mailbox (named
 * {@link agentControlName} in the kernel only) and serves commands there until the process ends.
 * Returns the control mailbox's address.
 */
export async function agent(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name, channelAfterSends, recordedMax = agentRecordedMax } = parseArgs('agent', agentArgsSchema, args);
  const libfos = await createLibfos(context, channelAfterSends === undefined ? {} : { limits: { channelAfterSends } });
  const control = await context.kernel.createMailbox();
  await context.kernel.addName(control.location, agentControlName);
  const state = new AgentState(name, context, libfos, recordedMax);
  void (async () => {
    for (;;) {
      let message;
      try {
        message = await context.kernel.receive(control.location);
      } catch {
        return; // The mailbox is gone: the process ended.
      }
      const parsed = controlMessageSchema.safeParse(message.body);
      // A message without a reply address has nobody to answer to.
      if (!parsed.success) continue;
      const { command, reply } = parsed.data;
      void state.execute(command).then(async (answer) => {
        try {
          await context.kernel.ukSend(agentReplyName, reply.location, reply.capability, answer);
        } catch (error) {
          // An answer that cannot go (too large, say) goes back as the error it met; a command process
          // that is gone has nobody to answer to.
          await context.kernel
            .ukSend(agentReplyName, reply.location, reply.capability, errorAnswer(error))
            .catch(() => undefined);
        }
      });
    }
  })();
  const address: AgentAddress = { name, location: control.location, capability: control.capability };
  return { ...address };
}

/** Which handler of {@link AgentState} takes which command. */
const namingOps: ReadonlySet<AgentCommand['op']> = new Set([
  'aliasRegisterDirect',
  'aliasRegisterDirectMany',
  'aliasRegisterIndirect',
  'unregisterDirect',
  'unregisterIndirect',
  'aliasResolve',
  'lookup',
  'lookupShares',
  'list',
  'nsRegister',
  'nsUnregister',
  'nsRegisterTemporary',
  'nsReserve',
  'canonicalAlias',
  'deactivate',
]);
const kernelOps: ReadonlySet<AgentCommand['op']> = new Set([
  'mailboxNames',
  'addCapability',
  'removeCapability',
  'createChannel',
  'channelSend',
  'channelClosed',
  'receive',
  'tryReceive',
]);
const streamOps: ReadonlySet<AgentCommand['op']> = new Set(['streamStart', 'streamWait', 'streamStop']);

/** What one agent holds between commands. */
class AgentState {
  readonly #name: string;
  readonly #context: ProcessContext;
  readonly #libfos: Libfos;
  readonly #mailboxes = new Map<string, CreatedMailbox>();
  readonly #channels: Channel[] = [];
  readonly #recorded: string[] = [];
  #unrecorded = 0;
  #stream: Stream | undefined;

  readonly #recordedMax: number;

  constructor(name: string, context: ProcessContext, libfos: Libfos, recordedMax: number) {
    this.#recordedMax = recordedMax;
    this.#name = name;
    this.#context = context;
    this.#libfos = libfos;
  }

  async execute(raw: unknown): Promise<AgentAnswer> {
    const parsed = agentCommandSchema.safeParse(raw);
    if (!parsed.success)
      return {
        error: { code: 'BAD_REQUEST', message: `agent ${this.#name}: bad command: ${describeIssues(parsed.error)}` },
      };
    try {
      const value = await this.#run(parsed.data);
      return { ok: value };
    } catch (error) {
      return errorAnswer(error);
    }
  }

  async #run(command: AgentCommand): Promise<MessageBody> {
    const op = command.op;
    if (namingOps.has(op)) return this.#naming(command);
    if (kernelOps.has(op)) return this.#kernel(command);
    if (streamOps.has(op)) return this.#streaming(command);
    return this.#messaging(command);
  }

  /** Commands of the name space: Table 4.1 calls through libfos and name-service requests as they are. */
  async #naming(command: AgentCommand): Promise<MessageBody> {
    const libfos = this.#libfos;
    switch (command.op) {
      case 'aliasRegisterDirect': {
        const options = {
          ...(command.publish === undefined ? {} : { publish: command.publish }),
          ...(command.active === undefined ? {} : { active: command.active }),
        };
        return libfos.aliasRegisterDirect(command.name, command.mailbox, command.capability, options);
      }
      case 'aliasRegisterDirectMany': {
        for (const name of command.names) await libfos.aliasRegisterDirect(name, command.mailbox, command.capability);
        return command.names.length;
      }
      case 'aliasRegisterIndirect':
        return libfos.aliasRegisterIndirect(
          command.name,
          command.destination,
          command.capability,
          command.weight === undefined ? {} : { weight: command.weight },
        );
      case 'unregisterDirect':
        await libfos.unregisterDirect(command.name, command.location, command.capability);
        return null;
      case 'unregisterIndirect':
        await libfos.unregisterIndirect(command.name, command.destination, command.capability);
        return null;
      case 'aliasResolve': {
        const resolved = await libfos.aliasResolve(command.name);
        return {
          name: resolved.name,
          chain: [...resolved.chain],
          location: resolved.location,
          publishedCapability: resolved.publishedCapability,
        };
      }
      case 'lookup':
        return { ...(await libfos.run(() => libfos.nameService.lookup(command.name))) };
      case 'lookupShares':
        return this.#lookupShares(command.name, command.lookups, command.concurrency);
      case 'list': {
        const listing = await libfos.run(() =>
          libfos.nameService.list(
            command.under === undefined
              ? { capability: command.capability }
              : { capability: command.capability, under: command.under },
          ),
        );
        return { ...listing };
      }
      case 'nsRegister':
        return { ...(await libfos.run(() => libfos.nameService.register(command.request as never))) };
      case 'nsUnregister':
        await libfos.run(() => libfos.nameService.unregister(command.request as never));
        return null;
      case 'nsRegisterTemporary':
        return { ...(await libfos.run(() => libfos.nameService.registerTemporary(command.request as never))) };
      case 'nsReserve':
        return { ...(await libfos.run(() => libfos.nameService.reserve(command.request as never))) };
      case 'canonicalAlias':
        return libfos.getCanonicalAlias();
      case 'deactivate':
        await libfos.deactivate(command.name, command.capability);
        return null;
      default:
        throw new FosError('BAD_REQUEST', `agent ${this.#name}: ${command.op} is not a naming command`, {
          value: command.op,
        });
    }
  }

  /** Commands that create, serve and hand over mailboxes, send and call by name, and read what arrived. */
  async #messaging(command: AgentCommand): Promise<MessageBody> {
    const libfos = this.#libfos;
    switch (command.op) {
      case 'createMailbox':
        return this.#createMailbox(command.behaviour, command.label);
      case 'send':
        await libfos.send(
          command.name,
          command.body,
          command.capability === undefined ? {} : { capability: command.capability },
        );
        return null;
      case 'call':
        return (
          await libfos.call(
            command.name,
            command.body,
            command.capability === undefined ? {} : { capability: command.capability },
          )
        ).body;
      case 'received':
        return [...this.#recorded];
      case 'stats':
        return this.#stats();
      case 'settle':
        await new Promise<void>((resolve) => this.#context.clock.setTimer(command.ms, resolve));
        return null;
      case 'close':
        await libfos.close();
        return null;
      case 'handOverMailbox':
        return this.#handOverMailbox(command.location, command.successor);
      default:
        throw new FosError('BAD_REQUEST', `agent ${this.#name}: ${command.op} is not a messaging command`, {
          value: command.op,
        });
    }
  }

  /** See the `createMailbox` command. */
  async #createMailbox(behaviour: 'record' | 'queue', label = this.#name): Promise<MessageBody> {
    const libfos = this.#libfos;
    if (this.#mailboxes.size >= agentMailboxesMax)
      throw new FosError(
        'LIMIT_EXCEEDED',
        `agent ${this.#name} has agentMailboxesMax (${agentMailboxesMax}) mailboxes`,
        {
          value: this.#mailboxes.size,
        },
      );
    const mailbox = await libfos.createMailbox();
    this.#mailboxes.set(formatLocation(mailbox.location), mailbox);
    if (behaviour === 'record') {
      libfos.serve(mailbox.location, {
        handler: (request) => {
          this.#record(`${label}:${describeBody(request.body)}`);
          return request.expectsReply ? { from: label, echo: request.body } : undefined;
        },
      });
    }
    return { location: mailbox.location, capability: mailbox.capability };
  }

  /** See the `handOverMailbox` command. */
  async #handOverMailbox(
    location: MailboxLocation,
    successor: { location: MailboxLocation; capability: Capability },
  ): Promise<MessageBody> {
    const key = formatLocation(location);
    if (!this.#mailboxes.has(key))
      throw new FosError('BAD_REQUEST', `agent ${this.#name} did not create mailbox ${key}`, { value: location });
    const moved = await this.#libfos.handOverMailbox(location, successor.location, successor.capability);
    this.#mailboxes.delete(key);
    return { names: [...moved.names] };
  }

  /** See the `stats` command. */
  #stats(): MessageBody {
    const libfos = this.#libfos;
    const { lookups, refreshes, inactiveWaits, channels } = libfos.stats();
    const stats: AgentStats = {
      lookups,
      refreshes,
      inactiveWaits,
      cacheEntries: libfos.cache.stats().entries,
      replyName: libfos.dispatcher.replyAddress.name,
      replyLocation: libfos.dispatcher.replyAddress.location,
      unrecorded: this.#unrecorded,
      channels: { opened: channels.opened, channelSends: channels.channelSends, fallbacks: channels.fallbacks },
    };
    return { ...stats };
  }

  /** Raw kernel calls: capabilities, user-space channels and unserved mailboxes. */
  async #kernel(command: AgentCommand): Promise<MessageBody> {
    const kernel = this.#context.kernel;
    switch (command.op) {
      case 'mailboxNames': {
        const names: string[][] = [];
        for (const location of command.locations) names.push(await kernel.mailboxNames(location));
        return names;
      }
      case 'addCapability':
        return kernel.addCapability(command.location);
      case 'removeCapability':
        await kernel.removeCapability(command.location, command.capability);
        return null;
      case 'createChannel': {
        if (this.#channels.length >= agentChannelsMax)
          throw new FosError(
            'LIMIT_EXCEEDED',
            `agent ${this.#name} has agentChannelsMax (${agentChannelsMax}) channels`,
            { value: this.#channels.length },
          );
        this.#channels.push(await kernel.createChannel(command.name, command.location, command.capability));
        return this.#channels.length - 1;
      }
      case 'channelSend':
        await this.#channel(command.channel).send(command.body);
        return null;
      case 'channelClosed':
        return this.#channel(command.channel).closed;
      case 'receive':
        return (await kernel.receive(command.location)).body;
      case 'tryReceive': {
        const message = kernel.tryReceive(command.location);
        return message === undefined ? { received: false } : { received: true, body: message.body };
      }
      default:
        throw new FosError('BAD_REQUEST', `agent ${this.#name}: ${command.op} is not a kernel command`, {
          value: command.op,
        });
    }
  }

  /** The agent's one stream of numbered sends. */
  async #streaming(command: AgentCommand): Promise<MessageBody> {
    const libfos = this.#libfos;
    switch (command.op) {
      case 'streamStart':
        if (this.#stream !== undefined)
          throw new FosError('BAD_REQUEST', `agent ${this.#name} already runs a stream`, { value: command.name });
        this.#stream = new Stream(libfos, this.#context, command.name, command.window, command.intervalMs);
        return null;
      case 'streamWait':
        return this.#runningStream().waitCompleted(command.completed);
      case 'streamStop': {
        const result = await this.#runningStream().stop();
        this.#stream = undefined;
        return { ...result, failures: [...result.failures] };
      }
      default:
        throw new FosError('BAD_REQUEST', `agent ${this.#name}: ${command.op} is not a stream command`, {
          value: command.op,
        });
    }
  }

  #runningStream(): Stream {
    if (this.#stream === undefined)
      throw new FosError('BAD_REQUEST', `agent ${this.#name} runs no stream`, { value: null });
    return this.#stream;
  }

  /** See the `lookupShares` command. */
  async #lookupShares(name: string, lookups: number, concurrency: number): Promise<Record<string, number>> {
    const libfos = this.#libfos;
    const counts = new Map<string, number>();
    let remaining = lookups;
    const worker = () =>
      libfos.dispatcher.spawnThread('lookup-shares', async () => {
        while (remaining > 0) {
          remaining--;
          const result = await libfos.nameService.lookup(name);
          const next = result.type === 'indirect' ? result.next : result.name;
          if (!counts.has(next) && counts.size >= agentLookupDestinationsMax) {
            throw new FosError(
              'LIMIT_EXCEEDED',
              `agent ${this.#name}: lookupShares met more than agentLookupDestinationsMax (${agentLookupDestinationsMax}) destinations`,
              { value: name },
            );
          }
          counts.set(next, (counts.get(next) ?? 0) + 1);
        }
      });
    await Promise.all(Array.from({ length: concurrency }, worker));
    return Object.fromEntries(counts);
  }

  #channel(index: number): Channel {
    const channel = this.#channels[index];
    if (channel === undefined)
      throw new FosError('BAD_REQUEST', `agent ${this.#name} has no channel ${index}`, { value: index });
    return channel;
  }

  #record(entry: string): void {
    if (this.#recorded.length < this.#recordedMax) this.#recorded.push(entry);
    else this.#unrecorded++;
  }
}

/**
 * A one-shot process entry: sends `args.command` to the agent whose control mailbox is `args.control`
 * (raw `ukSend`, from a reply mailbox of its own named {@link agentReplyName} in the kernel), waits
 * for the answer (at most {@link agentCommandTimeoutMs}), exits, and returns the answer.
 */
export async function agentCommand(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { control, command } = parseArgs('agentCommand', commandArgsSchema, args);
  try {
    const reply = await context.kernel.createMailbox();
    await context.kernel.addName(reply.location, agentReplyName);
    const message: MessageBody = {
      command: command as MessageBody,
      reply: { location: reply.location, capability: reply.capability },
    };
    await context.kernel.ukSend(agentControlName, control.location, control.capability, message);
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = context.clock.setTimer(agentCommandTimeoutMs, () =>
        reject(
          new FosError(
            'TIMEOUT',
            `no answer from the agent at ${formatLocation(control.location)} in ${agentCommandTimeoutMs} ms`,
            { value: command },
          ),
        ),
      );
    });
    try {
      const answer = await Promise.race([context.kernel.receive(reply.location), timeout]);
      return answer.body;
    } finally {
      timer?.cancel();
    }
  } catch (error) {
    return { ...errorAnswer(error) };
  } finally {
    context.exit();
  }
}
