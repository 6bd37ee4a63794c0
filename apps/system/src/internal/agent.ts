// A portable test harness (issue 6): the scenarios drive processes they cannot hold on every fabric
// (on worker threads a process lives in another thread) through agents. An agent is a process with
// a libfos and a control mailbox; it executes a closed set of commands sent to that mailbox and
// answers each one. The test side reaches it the same way on every fabric: a one-shot `agentCommand`
// process, spawned on the agent's core, sends the command with the raw kernel and returns the answer
// as its spawn result (see ./remote-agent.ts). Built to dist/internal/agent.js (tsup.config.ts).
//
// Each agent keeps its state in its entry's scope: module-level state would be shared by every
// process of a thread.
import { createLibfos, type Libfos } from '@fos/libfos-messaging';
import {
  FosError,
  formatLocation,
  isCapability,
  isFosError,
  mailboxLocationSchema,
  type Capability,
  type Channel,
  type CreatedMailbox,
  type MailboxLocation,
  type MessageBody,
  type ProcessContext,
} from '@fos/microkernel';
import { z } from 'zod';

/** The kernel name of an agent's control mailbox (never registered with the name service). */
export const agentControlName = '/agent/control';
/** The kernel name of a command process's reply mailbox (never registered with the name service). */
export const agentReplyName = '/agent/reply';
/** Messages an agent's served mailboxes record, at most; later ones are only counted. */
export const agentRecordedMax = 10_000;
/** Mailboxes one agent may create through commands. */
export const agentMailboxesMax = 64;
/** Channels one agent may hold. */
export const agentChannelsMax = 16;
/** The longest `settle` one command may ask for (machine clock). */
export const agentSettleMsMax = 10_000;
/** The longest a command process waits for an agent's answer (machine clock). */
export const agentCommandTimeoutMs = 60_000;
/** The most uncached Lookups one `lookupShares` command may make. */
export const agentLookupSharesMax = 100_000;
/** The most dispatcher threads one `lookupShares` command may run its Lookups on. */
export const agentLookupConcurrencyMax = 256;
/** The most destinations one `lookupShares` command counts (later ones are refused). */
export const agentLookupDestinationsMax = 64;
/** The most messages one stream (`streamStart`) sends; it stops by itself there. */
export const agentStreamMessagesMax = 100_000;
/** The most sends a stream keeps outstanding at once. */
export const agentStreamWindowMax = 256;
/** The longest pause between two sends of a stream (machine clock; at least 1 ms, so that a stream never starves its core). */
export const agentStreamIntervalMsMax = 1_000;
/** The most failures a stream keeps (later ones are only counted). */
export const agentStreamFailuresMax = 100;
/** The most names one `aliasRegisterDirectMany` command registers. */
export const agentBulkNamesMax = 256;

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');
const nameSchema = z.string().min(1).max(1024);
const locationSchema = mailboxLocationSchema;
const mailboxSchema = z.object({ location: locationSchema, capability: capabilitySchema });
const bodySchema = z.custom<MessageBody>(() => true);

/** What an agent can be asked to do (the `op` of a command). */
export const agentCommandSchema = z.discriminatedUnion('op', [
  /**
   * A new mailbox. `record`: served; every message is recorded as `label:JSON(body)` and a request is
   * answered with `{ from: label, echo: body }`. `queue`: not served; read it with `receive`.
   */
  z.object({ op: z.literal('createMailbox'), behaviour: z.enum(['record', 'queue']), label: z.string().min(1).max(255).optional() }),
  z.object({ op: z.literal('aliasRegisterDirect'), name: nameSchema, mailbox: mailboxSchema, capability: capabilitySchema, publish: z.boolean().optional(), active: z.boolean().optional() }),
  /** Registers each name for one mailbox, one after another; answers how many it registered. */
  z.object({ op: z.literal('aliasRegisterDirectMany'), names: z.array(nameSchema).min(1).max(agentBulkNamesMax), mailbox: mailboxSchema, capability: capabilitySchema }),
  z.object({ op: z.literal('aliasRegisterIndirect'), name: nameSchema, destination: nameSchema, capability: capabilitySchema, weight: z.number().int().min(1).max(1000).optional() }),
  z.object({ op: z.literal('unregisterDirect'), name: nameSchema, location: locationSchema, capability: capabilitySchema }),
  z.object({ op: z.literal('unregisterIndirect'), name: nameSchema, destination: nameSchema, capability: capabilitySchema }),
  z.object({ op: z.literal('send'), name: nameSchema, body: bodySchema, capability: capabilitySchema.optional() }),
  z.object({ op: z.literal('call'), name: nameSchema, body: bodySchema, capability: capabilitySchema.optional() }),
  z.object({ op: z.literal('aliasResolve'), name: nameSchema }),
  z.object({ op: z.literal('lookup'), name: nameSchema }),
  /**
   * `lookups` uncached Lookups of `name`, `concurrency` at a time (each on a dispatcher thread of its
   * own); answers how many led to each destination (`next` of an indirect answer, else the name).
   */
  z.object({ op: z.literal('lookupShares'), name: nameSchema, lookups: z.number().int().min(1).max(agentLookupSharesMax), concurrency: z.number().int().min(1).max(agentLookupConcurrencyMax) }),
  z.object({ op: z.literal('list'), capability: capabilitySchema, under: nameSchema.optional() }),
  // Name-service calls forwarded as they are (the service checks the request: a malformed one must
  // reach it and be refused there, which the model-based test relies on).
  z.object({ op: z.literal('nsRegister'), request: bodySchema }),
  z.object({ op: z.literal('nsUnregister'), request: bodySchema }),
  z.object({ op: z.literal('nsRegisterTemporary'), request: bodySchema }),
  z.object({ op: z.literal('nsReserve'), request: bodySchema }),
  /** The kernel names of mailboxes the agent owns, per mailbox (in the order given). */
  z.object({ op: z.literal('mailboxNames'), locations: z.array(locationSchema).min(1).max(agentMailboxesMax) }),
  z.object({ op: z.literal('canonicalAlias') }),
  z.object({ op: z.literal('received') }),
  z.object({ op: z.literal('stats') }),
  z.object({ op: z.literal('settle'), ms: z.number().int().min(0).max(agentSettleMsMax) }),
  z.object({ op: z.literal('close') }),
  // Raw kernel calls, for the scenarios about capabilities and channels.
  z.object({ op: z.literal('addCapability'), location: locationSchema }),
  z.object({ op: z.literal('removeCapability'), location: locationSchema, capability: capabilitySchema }),
  z.object({ op: z.literal('createChannel'), name: nameSchema, location: locationSchema, capability: capabilitySchema }),
  z.object({ op: z.literal('channelSend'), channel: z.number().int().min(0), body: bodySchema }),
  z.object({ op: z.literal('channelClosed'), channel: z.number().int().min(0) }),
  z.object({ op: z.literal('receive'), location: locationSchema }),
  z.object({ op: z.literal('tryReceive'), location: locationSchema }),
  // Migration (DESIGN section 5): the member's side.
  z.object({ op: z.literal('deactivate'), name: nameSchema, capability: capabilitySchema }),
  /** Hands a mailbox the agent owns (queue, names, capabilities) to `successor`; answers the names moved. */
  z.object({ op: z.literal('handOverMailbox'), location: locationSchema, successor: mailboxSchema }),
  /**
   * Starts the agent's one stream: sends `{ sequence }` to `name` for sequence 0, 1, 2, …, at most
   * `window` outstanding, pausing `intervalMs` (machine clock) after each send begins, until
   * `streamStop` (or {@link agentStreamMessagesMax} messages). `BAD_REQUEST` while a stream runs.
   */
  z.object({ op: z.literal('streamStart'), name: nameSchema, window: z.number().int().min(1).max(agentStreamWindowMax), intervalMs: z.number().int().min(1).max(agentStreamIntervalMsMax) }),
  /** Waits until the stream has `completed` sends done (or has ended); answers how many are done. */
  z.object({ op: z.literal('streamWait'), completed: z.number().int().min(0).max(agentStreamMessagesMax) }),
  /** Stops the stream, waits for its outstanding sends, answers `{ sent, failures, failed }`. */
  z.object({ op: z.literal('streamStop') }),
]);

/** One command to an agent. */
export type AgentCommand = z.infer<typeof agentCommandSchema>;

/** An agent's answer: a value, or the error the command met. */
export type AgentAnswer = { readonly ok: MessageBody } | { readonly error: { readonly code: string; readonly message: string } };

/** What an agent's `stats` command answers. */
export type AgentStats = {
  readonly lookups: number;
  readonly refreshes: number;
  readonly inactiveWaits: number;
  /** Entries in its name cache. */
  readonly cacheEntries: number;
  /** The name of its libfos's reply address (null until its canonical alias is registered). */
  readonly replyName: string | null;
  readonly replyLocation: MailboxLocation;
  /** Messages its served mailboxes got beyond {@link agentRecordedMax}. */
  readonly unrecorded: number;
  /** Its libfos's user-space channels (see `Libfos.stats`). */
  readonly channels: { readonly opened: number; readonly channelSends: number; readonly fallbacks: number };
};

/** What `streamStop` answers: how many messages the stream sent (sequences 0..sent-1) and what failed. */
export type AgentStreamResult = { readonly sent: number; readonly failures: string[]; readonly failed: number };


/** What the {@link agent} entry returns: where its control mailbox is, and a capability to send there. */
export type AgentAddress = { readonly name: string; readonly location: MailboxLocation; readonly capability: Capability };

const controlMessageSchema = z.object({ command: z.unknown(), reply: mailboxSchema });
const agentArgsSchema = z.object({
  name: z.string().min(1).max(255),
  /** Sends before libfos opens a user-space channel (0: never); the libfos default when absent. */
  channelAfterSends: z.number().int().min(0).max(1_000_000).optional(),
});
const commandArgsSchema = z.object({ control: mailboxSchema, command: z.unknown() });

function parseArgs<T>(entry: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (!parsed.success) throw new FosError('BAD_REQUEST', `${entry}: bad args: ${describeIssues(parsed.error)}`, { value: args });
  return parsed.data;
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

function errorAnswer(error: unknown): AgentAnswer {
  if (isFosError(error)) {
    const message = error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
    return { error: { code: error.code, message } };
  }
  return { error: { code: 'UNREACHABLE', message: `the agent failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}` } };
}

/** `JSON.stringify` that copes with what a message body may hold (bigints). */
function describeBody(body: MessageBody): string {
  return JSON.stringify(body, (_, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)) ?? 'undefined';
}

/**
 * The agent's process entry: assembles its libfos, creates its control mailbox (named
 * {@link agentControlName} in the kernel only) and serves commands there until the process ends.
 * Returns the control mailbox's address.
 */
export async function agent(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name, channelAfterSends } = parseArgs('agent', agentArgsSchema, args);
  const libfos = await createLibfos(context, channelAfterSends === undefined ? {} : { limits: { channelAfterSends } });
  const control = await context.kernel.createMailbox();
  await context.kernel.addName(control.location, agentControlName);
  const state = new AgentState(name, context, libfos);
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
          await context.kernel.ukSend(agentReplyName, reply.location, reply.capability, errorAnswer(error)).catch(() => undefined);
        }
      });
    }
  })();
  const address: AgentAddress = { name, location: control.location, capability: control.capability };
  return { ...address };
}

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

  constructor(name: string, context: ProcessContext, libfos: Libfos) {
    this.#name = name;
    this.#context = context;
    this.#libfos = libfos;
  }

  async execute(raw: unknown): Promise<AgentAnswer> {
    const parsed = agentCommandSchema.safeParse(raw);
    if (!parsed.success) return { error: { code: 'BAD_REQUEST', message: `agent ${this.#name}: bad command: ${describeIssues(parsed.error)}` } };
    try {
      const value = await this.#run(parsed.data);
      return { ok: value };
    } catch (error) {
      return errorAnswer(error);
    }
  }

  async #run(command: AgentCommand): Promise<MessageBody> {
    const libfos = this.#libfos;
    const kernel = this.#context.kernel;
    switch (command.op) {
      case 'createMailbox': {
        if (this.#mailboxes.size >= agentMailboxesMax) throw new FosError('LIMIT_EXCEEDED', `agent ${this.#name} has agentMailboxesMax (${agentMailboxesMax}) mailboxes`, { value: this.#mailboxes.size });
        const mailbox = await libfos.createMailbox();
        this.#mailboxes.set(formatLocation(mailbox.location), mailbox);
        if (command.behaviour === 'record') {
          const label = command.label ?? this.#name;
          libfos.serve(mailbox.location, {
            handler: (request) => {
              this.#record(`${label}:${describeBody(request.body)}`);
              return request.expectsReply ? { from: label, echo: request.body } : undefined;
            },
          });
        }
        return { location: mailbox.location, capability: mailbox.capability };
      }
      case 'aliasRegisterDirect': {
        const options = { ...(command.publish === undefined ? {} : { publish: command.publish }), ...(command.active === undefined ? {} : { active: command.active }) };
        return libfos.aliasRegisterDirect(command.name, command.mailbox, command.capability, options);
      }
      case 'aliasRegisterDirectMany': {
        for (const name of command.names) await libfos.aliasRegisterDirect(name, command.mailbox, command.capability);
        return command.names.length;
      }
      case 'aliasRegisterIndirect':
        return libfos.aliasRegisterIndirect(command.name, command.destination, command.capability, command.weight === undefined ? {} : { weight: command.weight });
      case 'unregisterDirect':
        await libfos.unregisterDirect(command.name, command.location, command.capability);
        return null;
      case 'unregisterIndirect':
        await libfos.unregisterIndirect(command.name, command.destination, command.capability);
        return null;
      case 'send':
        await libfos.send(command.name, command.body, command.capability === undefined ? {} : { capability: command.capability });
        return null;
      case 'call':
        return (await libfos.call(command.name, command.body, command.capability === undefined ? {} : { capability: command.capability })).body;
      case 'aliasResolve': {
        const resolved = await libfos.aliasResolve(command.name);
        return { name: resolved.name, chain: [...resolved.chain], location: resolved.location, publishedCapability: resolved.publishedCapability };
      }
      case 'lookup':
        return { ...(await libfos.run(() => libfos.nameService.lookup(command.name))) };
      case 'lookupShares':
        return this.#lookupShares(command.name, command.lookups, command.concurrency);
      case 'list': {
        const listing = await libfos.run(() => libfos.nameService.list(command.under === undefined ? { capability: command.capability } : { capability: command.capability, under: command.under }));
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
      case 'mailboxNames': {
        const names: string[][] = [];
        for (const location of command.locations) names.push(await kernel.mailboxNames(location));
        return names;
      }
      case 'canonicalAlias':
        return libfos.getCanonicalAlias();
      case 'received':
        return [...this.#recorded];
      case 'stats': {
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
      case 'settle':
        await new Promise<void>((resolve) => this.#context.clock.setTimer(command.ms, resolve));
        return null;
      case 'close':
        await libfos.close();
        return null;
      case 'addCapability':
        return kernel.addCapability(command.location);
      case 'removeCapability':
        await kernel.removeCapability(command.location, command.capability);
        return null;
      case 'createChannel': {
        if (this.#channels.length >= agentChannelsMax) throw new FosError('LIMIT_EXCEEDED', `agent ${this.#name} has agentChannelsMax (${agentChannelsMax}) channels`, { value: this.#channels.length });
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
      case 'deactivate':
        await libfos.deactivate(command.name, command.capability);
        return null;
      case 'handOverMailbox': {
        const key = formatLocation(command.location);
        if (!this.#mailboxes.has(key)) throw new FosError('BAD_REQUEST', `agent ${this.#name} did not create mailbox ${key}`, { value: command.location });
        const moved = await libfos.handOverMailbox(command.location, command.successor.location, command.successor.capability);
        this.#mailboxes.delete(key);
        return { names: [...moved.names] };
      }
      case 'streamStart':
        if (this.#stream !== undefined) throw new FosError('BAD_REQUEST', `agent ${this.#name} already runs a stream`, { value: command.name });
        this.#stream = new Stream(libfos, this.#context, command.name, command.window, command.intervalMs);
        return null;
      case 'streamWait':
        return this.#runningStream().waitCompleted(command.completed);
      case 'streamStop': {
        const result = await this.#runningStream().stop();
        this.#stream = undefined;
        return { ...result, failures: [...result.failures] };
      }
    }
  }

  #runningStream(): Stream {
    if (this.#stream === undefined) throw new FosError('BAD_REQUEST', `agent ${this.#name} runs no stream`, { value: null });
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
            throw new FosError('LIMIT_EXCEEDED', `agent ${this.#name}: lookupShares met more than agentLookupDestinationsMax (${agentLookupDestinationsMax}) destinations`, { value: name });
          }
          counts.set(next, (counts.get(next) ?? 0) + 1);
        }
      });
    await Promise.all(Array.from({ length: concurrency }, worker));
    return Object.fromEntries(counts);
  }

  #channel(index: number): Channel {
    const channel = this.#channels[index];
    if (channel === undefined) throw new FosError('BAD_REQUEST', `agent ${this.#name} has no channel ${index}`, { value: index });
    return channel;
  }

  #record(entry: string): void {
    if (this.#recorded.length < agentRecordedMax) this.#recorded.push(entry);
    else this.#unrecorded++;
  }
}

/** An agent's stream of numbered sends (the `streamStart` command). */
class Stream {
  readonly #failures: string[] = [];
  #failed = 0;
  #sent = 0;
  #completed = 0;
  #stopping = false;
  readonly #done: Promise<void>;
  readonly #waiters: Array<{ completed: number; resolve: () => void }> = [];
  #ended = false;

  constructor(libfos: Libfos, context: ProcessContext, name: string, window: number, intervalMs: number) {
    const inFlight = new Set<Promise<void>>();
    this.#done = (async () => {
      while (!this.#stopping && this.#sent < agentStreamMessagesMax) {
        while (inFlight.size >= window) await Promise.race(inFlight);
        if (this.#stopping) break;
        const sending = libfos
          .send(name, { sequence: this.#sent })
          .catch((error: unknown) => {
            if (this.#failures.length < agentStreamFailuresMax) this.#failures.push(errorText(error));
            this.#failed++;
            // The agent's process (or its core) is gone: nothing more can be sent.
            if (isFosError(error) && error.code === 'SHUTDOWN') this.#stopping = true;
          })
          .finally(() => {
            inFlight.delete(sending);
            this.#completed++;
            this.#wake();
          });
        inFlight.add(sending);
        this.#sent++;
        await new Promise<void>((resolve) => context.clock.setTimer(intervalMs, resolve));
      }
      await Promise.all(inFlight);
      this.#ended = true;
      this.#wake();
    })();
  }

  /** Resolves once `completed` sends are done (or the stream ended); answers how many are done. */
  async waitCompleted(completed: number): Promise<number> {
    if (this.#completed < completed && !this.#ended) await new Promise<void>((resolve) => this.#waiters.push({ completed, resolve }));
    return this.#completed;
  }

  async stop(): Promise<AgentStreamResult> {
    this.#stopping = true;
    await this.#done;
    return { sent: this.#sent, failures: this.#failures, failed: this.#failed };
  }

  #wake(): void {
    for (let index = this.#waiters.length - 1; index >= 0; index--) {
      const waiter = this.#waiters[index]!;
      if (this.#ended || this.#completed >= waiter.completed) {
        this.#waiters.splice(index, 1);
        waiter.resolve();
      }
    }
  }
}

function errorText(error: unknown): string {
  return isFosError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
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
    const message: MessageBody = { command: command as MessageBody, reply: { location: reply.location, capability: reply.capability } };
    await context.kernel.ukSend(agentControlName, control.location, control.capability, message);
    let timer: { cancel(): void } | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = context.clock.setTimer(agentCommandTimeoutMs, () => reject(new FosError('TIMEOUT', `no answer from the agent at ${formatLocation(control.location)} in ${agentCommandTimeoutMs} ms`, { value: command })));
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
