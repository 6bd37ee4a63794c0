import { FosError } from '@fos/base';
import { mailboxLocationSchema } from '@fos/microkernel';
import { z } from 'zod';
import { destinationWeightMax, destinationWeightMin } from '../limits.js';

// Names and capabilities are plain strings here: their syntax is checked after the shape, so that a
// malformed name answers INVALID_NAME and a malformed capability PERMISSION_DENIED, as everywhere.
const capabilityShaped = z.string().regex(/^[A-Za-z0-9_-]{22}$/, 'is not a capability (22 base64url characters)');

/** Register's request. */
export const registerRequestSchema = z.object({
  name: z.string(),
  capability: z.string(),
  destination: z.discriminatedUnion('type', [
    z.object({
      type: z.literal('direct'),
      location: mailboxLocationSchema,
      publishedCapability: capabilityShaped.optional(),
    }),
    z.object({
      type: z.literal('indirect'),
      name: z.string(),
      weight: z.number().int().min(destinationWeightMin).max(destinationWeightMax).optional(),
    }),
  ]),
  active: z.boolean().optional(),
  loadBalancer: z.object({ name: z.string(), capability: capabilityShaped }).optional(),
});

/** Unregister's request. */
export const unregisterRequestSchema = z.object({
  name: z.string(),
  capability: z.string(),
  destination: z.string().optional(),
  deactivate: z.boolean().optional(),
});

/** Reserve's request. */
export const reserveRequestSchema = z.object({ domain: z.string(), capability: z.string() });

/** LeaveFleet's request. */
export const leaveFleetRequestSchema = z.object({ capability: z.string() });

/** List's request. */
export const listRequestSchema = z.object({ capability: z.string(), under: z.string().optional() });

/** RegisterTemporary's request. */
export const temporaryRequestSchema = z.object({
  location: mailboxLocationSchema,
  publishedCapability: capabilityShaped.optional(),
});

function describe(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** Parses a request against its schema; `BAD_REQUEST` names the operation, the path and the problem. */
export function parseRequest<T>(operation: string, schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? 'request' : issue.path.join('.');
  throw new FosError('BAD_REQUEST', `${operation}: ${where} ${issue?.message ?? 'is invalid'} in ${describe(value)}`, {
    value,
  });
}
