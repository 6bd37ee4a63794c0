// The processes the benchmarks spawn by module on worker cores (a worker thread loads built code
// only: this builds to dist/worker-processes.js). `messaging` (Figure 6-4): an echo server and a
// client that times its own round trips, over the kernel path or a user-space channel.
// `ns-lookup-workers` (Figure 6-1 on worker cores): a process that registers the target name, and a
// client that times its own uncached Lookups.
import { FosFs } from '@fos/fs';
import { createLibfos } from '@fos/libfos-messaging';
import { SystemClock, type MessageBody } from '@fos/base';
import type { Capability, Channel, MailboxLocation, ProcessContext } from '@fos/microkernel';

/** Which path a round trip takes both ways. */
export type MessagingPath = 'kernel' | 'channel';

/** Where an echo server listens. */
export type EchoAddress = { readonly name: string; readonly location: MailboxLocation; readonly capability: string };

type Request = {
  readonly replyName: string;
  readonly replyLocation: MailboxLocation;
  readonly replyCapability: string;
  readonly payload: Uint8Array;
};

/**
 * An echo server: answers each request on the path it came by (a channel per reply name, made on first
 * use). A request that is bare bytes (`messaging-bytes`) is answered with the same bytes on the channel
 * of the last object request its sender made.
 */
export async function echoServer(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name } = args as { name: string };
  const { kernel } = context;
  const { location, capability } = await kernel.createMailbox();
  await kernel.addName(location, name);
  const channels = new Map<string, Channel>();
  const bySender = new Map<string, Channel>();
  kernel.onReadable(location, async () => {
    for (let message = kernel.tryReceive(location); message !== undefined; message = kernel.tryReceive(location)) {
      if (message.body instanceof Uint8Array) {
        const channel = bySender.get(message.sender.process);
        if (channel === undefined) throw new Error(`bytes from ${message.sender.process} before its reply address`);
        await channel.send(message.body);
        continue;
      }
      const request = message.body as unknown as Request;
      const answer = { payload: request.payload };
      if (message.via !== 'channel') {
        await kernel.ukSend(request.replyName, request.replyLocation, request.replyCapability as Capability, answer);
        continue;
      }
      let channel = channels.get(request.replyName);
      if (channel === undefined || channel.closed) {
        channel = await kernel.createChannel(
          request.replyName,
          request.replyLocation,
          request.replyCapability as Capability,
        );
        channels.set(request.replyName, channel);
      }
      bySender.set(message.sender.process, channel);
      await channel.send(answer);
    }
  });
  const address: EchoAddress = { name, location, capability };
  return { ...address };
}

/** What a client is asked to do. */
export type ClientArgs = {
  readonly servers: readonly EchoAddress[];
  readonly path: MessagingPath;
  readonly roundTrips: number;
  readonly warmupRoundTrips: number;
  readonly payloadBytes: number;
  /**
   * Bare bytes of this many bytes as every request and answer instead of the request object (channel
   * path only; one object request per server first tells it where to answer).
   */
  readonly bareBytes?: number;
};

/**
 * A client: makes `warmupRoundTrips`, then `roundTrips` timed round trips, one in flight, spreading
 * them over the servers in turn; answers its round trips per second and exits.
 */
export async function echoClient(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { servers, path, roundTrips, warmupRoundTrips, payloadBytes, bareBytes } = args as unknown as ClientArgs;
  const { kernel } = context;
  const reply = await kernel.createMailbox();
  const replyName = `/bench/reply/${context.process}`;
  await kernel.addName(reply.location, replyName);
  const payload = new Uint8Array(payloadBytes).fill(7);
  const request = { replyName, replyLocation: reply.location, replyCapability: reply.capability, payload };
  const channels =
    path === 'channel'
      ? await Promise.all(
          servers.map((server) => kernel.createChannel(server.name, server.location, server.capability as Capability)),
        )
      : [];
  if (bareBytes !== undefined) {
    if (path !== 'channel') throw new Error('bare bytes take the channel path');
    for (const channel of channels) {
      await channel.send(request);
      await kernel.receive(reply.location);
    }
  }
  const bytes = new Uint8Array(bareBytes ?? 0).fill(7);
  const roundTrip = async (index: number): Promise<void> => {
    const target = index % servers.length;
    if (path === 'channel') await (channels[target] as Channel).send(bareBytes === undefined ? request : bytes);
    else {
      const server = servers[target] as EchoAddress;
      await kernel.ukSend(server.name, server.location, server.capability as Capability, request);
    }
    const answer = await kernel.receive(reply.location);
    const length =
      bareBytes === undefined
        ? (answer.body as { payload: Uint8Array }).payload.length
        : (answer.body as Uint8Array).length;
    if (length !== (bareBytes ?? payloadBytes)) throw new Error('the echo lost the payload');
  };
  for (let index = 0; index < warmupRoundTrips; index++) await roundTrip(index);
  const clock = new SystemClock();
  const startedMs = clock.now();
  for (let index = 0; index < roundTrips; index++) await roundTrip(index);
  const elapsedMs = clock.now() - startedMs;
  for (const channel of channels) channel.close();
  context.exit();
  return { perSecond: roundTrips / (elapsedMs / 1000), elapsedMs };
}

/** Registers `args.name` for a mailbox of its own (root namespace capability `args.capability`) and stays up. */
export async function lookupTarget(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name, capability } = args as { name: string; capability: string };
  const libfos = await createLibfos(context);
  const mailbox = await libfos.createMailbox();
  await libfos.aliasRegisterDirect(name, mailbox, capability as Capability);
  return null;
}

/**
 * A client of the name service: makes `warmupLookups`, then `lookups` timed uncached Lookups of
 * `args.name` through its libfos's name-service RPC client (the member its core finds), one in flight;
 * answers lookups per second and how many of its messages went through a user-space channel, and exits.
 * With `args.alias` false it never registers its canonical alias, so its requests stay on the kernel path.
 */
export async function lookupClient(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name, lookups, warmupLookups, alias } = args as {
    name: string;
    lookups: number;
    warmupLookups: number;
    alias?: boolean;
  };
  const libfos = await createLibfos(context);
  // A client that sends by name has its canonical alias: its requests to the name service may then
  // take a user-space channel (the replies are checked sends to that name).
  if (alias !== false) await libfos.getCanonicalAlias();
  const clock = new SystemClock();
  const round = (count: number) =>
    libfos.run(async () => {
      for (let index = 0; index < count; index++) {
        const result = await libfos.nameService.lookup(name);
        if (result.type !== 'direct') throw new Error(`${name} is not a direct name`);
      }
    });
  await round(warmupLookups);
  const startedMs = clock.now();
  await round(lookups);
  const elapsedMs = clock.now() - startedMs;
  const { channelSends } = libfos.stats().channels;
  await libfos.close();
  context.exit();
  return { perSecond: lookups / (elapsedMs / 1000), channelSends };
}

/**
 * A member of an echo fleet for `send-by-name`: a served mailbox registered as `args.name` and added to
 * the indirect name `args.fleet`; answers every call with its body. Stays up.
 */
export async function echoMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name, fleet, capability } = args as { name: string; fleet: string; capability: string };
  const libfos = await createLibfos(context);
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: (request) => request.body });
  await libfos.aliasRegisterDirect(name, mailbox, capability as Capability);
  await libfos.aliasRegisterIndirect(fleet, name, capability as Capability);
  return null;
}

/**
 * A client for `send-by-name`: `warmupCalls` then `calls` timed calls, one in flight, either by name
 * (`libfos.call(name)`: resolved through its warm name cache) or to the location that name resolved to
 * once (the dispatcher's call to a known address): the same intended name, capability and path (the
 * same user-space channel, opened by libfos after its first sends), so only the naming differs.
 */
export async function sendByNameClient(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { name, calls, warmupCalls, byName, payloadBytes } = args as {
    name: string;
    calls: number;
    warmupCalls: number;
    byName: boolean;
    payloadBytes: number;
  };
  const libfos = await createLibfos(context);
  // Replies travel checked to a named reply mailbox, in both modes.
  await libfos.getCanonicalAlias();
  const body = new Uint8Array(payloadBytes).fill(5);
  const resolved = await libfos.aliasResolve(name);
  const address = { name, location: resolved.location, capability: resolved.publishedCapability as Capability };
  const round = (count: number) =>
    libfos.run(async (thread) => {
      for (let index = 0; index < count; index++) {
        const answer = byName ? await libfos.call(name, body) : await thread.call(address, body);
        if ((answer.body as Uint8Array).length !== payloadBytes) throw new Error('the echo lost the payload');
      }
    });
  await round(warmupCalls);
  const clock = new SystemClock();
  const startedMs = clock.now();
  await round(calls);
  const elapsedMs = clock.now() - startedMs;
  const channels = libfos.stats().channels.channelSends;
  await libfos.close();
  context.exit();
  return { perSecond: calls / (elapsedMs / 1000), channelSends: channels };
}

/**
 * `fs` (Figure 6-5): a client of the file-system fleet. Each operation opens one of its own files
 * (`args.paths`, in turn: the mapping of `/sys/fs` refreshed through the name service at every open),
 * reads `args.readBytes` bytes and closes it. After `args.warmup` operations it times `args.operations`
 * and returns the rate.
 */
export async function fsBenchClient(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { paths, operations, warmup, readBytes } = args as {
    paths: string[];
    operations: number;
    warmup: number;
    readBytes: number;
  };
  const libfos = await createLibfos(context);
  const fs = new FosFs(libfos);
  const buffer = new Uint8Array(readBytes);
  const one = async (index: number): Promise<void> => {
    const handle = await fs.open(paths[index % paths.length] as string);
    const { bytesRead } = await handle.read(buffer, 0, readBytes, 0);
    if (bytesRead !== readBytes) throw new Error(`read ${bytesRead} of ${readBytes} bytes`);
    await handle.close();
  };
  for (let index = 0; index < warmup; index++) await one(index);
  const clock = new SystemClock();
  const startedMs = clock.now();
  for (let index = 0; index < operations; index++) await one(warmup + index);
  const elapsedMs = clock.now() - startedMs;
  const byMember = fs.stats().byMember;
  await libfos.close();
  context.exit();
  return { opsPerSecond: (operations * 1000) / Math.max(elapsedMs, 1e-3), members: Object.keys(byMember).length };
}
