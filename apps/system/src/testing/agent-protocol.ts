// What the test side and an agent say to each other: the closed set of commands (checked with zod on
// arrival), their answers, the agent's limits, and the helpers both sides share.
import { FosError, isFosError, type MessageBody } from '@fos/base';
import { isCapability, mailboxLocationSchema, type Capability, type MailboxLocation } from '@fos/microkernel';
import { z } from 'zod';

/** The kernel name of an agent's control mailbox (never registered with the name service). */
export const agentControlName = '/agent/control';
/** The kernel name of a command process's reply mailbox (never registered with the name service). */
export const agentReplyName = '/agent/reply';
/** Messages an agent's served mailboxes record, at most (the default of its `recordedMax`); later ones are only counted. */
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
  z.object({
    op: z.literal('createMailbox'),
    behaviour: z.enum(['record', 'queue']),
    label: z.string().min(1).max(255).optional(),
  }),
  z.object({
    op: z.literal('aliasRegisterDirect'),
    name: nameSchema,
    mailbox: mailboxSchema,
    capability: capabilitySchema,
    publish: z.boolean().optional(),
    active: z.boolean().optional(),
  }),
  /** Registers each name for one mailbox, one after another; answers how many it registered. */
  z.object({
    op: z.literal('aliasRegisterDirectMany'),
    names: z.array(nameSchema).min(1).max(agentBulkNamesMax),
    mailbox: mailboxSchema,
    capability: capabilitySchema,
  }),
  z.object({
    op: z.literal('aliasRegisterIndirect'),
    name: nameSchema,
    destination: nameSchema,
    capability: capabilitySchema,
    weight: z.number().int().min(1).max(1000).optional(),
  }),
  z.object({
    op: z.literal('unregisterDirect'),
    name: nameSchema,
    location: locationSchema,
    capability: capabilitySchema,
  }),
  z.object({
    op: z.literal('unregisterIndirect'),
    name: nameSchema,
    destination: nameSchema,
    capability: capabilitySchema,
  }),
  z.object({ op: z.literal('send'), name: nameSchema, body: bodySchema, capability: capabilitySchema.optional() }),
  z.object({ op: z.literal('call'), name: nameSchema, body: bodySchema, capability: capabilitySchema.optional() }),
  z.object({ op: z.literal('aliasResolve'), name: nameSchema }),
  z.object({ op: z.literal('lookup'), name: nameSchema }),
  /**
   * `lookups` uncached Lookups of `name`, `concurrency` at a time (each on a dispatcher thread of its
   * own); answers how many led to each destination (`next` of an indirect answer, else the name).
   */
  z.object({
    op: z.literal('lookupShares'),
    name: nameSchema,
    lookups: z.number().int().min(1).max(agentLookupSharesMax),
    concurrency: z.number().int().min(1).max(agentLookupConcurrencyMax),
  }),
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
  z.object({
    op: z.literal('createChannel'),
    name: nameSchema,
    location: locationSchema,
    capability: capabilitySchema,
  }),
  z.object({ op: z.literal('channelSend'), channel: z.number().int().min(0), body: bodySchema }),
  z.object({ op: z.literal('channelClosed'), channel: z.number().int().min(0) }),
  z.object({ op: z.literal('receive'), location: locationSchema }),
  z.object({ op: z.literal('tryReceive'), location: locationSchema }),
  // Migration: the member's side.
  z.object({ op: z.literal('deactivate'), name: nameSchema, capability: capabilitySchema }),
  /** Hands a mailbox the agent owns (queue, names, capabilities) to `successor`; answers the names moved. */
  z.object({ op: z.literal('handOverMailbox'), location: locationSchema, successor: mailboxSchema }),
  /**
   * Starts the agent's one stream: sends `{ sequence }` to `name` for sequence 0, 1, 2, …, at most
   * `window` outstanding, pausing `intervalMs` (machine clock) after each send begins, until
   * `streamStop` (or {@link agentStreamMessagesMax} messages). `BAD_REQUEST` while a stream runs.
   */
  z.object({
    op: z.literal('streamStart'),
    name: nameSchema,
    window: z.number().int().min(1).max(agentStreamWindowMax),
    intervalMs: z.number().int().min(1).max(agentStreamIntervalMsMax),
  }),
  /** Waits until the stream has `completed` sends done (or has ended); answers how many are done. */
  z.object({ op: z.literal('streamWait'), completed: z.number().int().min(0).max(agentStreamMessagesMax) }),
  /** Stops the stream, waits for its outstanding sends, answers `{ sent, failures, failed }`. */
  z.object({ op: z.literal('streamStop') }),
]);

/** One command to an agent. */
export type AgentCommand = z.infer<typeof agentCommandSchema>;

/** An agent's answer: a value, or the error the command met. */
export type AgentAnswer =
  { readonly ok: MessageBody } | { readonly error: { readonly code: string; readonly message: string } };

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

/** What the `agent` entry returns: where its control mailbox is, and a capability to send there. */
export type AgentAddress = {
  readonly name: string;
  readonly location: MailboxLocation;
  readonly capability: Capability;
};

/** A command as it reaches an agent's control mailbox: the command and where to answer. */
export const controlMessageSchema = z.object({ command: z.unknown(), reply: mailboxSchema });
/** The arguments of the `agent` entry. */
export const agentArgsSchema = z.object({
  name: z.string().min(1).max(255),
  /** Sends before libfos opens a user-space channel (0: never); the libfos default when absent. */
  channelAfterSends: z.number().int().min(0).max(1_000_000).optional(),
  /** Messages its served mailboxes record before they only count; {@link agentRecordedMax} when absent. */
  recordedMax: z.number().int().min(0).max(agentRecordedMax).optional(),
});
/** The arguments of the `agentCommand` entry. */
export const commandArgsSchema = z.object({ control: mailboxSchema, command: z.unknown() });

export function parseArgs<T>(entry: string, schema: z.ZodType<T>, args: unknown): T {
  const parsed = schema.safeParse(args);
  if (!parsed.success)
    throw new FosError('BAD_REQUEST', `${entry}: bad args: ${describeIssues(parsed.error)}`, { value: args });
  return parsed.data;
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');
}

export function errorAnswer(error: unknown): AgentAnswer {
  if (isFosError(error)) {
    const message = error.message.startsWith(`${error.code}: `)
      ? error.message.slice(error.code.length + 2)
      : error.message;
    return { error: { code: error.code, message } };
  }
  return {
    error: {
      code: 'UNREACHABLE',
      message: `the agent failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    },
  };
}

/** `JSON.stringify` that copes with what a message body may hold (bigints). */
export function describeBody(body: MessageBody): string {
  return JSON.stringify(body, (_, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value)) ?? 'undefined';
}

/** The text of an error, for a stream's list of failures. */
export function errorText(error: unknown): string {
  return isFosError(error) ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
}
