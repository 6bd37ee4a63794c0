// The messages between netif, the netstack members and the sockets of libfos, checked with zod at the
// receiving end (a malformed message is BAD_REQUEST naming the field; nothing is changed by it).
import { isCapability, type Capability } from '@fos/microkernel';
import { z } from 'zod';
import { netBacklogMax, netHostBytesMax, netSegmentBytesMax } from './limits.js';

export { parseRequest } from '@fos/dispatcher';

/** A connection's id: the hex hash of its 4-tuple (the last part of its name). */
export const connIdSchema = z.string().regex(/^[0-9a-f]{32}$/, 'must be 32 hex digits');
const nameSchema = z.string().min(1).max(255);
const portSchema = z.number().int().min(0).max(65_535);
const hostSchema = z.string().min(1).max(netHostBytesMax);
const seqSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const bytesSchema = z.instanceof(Uint8Array).refine((bytes) => bytes.length <= netSegmentBytesMax, {
  message: `must be at most netSegmentBytesMax (${netSegmentBytesMax}) bytes`,
});
const addressSchema = z.strictObject({ address: z.string().max(64), port: portSchema });
const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');

/** One end of a connection: an IP address and a port. */
export type NetAddress = z.infer<typeof addressSchema>;

/** What netif serves: its members' requests about host sockets. */
export const netifRequestSchema = z.discriminatedUnion('op', [
  // A listening port, owned by the process whose socket endpoint is `listener`.
  z.strictObject({ op: z.literal('listen'), port: portSchema, host: hostSchema, listener: nameSchema }),
  z.strictObject({ op: z.literal('unlisten'), port: portSchema, listener: nameSchema }),
  z.strictObject({ op: z.literal('connect'), host: hostSchema, port: portSchema.min(1) }),
  // The member registered the connection's name: netif may send it segments now (outbound connections).
  z.strictObject({ op: z.literal('ready'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('write'), conn: connIdSchema, bytes: bytesSchema }),
  z.strictObject({ op: z.literal('end'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('destroy'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('pause'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('resume'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('info') }),
]);

/** A request to netif. */
export type NetifRequest = z.infer<typeof netifRequestSchema>;

/** What a netstack member serves: netif's segments and the sockets' requests. */
export const memberRequestSchema = z.discriminatedUnion('op', [
  // netif: a new connection accepted on a listening port (answered once its name is registered).
  z.strictObject({
    op: z.literal('incoming'),
    conn: connIdSchema,
    listener: nameSchema,
    netif: nameSchema,
    local: addressSchema,
    remote: addressSchema,
  }),
  // netif, to the connection's name, numbered per connection from 0.
  z.strictObject({ op: z.literal('data'), conn: connIdSchema, seq: seqSchema, bytes: bytesSchema }),
  z.strictObject({ op: z.literal('eof'), conn: connIdSchema, seq: seqSchema }),
  z.strictObject({
    op: z.literal('closed'),
    conn: connIdSchema,
    seq: seqSchema,
    error: z.string().max(512).optional(),
  }),
  // Sockets of libfos.
  z.strictObject({
    op: z.literal('listen'),
    port: portSchema,
    host: hostSchema,
    endpoint: nameSchema,
    netif: nameSchema.optional(),
  }),
  z.strictObject({ op: z.literal('unlisten'), port: portSchema, endpoint: nameSchema, netif: nameSchema.optional() }),
  z.strictObject({
    op: z.literal('connect'),
    host: hostSchema,
    port: portSchema.min(1),
    endpoint: nameSchema,
    netif: nameSchema.optional(),
  }),
  z.strictObject({ op: z.literal('send'), conn: connIdSchema, bytes: bytesSchema }),
  z.strictObject({
    op: z.literal('ack'),
    conn: connIdSchema,
    bytes: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  }),
  z.strictObject({ op: z.literal('attach'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('shutdown'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('close'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('info') }),
  z.strictObject({ op: z.literal('leave'), capability: capabilitySchema }),
]);

/** A request to a netstack member. */
export type MemberRequest = z.infer<typeof memberRequestSchema>;

/** What a member pushes to a socket endpoint (the sockets of one process). */
export const endpointMessageSchema = z.discriminatedUnion('op', [
  // A connection for a listener of this process (answered: queued, or refused when the backlog is full).
  z.strictObject({
    op: z.literal('incoming'),
    conn: connIdSchema,
    port: portSchema,
    local: addressSchema,
    remote: addressSchema,
  }),
  z.strictObject({ op: z.literal('data'), conn: connIdSchema, bytes: bytesSchema }),
  z.strictObject({ op: z.literal('eof'), conn: connIdSchema }),
  z.strictObject({ op: z.literal('closed'), conn: connIdSchema, error: z.string().max(512).optional() }),
]);

/** A message to a socket endpoint. */
export type EndpointMessage = z.infer<typeof endpointMessageSchema>;

/** The answer to `connect`: the connection's id and its two ends. */
export type ConnectResult = { readonly conn: string; readonly local: NetAddress; readonly remote: NetAddress };

/** What netif's `info` answers. */
export type NetifInfo = {
  readonly netif: string;
  readonly connections: number;
  readonly listeners: number;
  readonly accepted: number;
  readonly connected: number;
  readonly refused: number;
  readonly segments: number;
};

/** What a member's `info` answers. */
export type NetMemberInfo = {
  readonly member: string;
  readonly connections: number;
  readonly taken: number;
  readonly ended: number;
  readonly segments: number;
  readonly outOfOrder: number;
  readonly pausedWire: number;
};

/** The largest backlog a listen may ask for (re-exported for the socket component's checks). */
export const backlogSchema = z.number().int().min(1).max(netBacklogMax);
