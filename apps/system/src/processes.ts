// The processes of `fos demo`, in a module of their own so that the demo spawns them the portable
// way (a module and an exported entry), as it will on worker threads. Each keeps its state in its
// entry function's scope: module-level state would be shared by every process of a thread.
import { assert, FosError, isCapability, isFosError, mailboxLocationSchema, type Capability, type MessageBody, type ProcessContext } from '@fos/microkernel';
import { z } from 'zod';

/** The name the demo's echo server registers. */
export const echoServerName = '/demo/echo';
/** The name of the demo client's reply mailbox. */
export const clientReplyName = '/demo/client/reply';
/** Round trips one demo client may be asked for. */
export const demoMessagesMax = 10_000_000;
/** Bytes of one demo payload, at most. */
export const demoPayloadBytesMax = 32 * 1024;

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');
const nameSchema = z.string().min(1).max(255);

/** Where to send: an intended name, the mailbox's location and a send capability of it. */
const addressSchema = z.object({ name: nameSchema, location: mailboxLocationSchema, capability: capabilitySchema });

const echoRequestSchema = z.object({ sequence: z.number().int().min(0), payload: z.instanceof(Uint8Array), reply: addressSchema });
const echoReplySchema = z.object({ sequence: z.number().int().min(0), payload: z.instanceof(Uint8Array) });
const echoArgsSchema = z.object({ name: nameSchema.default(echoServerName) }).nullish();
const clientArgsSchema = z.object({
  server: addressSchema,
  messages: z.number().int().min(1).max(demoMessagesMax),
  payloadBytes: z.number().int().min(1).max(demoPayloadBytesMax),
  replyName: nameSchema.default(clientReplyName),
});

/** What the demo client returns to its spawner. */
export interface DemoClientResult {
  readonly roundTrips: number;
  readonly payloadBytes: number;
  /** Replies whose sequence and payload matched the request (all of them, or the client crashes). */
  readonly verified: number;
  /** Elapsed on the machine clock (virtual under simulation). */
  readonly machineElapsedMs: number;
}

/**
 * Echo server: a mailbox named `args.name` (default {@link echoServerName}); every request
 * `{ sequence, payload, reply: { name, location, capability } }` is answered with `{ sequence,
 * payload }` by `ukSend` to the reply address it carries. Malformed requests are dropped: there is
 * nowhere to answer them. Returns its own address.
 */
export async function echoServer(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsedArgs = echoArgsSchema.safeParse(args);
  if (!parsedArgs.success) throw new FosError('BAD_REQUEST', `echoServer: bad args: ${parsedArgs.error.issues[0]?.message ?? 'invalid'}`, { value: args });
  const name = parsedArgs.data?.name ?? echoServerName;
  const { kernel } = context;
  const mailbox = await kernel.createMailbox();
  await kernel.addName(mailbox.location, name);
  // The kernel runs this callback one run at a time, so the replies of a stream leave in arrival order.
  kernel.onReadable(mailbox.location, async () => {
    for (let message = kernel.tryReceive(mailbox.location); message !== undefined; message = kernel.tryReceive(mailbox.location)) {
      const request = echoRequestSchema.safeParse(message.body);
      if (!request.success) continue;
      const { reply, sequence, payload } = request.data;
      try {
        await kernel.ukSend(reply.name, reply.location, reply.capability, { sequence, payload });
      } catch (error) {
        // A client that went away must not stop the server: give up that reply, keep serving.
        if (!isFosError(error) || error.details.sequence === undefined) throw error;
        kernel.abandonSend(reply.location, error.details.sequence);
      }
    }
  });
  return { name, location: mailbox.location, capability: mailbox.capability };
}

/**
 * Demo client: makes a reply mailbox named `args.replyName`, then sends `args.messages` requests to
 * `args.server` one at a time (one in flight), each with a fresh `args.payloadBytes`-byte payload,
 * and checks that every reply carries the same sequence number and bytes. Returns
 * {@link DemoClientResult} once the last reply is in; the process and its mailbox live on until the
 * instance shuts down.
 */
export async function demoClient(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsedArgs = clientArgsSchema.safeParse(args);
  if (!parsedArgs.success) throw new FosError('BAD_REQUEST', `demoClient: bad args: ${parsedArgs.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, { value: args });
  const { server, messages, payloadBytes, replyName } = parsedArgs.data;
  const { kernel } = context;
  const replyMailbox = await kernel.createMailbox();
  await kernel.addName(replyMailbox.location, replyName);
  const reply = { name: replyName, location: replyMailbox.location, capability: replyMailbox.capability };
  const payload = new Uint8Array(payloadBytes);
  const startedMs = context.clock.now();
  let verified = 0;
  for (let sequence = 0; sequence < messages; sequence++) {
    fillPayload(payload, sequence);
    await kernel.ukSend(server.name, server.location, server.capability, { sequence, payload, reply });
    const answer = echoReplySchema.safeParse((await kernel.receive(replyMailbox.location)).body);
    assert(answer.success, `the echo of request ${sequence} has the shape of a reply`);
    assert(answer.data.sequence === sequence, `the echo of request ${sequence} carries its sequence number (got ${answer.data.sequence})`);
    assert(sameBytes(answer.data.payload, payload), `the echo of request ${sequence} carries its payload`);
    verified++;
  }
  const result: DemoClientResult = { roundTrips: messages, payloadBytes, verified, machineElapsedMs: context.clock.now() - startedMs };
  return { ...result };
}

function fillPayload(payload: Uint8Array, sequence: number): void {
  for (let index = 0; index < payload.length; index++) payload[index] = (sequence * 31 + index) & 0xff;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}
