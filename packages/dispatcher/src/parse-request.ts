// Checking a request at a service's boundary: one zod schema, one clear error. Every fleet's handler
// parses what it receives with this before it changes anything, so a malformed request changes nothing.
import { describeValue, FosError, type MessageBody } from '@fos/base';
import type { z } from 'zod';

/**
 * Checks `body` against `schema`: the parsed value, or `BAD_REQUEST` naming the first offending
 * field and its value.
 */
export function parseRequest<T>(what: string, schema: z.ZodType<T>, body: MessageBody): T {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue?.path ?? [];
  let offending: unknown = body;
  for (const key of path)
    offending =
      typeof offending === 'object' && offending !== null
        ? (offending as Record<PropertyKey, unknown>)[key]
        : undefined;
  throw new FosError(
    'BAD_REQUEST',
    `${what}: ${path.length === 0 ? 'request' : path.map(String).join('.')} ${describeValue(offending)} is invalid: ${issue?.message ?? 'invalid'}`,
    { value: offending },
  );
}
