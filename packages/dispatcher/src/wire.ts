import { fosErrorCodes, isCapability, mailboxLocationSchema, type Capability, type MessageBody } from '@fos/microkernel';
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
