import { fosErrorCodes, type MessageBody } from '@fos/base';
import { isCapability, mailboxLocationSchema, type Capability } from '@fos/microkernel';
import { z } from 'zod';

// The dispatcher's envelopes. Everything arriving is checked against these before the dispatcher
// trusts it: a malformed envelope is dropped and counted, never handed to a thread.

const replyAddressSchema = z.object({
  name: z.string().min(1).max(255).nullable(),
  location: mailboxLocationSchema,
  capability: z.custom<Capability>((value) => isCapability(value), 'is not a capability'),
});
const tokenSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const bodySchema = z.custom<MessageBody>(() => true);

export const requestEnvelopeSchema = z.object({
  fos: z.literal('request'),
  token: tokenSchema,
  replyTo: replyAddressSchema,
  budget: z.union([z.number().min(0), z.literal('none')]),
  body: bodySchema,
});

export const messageEnvelopeSchema = z.object({ fos: z.literal('message'), body: bodySchema });

export const responseEnvelopeSchema = z.object({
  fos: z.literal('response'),
  token: tokenSchema,
  ok: z.boolean(),
  body: bodySchema.optional(),
  error: z.object({ code: z.enum(fosErrorCodes), message: z.string() }).optional(),
  awaiting: z.object({ token: tokenSchema, replyTo: replyAddressSchema }).optional(),
});

export const followUpEnvelopeSchema = z.object({ fos: z.literal('followUp'), token: tokenSchema, body: bodySchema });

export const inboundEnvelopeSchema = z.discriminatedUnion('fos', [requestEnvelopeSchema, messageEnvelopeSchema]);
export const replyEnvelopeSchema = z.discriminatedUnion('fos', [responseEnvelopeSchema, followUpEnvelopeSchema]);

export type RequestEnvelope = z.infer<typeof requestEnvelopeSchema>;
export type ResponseEnvelope = z.infer<typeof responseEnvelopeSchema>;

// Hot-path checks: the shapes every well-formed envelope has, tested by hand (about ten times cheaper
// than the schema). Anything that fails them goes through the schema, which decides and explains.

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isToken(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isReplyAddress(value: unknown): boolean {
  if (!isObject(value)) return false;
  const { name, location, capability } = value;
  if (name !== null && (typeof name !== 'string' || name.length === 0 || name.length > 255)) return false;
  if (
    !isObject(location) ||
    typeof location.machine !== 'string' ||
    !Number.isInteger(location.core) ||
    !Number.isInteger(location.mailbox)
  )
    return false;
  return isCapability(capability);
}

type InboundEnvelope = z.infer<typeof inboundEnvelopeSchema>;
type ReplyEnvelope = z.infer<typeof replyEnvelopeSchema>;

/** Parses a message arriving at a served mailbox; undefined when it is not a well-formed envelope. */
export function parseInbound(body: unknown): InboundEnvelope | undefined {
  if (isObject(body) && 'body' in body) {
    if (body.fos === 'message') return body as InboundEnvelope;
    if (
      body.fos === 'request' &&
      isToken(body.token) &&
      isReplyAddress(body.replyTo) &&
      (body.budget === 'none' || (typeof body.budget === 'number' && body.budget >= 0))
    ) {
      return body as InboundEnvelope;
    }
  }
  const parsed = inboundEnvelopeSchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}

/** Parses a message arriving at a reply mailbox; undefined when it is not a well-formed envelope. */
export function parseReply(body: unknown): ReplyEnvelope | undefined {
  if (isObject(body) && isToken(body.token)) {
    if (body.fos === 'followUp' && 'body' in body) return body as ReplyEnvelope;
    if (
      body.fos === 'response' &&
      body.ok === true &&
      body.error === undefined &&
      (body.awaiting === undefined ||
        (isObject(body.awaiting) && isToken(body.awaiting.token) && isReplyAddress(body.awaiting.replyTo)))
    ) {
      return body as ReplyEnvelope;
    }
  }
  const parsed = replyEnvelopeSchema.safeParse(body);
  return parsed.success ? parsed.data : undefined;
}
