import { describeValue, FosError, isFosError } from '@fos/base';
import { isCapability, mailboxLocationSchema } from '@fos/microkernel';
import { z } from 'zod';
import { destinationWeightMax, destinationWeightMin } from '../limits.js';

// Names and capabilities are plain strings here: their syntax is checked after the shape, so that a
// malformed name answers INVALID_NAME and a malformed capability PERMISSION_DENIED, as everywhere. A
// field that is missing or of the wrong type, or a key the request does not have, is BAD_REQUEST.
// Capabilities handed on to others (a published one, a load balancer's) are checked here: they are
// not the caller's authority, so a malformed one is a malformed request.
const capabilityShaped = z
  .string()
  .refine((value) => isCapability(value), 'is not a capability (22 base64url characters, canonical)');

/** Register's request. */
export const registerRequestSchema = z.strictObject({
  name: z.string(),
  capability: z.string(),
  destination: z.discriminatedUnion('type', [
    z.strictObject({
      type: z.literal('direct'),
      location: mailboxLocationSchema,
      publishedCapability: capabilityShaped.optional(),
    }),
    z.strictObject({
      type: z.literal('indirect'),
      name: z.string(),
      weight: z.number().int().min(destinationWeightMin).max(destinationWeightMax).optional(),
    }),
  ]),
  active: z.boolean().optional(),
  loadBalancer: z.strictObject({ name: z.string(), capability: capabilityShaped }).optional(),
});

/** Unregister's request. */
export const unregisterRequestSchema = z.strictObject({
  name: z.string(),
  capability: z.string(),
  destination: z.string().optional(),
  location: mailboxLocationSchema.optional(),
  deactivate: z.boolean().optional(),
});

/** Reserve's request. */
export const reserveRequestSchema = z.strictObject({ domain: z.string(), capability: z.string() });

/** LeaveFleet's request. */
export const leaveFleetRequestSchema = z.strictObject({ capability: z.string() });

/** List's request. */
export const listRequestSchema = z.strictObject({ capability: z.string(), under: z.string().optional() });

/** RegisterTemporary's request. */
export const temporaryRequestSchema = z.strictObject({
  location: mailboxLocationSchema,
  publishedCapability: capabilityShaped.optional(),
});

/** Parses a request against its schema; `BAD_REQUEST` names the operation, the path and the problem. */
export function parseRequest<T>(operation: string, schema: z.ZodType<T>, value: unknown): T {
  let problem: string;
  try {
    const parsed = schema.safeParse(value);
    if (parsed.success) return parsed.data;
    // zod words an issue when it is read, from the value: inside the try too.
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'request' : issue.path.join('.');
    problem = `${where} ${issue?.message ?? 'is invalid'}`;
  } catch (error) {
    // A request that throws when read (a proxy, a getter) can only come through the local linkage.
    if (isFosError(error)) throw error;
    problem = 'request cannot be read (it throws when read)';
  }
  throw new FosError('BAD_REQUEST', `${operation}: ${problem} in ${describeValue(value)}`, { value });
}
