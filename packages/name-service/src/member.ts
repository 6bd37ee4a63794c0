import { LocalStore } from '@fos/distributed-store';
import { dispatcherTransport, rpcHandler } from '@fos/dispatcher';
import { createLibfos, createNameServiceApiClient, serveNameServiceApi, type Libfos, type LoadBalancerRef, type NameServiceApi, type WeightedName } from '@fos/libfos-messaging';
import { FosError, isCapability, mailboxLocationSchema, nameServiceName, type Capability, type MailboxLocation, type MessageBody, type ProcessContext } from '@fos/microkernel';
import { z } from 'zod';
import type { NameEntry } from './entry.js';
import type { NameServiceLimits } from './limits.js';
import { NameServer, type LoadBalancerFunction, type RequesterPlace } from './name-server.js';
import { badFleet, bindReplicatedStore, parkedStore, type StoreAddress } from './store-binding.js';

/** What a load balancer is asked: the indirect name and its candidate destinations with their weights. */
export type LoadBalancerQuery = { readonly name: string; readonly candidates: WeightedName[] };

/** What a load balancer answers: the destination to use; anything else lets the default policy pick. */
export type LoadBalancerAnswer = { readonly destination: string };

/** What {@link nameServerMember} returns to the process that spawned it (the booter, §5.2). */
export type NameServerMemberResult = {
  /** The member's request mailbox (registered with `ukNameServiceRegister`). */
  readonly location: MailboxLocation;
  readonly capability: Capability;
  /** The namespace capability of `/*` (from `start`); empty for a member that joined a running fleet. */
  readonly rootCapability: string;
  /** The management capability (from `start`). */
  readonly managementCapability: string;
  /** In a fleet: this member's store mailbox, and what a further member needs to adopt the table. */
  readonly store?: StoreAddress;
  readonly fleetCapabilities?: { readonly managementCapability: string; readonly temporaryCapability: string };
};

const limitsSchema = z
  .object({
    destinationsPerNameMax: z.number(),
    referrersPerNameMax: z.number(),
    indirectionHopsMax: z.number(),
    graphNamesVisitedMax: z.number(),
    conflictRetriesMax: z.number(),
    temporaryNameAttemptsMax: z.number(),
    lookupTtlMs: z.number(),
    loadBalancerTimeoutMs: z.number(),
  })
  .partial()
  .strict();

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');

const memberArgsSchema = z.strictObject({
  kernelCapability: capabilitySchema,
  limits: limitsSchema.optional(),
  fleet: z
    .strictObject({
      member: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1..32 of [A-Za-z0-9_-]'),
      sponsor: z.strictObject({ member: z.string(), name: z.string(), location: mailboxLocationSchema, capability: capabilitySchema }).optional(),
      capabilities: z.strictObject({ managementCapability: capabilitySchema, temporaryCapability: capabilitySchema }).optional(),
    })
    .optional(),
});

/**
 * A member of a fleet over the replicated store: its name among the store's members (the lowest
 * coordinates membership changes), and, for every member but the first, the store mailbox of a running
 * member to join through and the capabilities the first member handed out (`fleetCapabilities`).
 */
export type NameServerFleetArgs = {
  readonly member: string;
  readonly sponsor?: StoreAddress;
  readonly capabilities?: { readonly managementCapability: string; readonly temporaryCapability: string };
};

/** The arguments of {@link nameServerMember}. */
export type NameServerMemberArgs = { readonly kernelCapability: string; readonly limits?: Partial<NameServiceLimits>; readonly fleet?: NameServerFleetArgs };

const answerSchema = z.object({ destination: z.string() });

/**
 * The entry of a name-service member process (thesis §5.2): a {@link NameServer} over a
 * {@link LocalStore} (the single-member prototype of the thesis, footnote 7 of chapter 4), linked into
 * its own libfos directly (the local linkage that breaks the dependency cycle), served on a mailbox
 * registered as the machine's name server with `ukNameServiceRegister`, so that every process finds
 * it with `ukNameServiceLookup` and reaches it under `/sys/name`. It calls `start` and returns the
 * capabilities to its spawner (the booter). Needs the machine's kernel capability in its arguments:
 * with it the member adds and removes kernel aliases (Table 4.5) and answers nameless reply mailboxes
 * unchecked.
 *
 * @throws BAD_REQUEST when the arguments are malformed (a limit out of range included)
 */
export async function nameServerMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsed = memberArgsSchema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FosError('BAD_REQUEST', `nameServerMember: bad args: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`, { value: args });
  }
  const { kernelCapability, fleet } = parsed.data;
  if (fleet?.sponsor !== undefined && fleet.capabilities === undefined) badFleet('a joining member needs the fleet capabilities', fleet);
  const limits = parsed.data.limits as Partial<NameServiceLimits> | undefined;
  const { kernel } = context;
  const holder: { libfos?: Libfos } = {};
  const thread = () => {
    const current = holder.libfos?.dispatcher.currentThread;
    if (current === undefined) throw new FosError('BAD_REQUEST', 'the name server runs its operations in dispatcher threads of its own process');
    return current;
  };
  const loadBalancer: LoadBalancerFunction = async (ref: LoadBalancerRef, name, candidates, timeoutMs) => {
    const libfos = holder.libfos;
    if (libfos === undefined) return undefined;
    const query: LoadBalancerQuery = { name, candidates };
    const reply = await libfos.call(ref.name, query, { capability: ref.capability as Capability, timeoutMs });
    const answer = answerSchema.safeParse(reply.body);
    return answer.success ? answer.data.destination : undefined;
  };
  // The local linkage of §5.2: libfos calls this member's server directly (created once the store is).
  const created: { server?: NameServer } = {};
  const registered: { location?: MailboxLocation } = {};
  const local = (): NameServer => {
    if (created.server === undefined) throw new FosError('SHUTDOWN', 'the name server is not running yet');
    return created.server;
  };
  const linkage: NameServiceApi = {
    lookup: (name) => local().lookup(name),
    register: (request) => local().register(request),
    unregister: (request) => local().unregister(request),
    registerTemporary: (request) => local().registerTemporary(request),
    reserve: (request) => local().reserve(request),
    list: (request) => local().list(request),
    leaveFleet: (request) => local().leaveFleet(request),
  };
  const libfos = await createLibfos(context, { nameService: linkage, kernelCapability });
  holder.libfos = libfos;
  const log = (line: string): void => console.error(line);
  const bound = fleet === undefined ? undefined : await bindReplicatedStore(libfos, fleet.member, fleet.sponsor !== undefined, log);
  const running = new NameServer({
    store: bound === undefined ? new LocalStore<NameEntry>() : parkedStore(bound.member, () => holder.libfos),
    random: context.random,
    aliases: {
      add: (location, name) => thread().waitFor(kernel.ukAddAlias(kernelCapability, location, name)),
      remove: (location, name) => thread().waitFor(kernel.ukRemoveAlias(kernelCapability, location, name)),
    },
    requester: () => requesterPlace(holder.libfos),
    loadBalancer,
    ...(fleet === undefined ? {} : { member: fleet.member }),
    ...(bound === undefined
      ? {}
      : {
          leaveFleet: async () => {
            const park = <T>(promise: Promise<T>): Promise<T> => thread().waitFor(promise);
            if (bound.member.peers.length === 0) throw new FosError('BAD_REQUEST', `name-service member ${bound.address.member} is the last of its fleet`, { value: bound.address.member });
            // Stop being found first, then leave the store (which waits until nothing is pending).
            if (registered.location !== undefined) await park(kernel.ukNameServiceUnregister(registered.location, kernelCapability));
            await park(bound.member.leave());
          },
        }),
    ...(limits === undefined ? {} : { limits }),
  });
  created.server = running;
  let capabilities: { rootCapability: string; managementCapability: string };
  if (bound !== undefined && fleet?.sponsor !== undefined && fleet.capabilities !== undefined) {
    bound.learn(fleet.sponsor);
    await bound.member.join(fleet.sponsor.member);
    await running.adopt(fleet.capabilities);
    capabilities = { rootCapability: '', managementCapability: fleet.capabilities.managementCapability };
  } else {
    capabilities = await libfos.run(() => running.start());
  }
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: rpcHandler(serveNameServiceApi(running)) });
  await kernel.ukNameServiceRegister(mailbox.location, kernelCapability, mailbox.capability);
  registered.location = mailbox.location;
  const result: NameServerMemberResult = {
    location: mailbox.location,
    capability: mailbox.capability,
    ...capabilities,
    ...(bound === undefined ? {} : { store: bound.address, fleetCapabilities: running.fleetCapabilities() }),
  };
  return { ...result };
}

function requesterPlace(libfos: Libfos | undefined): RequesterPlace | undefined {
  const sender = libfos?.dispatcher.currentThread?.request?.sender;
  return sender === undefined ? undefined : { machine: sender.machine, core: sender.core };
}

/** What {@link leaveFleetMember} takes: the member that leaves, and the management capability. */
export type LeaveFleetMemberArgs = { readonly location: MailboxLocation; readonly capability: string; readonly managementCapability: string };

const leaveArgsSchema = z.object({ location: mailboxLocationSchema, capability: z.string(), managementCapability: z.string() });

/**
 * A one-shot process entry (Table 4.3's `shrinkFleet`, as the booter runs it): asks the member at
 * `location` to leave its fleet (`leaveFleet` with the management capability), then exits. Spawned
 * from {@link nameServiceProcessModule}, so it runs on every fabric, worker threads included.
 */
export async function leaveFleetMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsed = leaveArgsSchema.safeParse(args);
  if (!parsed.success) throw new FosError('BAD_REQUEST', `leaveFleetMember: bad args: ${parsed.error.issues[0]?.message ?? 'invalid'}`, { value: args });
  const { location, capability, managementCapability } = parsed.data;
  const libfos = await createLibfos(context);
  try {
    await libfos.run(async (thread) => {
      const client = createNameServiceApiClient(dispatcherTransport(() => thread, { name: nameServiceName, location, capability: capability as Capability }));
      await client.leaveFleet({ capability: managementCapability });
    });
  } finally {
    await libfos.close();
    context.exit();
  }
  return null;
}
