// The argument checks of libfos's public calls: every call checks all of its arguments here before it
// touches the kernel, the name service or a cache, so a refused call changes nothing. One rule for every
// call, the same as the name service's for the fields of its requests: an argument that is absent or
// of the wrong type is `BAD_REQUEST`; a string that breaks the rules of names is `INVALID_NAME`; a
// string that is not a capability is `PERMISSION_DENIED`; a malformed location, mailbox or options
// object is `BAD_REQUEST`. The checks read each argument once, inside a try, so a
// proxy or a getter that throws is refused like any other malformed value.
import {
  describeValue,
  FosError,
  isFosError,
  validateBody,
  validateName,
  validateSubdomain,
  type MessageBody,
} from '@fos/base';
import { mailboxLocationSchema, validateCapability, type Capability, type MailboxLocation } from '@fos/microkernel';
import { z } from 'zod';

function badRequest(operation: string, what: string, why: string, value: unknown): FosError {
  return new FosError('BAD_REQUEST', `${operation}: ${what} ${describeValue(value)} ${why}`, { value });
}

function present(operation: string, what: string, value: unknown): void {
  if (value === undefined) throw new FosError('BAD_REQUEST', `${operation}: ${what} is required`, { value });
}

function text(operation: string, what: string, value: unknown): void {
  present(operation, what, value);
  if (typeof value !== 'string') throw badRequest(operation, what, 'is not a string', value);
}

/** A required name (not a sub-domain). */
export function nameArgument(operation: string, what: string, value: unknown): string {
  text(operation, what, value);
  return validateName(value);
}

/** A required sub-domain such as `/sys/fs/*`. */
export function subdomainArgument(operation: string, what: string, value: unknown): string {
  text(operation, what, value);
  return validateSubdomain(value);
}

/** A required capability. */
export function capabilityArgument(operation: string, what: string, value: unknown): Capability {
  text(operation, what, value);
  return validateCapability(value);
}

/** Parses `value` with `schema`, answering `BAD_REQUEST` (never a TypeError) for anything it refuses. */
/** `value` as `schema` reads it; `BAD_REQUEST` naming `what`, where it fails and why. */
export function parseArgument<T>(operation: string, what: string, schema: z.ZodType<T>, value: unknown): T {
  let problem: string;
  try {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    // zod words an issue when it is read, from the value: inside the try too.
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? '' : ` at ${issue.path.join('.')}`;
    problem = `is malformed${where}: ${issue?.message ?? 'invalid'}`;
  } catch (error) {
    if (isFosError(error)) throw error;
    problem = 'cannot be read (it throws when read)';
  }
  throw badRequest(operation, what, problem, value);
}

/** A required mailbox location. */
export function locationArgument(operation: string, what: string, value: unknown): MailboxLocation {
  present(operation, what, value);
  return parseArgument(operation, what, mailboxLocationSchema, value);
}

const createdMailboxSchema = z.object({
  location: mailboxLocationSchema,
  capability: z.string(),
});

/** A required mailbox as `createMailbox` returns it: its location and its send capability. */
export function mailboxArgument(
  operation: string,
  what: string,
  value: unknown,
): { location: MailboxLocation; capability: Capability } {
  present(operation, what, value);
  const mailbox = parseArgument(operation, what, createdMailboxSchema, value);
  return {
    location: mailbox.location,
    capability: capabilityArgument(operation, `${what}.capability`, mailbox.capability),
  };
}

/** An optional options object: absent gives `{}`; anything but an object of the known keys is `BAD_REQUEST`. */
export function optionsArgument<T extends object>(
  operation: string,
  schema: z.ZodType<T>,
  value: unknown,
): { [K in keyof T]?: Exclude<T[K], undefined> } {
  if (value === undefined) return {};
  return withoutUndefined(parseArgument(operation, 'options', schema, value));
}

/** The options without the keys that hold `undefined` (an absent option and an undefined one are the same). */
function withoutUndefined<T extends object>(options: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };
}

/** The options of `aliasRegisterDirect`. */
export const directOptionsSchema = z.strictObject({ publish: z.boolean().optional(), active: z.boolean().optional() });

/** The options of `aliasRegisterIndirect` (the weight's bounds are the name service's to check). */
export const indirectOptionsSchema = z.strictObject({
  weight: z.number().optional(),
  loadBalancer: z.strictObject({ name: z.string(), capability: z.string() }).optional(),
});

/** The options of `serve` (the dispatcher checks the bounds). */
export const serveOptionsSchema = z.strictObject({
  handler: z.custom<(...args: never[]) => unknown>((value) => typeof value === 'function', 'is not a function'),
  priority: z.number().optional(),
  liveThreadsMax: z.number().optional(),
});

/** The options of `createMailbox` (the kernel checks the bound). */
export const mailboxOptionsSchema = z.strictObject({ queueMessagesMax: z.number().optional() });

/** The options of `send` and `call`. */
export const sendOptionsSchema = z.strictObject({
  capability: z.string().optional(),
  timeoutMs: z.number().optional(),
  deadline: z.literal('none').optional(),
});

/** The arguments of `send` and `call`, checked. */
export interface SendArguments {
  readonly name: string;
  readonly body: MessageBody;
  /** What `call` passes on (`timeoutMs`, `deadline`); the capability is taken out. */
  readonly options: { readonly timeoutMs?: number; readonly deadline?: 'none' };
  readonly capability: Capability | undefined;
}

const noOptions = Object.freeze({});

type ParsedSendOptions = z.infer<typeof sendOptionsSchema>;

/** The options of a send when they are certainly well-formed, read once each; undefined sends them to the schema. */
function plainSendOptions(options: unknown): ParsedSendOptions | undefined {
  try {
    if (typeof options !== 'object' || options === null || Object.getPrototypeOf(options) !== Object.prototype)
      return undefined;
    const record = options as Record<string, unknown>;
    let capability: string | undefined;
    let timeoutMs: number | undefined;
    let deadline: 'none' | undefined;
    for (const key in record) {
      const value = record[key];
      if (key === 'capability' && (value === undefined || typeof value === 'string')) capability = value;
      else if (key === 'timeoutMs' && (value === undefined || typeof value === 'number')) timeoutMs = value;
      else if (key === 'deadline' && (value === undefined || value === 'none')) deadline = value;
      else return undefined;
    }
    return { capability, timeoutMs, deadline };
  } catch {
    return undefined;
  }
}

/**
 * Checks `send`'s and `call`'s arguments, on every send: the name, the body (its kinds of values, not
 * its size, which only the send path's encoding knows with its envelope) and the options, the common
 * shapes by hand and anything else through the schema.
 */
export function sendArguments(operation: string, name: unknown, body: unknown, options: unknown): SendArguments {
  const validName = nameArgument(operation, 'name', name);
  validateBody(body);
  if (options === undefined)
    return { name: validName, body: body as MessageBody, options: noOptions, capability: undefined };
  const { capability, timeoutMs, deadline } =
    plainSendOptions(options) ?? parseArgument(operation, 'options', sendOptionsSchema, options);
  return {
    name: validName,
    body: body as MessageBody,
    options: { ...(timeoutMs === undefined ? {} : { timeoutMs }), ...(deadline === undefined ? {} : { deadline }) },
    capability: capability === undefined ? undefined : capabilityArgument(operation, 'options.capability', capability),
  };
}

/** A promise rejected with `error`, for a call that returns a promise and refuses its arguments up front. */
export function rejectWith(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(describeValue(error)));
}
