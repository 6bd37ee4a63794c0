// The processes of `fos demo`, in a module of their own so that the demo spawns them the portable
// way (a module and an exported entry), as it will on worker threads. Each keeps its state in its
// entry function's scope: module-level state would be shared by every process of a thread.
import { createHash } from 'node:crypto';
import { FosFs } from '@fos/fs';
import { createLibfos, type ListResult } from '@fos/libfos-messaging';
import { assert, FosError, type MessageBody } from '@fos/base';
import { isCapability, type Capability, type ProcessContext } from '@fos/microkernel';
import { z } from 'zod';

/** The indirect name of the demo's echo fleet. */
export const echoFleetName = '/sys/echo';
/** Round trips one demo client may be asked for. */
export const demoMessagesMax = 10_000_000;
/** Bytes of one demo payload, at most. */
export const demoPayloadBytesMax = 32 * 1024;

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');
const nameSchema = z.string().min(1).max(255);

function parseArgs<T>(entry: string, schema: z.ZodType<T>, args: MessageBody): T {
  const parsed = schema.safeParse(args);
  if (!parsed.success)
    throw new FosError(
      'BAD_REQUEST',
      `${entry}: bad args: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      { value: args },
    );
  return parsed.data;
}

const reserveArgsSchema = z.object({ domain: nameSchema, capability: capabilitySchema });

/** Reserves a sub-domain (`args.domain`) with a namespace capability that covers it; returns the new one. */
export async function reserveDomain(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { domain, capability } = parseArgs('reserveDomain', reserveArgsSchema, args);
  const libfos = await createLibfos(context);
  const reserved = await libfos.reserveNamespace(domain, capability);
  await libfos.close();
  context.exit();
  return { domain, capability: reserved };
}

const memberArgsSchema = z.object({
  name: nameSchema,
  fleet: nameSchema,
  capability: capabilitySchema,
  weight: z.number().int().min(1).max(1000),
});

/**
 * A member of an echo fleet: serves a mailbox registered as `args.name`, added to the indirect name
 * `args.fleet` with `args.weight`, both with the namespace capability `args.capability`. Every
 * request is answered with `{ member, echo }`. Returns its name and mailbox location.
 */
export async function echoMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name, fleet, capability, weight } = parseArgs('echoMember', memberArgsSchema, args);
  const libfos = await createLibfos(context);
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: (request) => ({ member: name, echo: request.body }) });
  await libfos.aliasRegisterDirect(name, mailbox, capability);
  await libfos.aliasRegisterIndirect(fleet, name, capability, { weight });
  return { name, location: mailbox.location };
}

const clientArgsSchema = z.object({
  fleet: nameSchema,
  messages: z.number().int().min(1).max(demoMessagesMax),
  payloadBytes: z.number().int().min(1).max(demoPayloadBytesMax),
});

const echoSchema = z.object({
  member: z.string(),
  echo: z.object({ sequence: z.number().int(), payload: z.instanceof(Uint8Array) }),
});

/** What the demo client returns to its spawner. */
export type DemoClientResult = {
  readonly roundTrips: number;
  readonly payloadBytes: number;
  /** Replies whose sequence and payload matched the request (all of them, or the client crashes). */
  readonly verified: number;
  /** Replies per fleet member. */
  readonly byMember: Record<string, number>;
  /** Lookups its libfos made (the name cache answered the rest). */
  readonly lookups: number;
  /** Elapsed on the machine clock (virtual under simulation). */
  readonly machineElapsedMs: number;
};

/**
 * Demo client: calls the fleet by name (`args.fleet`) `args.messages` times, one call in flight, each
 * with a fresh `args.payloadBytes`-byte payload, and checks that every answer echoes its sequence
 * number and bytes. Its libfos resolves the name once and then sends from its cache.
 */
export async function demoClient(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { fleet, messages, payloadBytes } = parseArgs('demoClient', clientArgsSchema, args);
  const libfos = await createLibfos(context);
  const payload = new Uint8Array(payloadBytes);
  const byMember: Record<string, number> = {};
  const startedMs = context.clock.now();
  let verified = 0;
  for (let sequence = 0; sequence < messages; sequence++) {
    fillPayload(payload, sequence);
    const answer = echoSchema.safeParse((await libfos.call(fleet, { sequence, payload })).body);
    assert(answer.success, `the answer to request ${sequence} has the shape of an echo`);
    assert(
      answer.data.echo.sequence === sequence,
      `the answer to request ${sequence} carries its sequence number (got ${answer.data.echo.sequence})`,
    );
    assert(sameBytes(answer.data.echo.payload, payload), `the answer to request ${sequence} carries its payload`);
    byMember[answer.data.member] = (byMember[answer.data.member] ?? 0) + 1;
    verified++;
  }
  const result: DemoClientResult = {
    roundTrips: messages,
    payloadBytes,
    verified,
    byMember,
    lookups: libfos.stats().lookups,
    machineElapsedMs: context.clock.now() - startedMs,
  };
  await libfos.close();
  return { ...result };
}

const listArgsSchema = z.object({ capability: capabilitySchema, under: nameSchema.optional() });

/** Asks the name service for its listing (`list`, with the management capability); returns it. */
export async function nameSpaceListing(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { capability, under } = parseArgs('nameSpaceListing', listArgsSchema, args);
  const libfos = await createLibfos(context);
  const listing: ListResult = await libfos.run(() =>
    libfos.nameService.list(under === undefined ? { capability } : { capability, under }),
  );
  await libfos.close();
  context.exit();
  return { ...listing };
}

function fillPayload(payload: Uint8Array, sequence: number): void {
  for (let index = 0; index < payload.length; index++) payload[index] = (sequence * 31 + index) & 0xff;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  for (let index = 0; index < left.length; index++) if (left[index] !== right[index]) return false;
  return true;
}

const fsReadArgsSchema = z.object({ verb: z.enum(['ls', 'cat', 'stat']), path: z.string().min(1).max(4096) });

/**
 * A client of the file-system fleet (`fos fs`): lists a directory (`ls`: returns its names), prints a
 * file to this OS process's stdout (`cat`: returns its byte count) or returns a path's metadata
 * (`stat`), reading through its fs component (`FosFs`).
 */
export async function fsRead(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { verb, path } = parseArgs('fsRead', fsReadArgsSchema, args);
  const libfos = await createLibfos(context);
  const fs = new FosFs(libfos);
  try {
    if (verb === 'ls') return { names: await fs.readdir(path) };
    if (verb === 'stat') return { ...(await fs.stat(path)) };
    let bytes = 0;
    for await (const chunk of fs.createReadStream(path)) {
      const data = chunk as Uint8Array;
      bytes += data.length;
      await new Promise<void>((resolve, reject) =>
        process.stdout.write(data, (error) => (error === null || error === undefined ? resolve() : reject(error))),
      );
    }
    return { bytes };
  } finally {
    await libfos.close();
    context.exit();
  }
}

const fsDigestsArgsSchema = z.object({
  paths: z.array(z.string().min(1).max(4096)).max(10_000),
  fleet: nameSchema.optional(),
});

/**
 * Reads every file of `args.paths` through the fs component and returns each one's SHA-256 (hex), and
 * which members served the opens: the oracle of the file-system tests on every fabric.
 * `args.fleet` names the fleet (default `/sys/fs`; a member's own name pins every open to it).
 */
export async function fsDigests(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { paths, fleet } = parseArgs('fsDigests', fsDigestsArgsSchema, args);
  const libfos = await createLibfos(context);
  const fs = new FosFs(libfos, fleet === undefined ? {} : { fleet });
  const digests: Record<string, string> = {};
  for (const path of paths)
    digests[path] = createHash('sha256')
      .update(await fs.readFile(path))
      .digest('hex');
  const byMember = fs.stats().byMember;
  await libfos.close();
  context.exit();
  return { digests, byMember: { ...byMember } };
}

export { httpFileServer } from './http-file-server.js';
