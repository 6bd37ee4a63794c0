import { LocalStore } from '@fos/distributed-store';
import { dispatcherTransport, rpcHandler } from '@fos/dispatcher';
import {
  createLibfos,
  createNameServiceApiClient,
  serveNameServiceApi,
  type Libfos,
  type LoadBalancerRef,
  type NameServiceApi,
  type WeightedName,
} from '@fos/libfos-messaging';
import { FosError, nameServiceName, writeErrorLine, type MessageBody } from '@fos/base';
import {
  isCapability,
  mailboxLocationSchema,
  type Capability,
  type MailboxLocation,
  type ProcessContext,
} from '@fos/microkernel';
import { z } from 'zod';
import type { NameEntry } from './entry.js';
import type { NameServiceLimits } from './limits.js';
import { NameServer, type LoadBalancerFunction, type NameServerOptions, type RequesterPlace } from './name-server.js';
import { badFleet, bindReplicatedStore, type BoundStore, type StoreAddress } from './store-binding.js';

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
      sponsor: z
        .strictObject({
          member: z.string(),
          name: z.string(),
          location: mailboxLocationSchema,
          capability: capabilitySchema,
        })
        .optional(),
      capabilities: z
        .strictObject({ managementCapability: capabilitySchema, temporaryCapability: capabilitySchema })
        .optional(),
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
export type NameServerMemberArgs = {
  readonly kernelCapability: string;
  readonly limits?: Partial<NameServiceLimits>;
  readonly fleet?: NameServerFleetArgs;
};

const answerSchema = z.object({ destination: z.string() });

type MemberArgs = z.infer<typeof memberArgsSchema>;

/** What a member is made of, once its arguments are parsed and its libfos exists. */
type MemberParts = {
  readonly context: ProcessContext;
  readonly libfos: Libfos;
  readonly kernelCapability: Capability;
  readonly limits: Partial<NameServiceLimits> | undefined;
  readonly fleet: MemberArgs['fleet'];
  readonly bound: BoundStore | undefined;
  /** The request mailbox, once registered with the kernel. */
  readonly registered: { location?: MailboxLocation };
};

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
  const { kernelCapability, fleet, limits } = parseMemberArgs(args);
  // The local linkage of §5.2: libfos calls this member's server directly (created once the store is).
  const created: { server?: NameServer } = {};
  const libfos = await createLibfos(context, { nameService: localLinkage(created), kernelCapability });
  const log = writeErrorLine;
  const bound =
    fleet === undefined ? undefined : await bindReplicatedStore(libfos, fleet.member, fleet.sponsor !== undefined, log);
  const parts: MemberParts = { context, libfos, kernelCapability, limits, fleet, bound, registered: {} };
  const running = new NameServer(serverOptions(parts));
  created.server = running;
  const capabilities = await startOrAdopt(parts, running);
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: rpcHandler(serveNameServiceApi(running)) });
  await context.kernel.ukNameServiceRegister(mailbox.location, kernelCapability, mailbox.capability);
  parts.registered.location = mailbox.location;
  const result: NameServerMemberResult = {
    location: mailbox.location,
    capability: mailbox.capability,
    ...capabilities,
    ...(bound === undefined ? {} : { store: bound.address, fleetCapabilities: running.fleetCapabilities() }),
  };
  return { ...result };
}

function parseMemberArgs(args: MessageBody): {
  readonly kernelCapability: Capability;
  readonly fleet: MemberArgs['fleet'];
  readonly limits: Partial<NameServiceLimits> | undefined;
} {
  const parsed = memberArgsSchema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FosError(
      'BAD_REQUEST',
      `nameServerMember: bad args: ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`,
      { value: args },
    );
  }
  const { kernelCapability, fleet } = parsed.data;
  if (fleet?.sponsor !== undefined && fleet.capabilities === undefined)
    badFleet('a joining member needs the fleet capabilities', fleet);
  return { kernelCapability, fleet, limits: parsed.data.limits as Partial<NameServiceLimits> | undefined };
}

/** The name-service API as this member's own libfos calls it: straight into its server. */
function localLinkage(created: { readonly server?: NameServer }): NameServiceApi {
  const local = (): NameServer => {
    if (created.server === undefined) throw new FosError('SHUTDOWN', 'the name server is not running yet');
    return created.server;
  };
  return {
    lookup: (name) => local().lookup(name),
    register: (request) => local().register(request),
    unregister: (request) => local().unregister(request),
    registerTemporary: (request) => local().registerTemporary(request),
    reserve: (request) => local().reserve(request),
    list: (request) => local().list(request),
    leaveFleet: (request) => local().leaveFleet(request),
  };
}

/** The server's store (its replicated member in a fleet, which parks the calling thread while it waits) and I/O. */
function serverOptions(parts: MemberParts): NameServerOptions {
  const { context, libfos, kernelCapability, limits, fleet, bound } = parts;
  const thread = () => {
    const current = libfos.dispatcher.currentThread;
    if (current === undefined)
      throw new FosError('BAD_REQUEST', 'the name server runs its operations in dispatcher threads of its own process');
    return current;
  };
  const loadBalancer: LoadBalancerFunction = async (ref: LoadBalancerRef, name, candidates, timeoutMs) => {
    const query: LoadBalancerQuery = { name, candidates };
    const reply = await libfos.call(ref.name, query, { capability: ref.capability as Capability, timeoutMs });
    const answer = answerSchema.safeParse(reply.body);
    return answer.success ? answer.data.destination : undefined;
  };
  return {
    store: bound === undefined ? new LocalStore<NameEntry>() : bound.member,
    random: context.random,
    aliases: {
      add: (location, name) => thread().waitFor(context.kernel.ukAddAlias(kernelCapability, location, name)),
      remove: (location, name) => thread().waitFor(context.kernel.ukRemoveAlias(kernelCapability, location, name)),
    },
    requester: () => requesterPlace(libfos),
    loadBalancer,
    ...(fleet === undefined ? {} : { member: fleet.member }),
    ...(bound === undefined
      ? {}
      : {
          leaveFleet: async () => {
            if (bound.member.peers.length === 0)
              throw new FosError(
                'BAD_REQUEST',
                `name-service member ${bound.address.member} is the last of its fleet`,
                { value: bound.address.member },
              );
            // Stop being found first, then leave the store (which waits until nothing is pending).
            if (parts.registered.location !== undefined)
              await thread().waitFor(
                context.kernel.ukNameServiceUnregister(parts.registered.location, kernelCapability),
              );
            await bound.member.leave();
          },
        }),
    ...(limits === undefined ? {} : { limits }),
  };
}

/** A joining member joins the store and adopts the fleet's capabilities; any other member starts the service. */
async function startOrAdopt(
  parts: MemberParts,
  running: NameServer,
): Promise<{ rootCapability: string; managementCapability: string }> {
  const { bound, fleet } = parts;
  if (bound !== undefined && fleet?.sponsor !== undefined && fleet.capabilities !== undefined) {
    bound.learn(fleet.sponsor);
    await bound.member.join(fleet.sponsor.member);
    await running.adopt(fleet.capabilities);
    return { rootCapability: '', managementCapability: fleet.capabilities.managementCapability };
  }
  return parts.libfos.run(() => running.start());
}

function requesterPlace(libfos: Libfos): RequesterPlace | undefined {
  const sender = libfos.dispatcher.currentThread?.request?.sender;
  return sender === undefined ? undefined : { machine: sender.machine, core: sender.core };
}

/** What {@link leaveFleetMember} takes: the member that leaves, and the management capability. */
export type LeaveFleetMemberArgs = {
  readonly location: MailboxLocation;
  readonly capability: string;
  readonly managementCapability: string;
};

const leaveArgsSchema = z.object({
  location: mailboxLocationSchema,
  capability: z.string(),
  managementCapability: z.string(),
});

/** What {@link listMember} takes: the member to ask, the management capability, and `under` for `list`. */
export type ListMemberArgs = LeaveFleetMemberArgs & { readonly under?: string };

const listArgsSchema = leaveArgsSchema.extend({ under: z.string().optional() });

/**
 * A one-shot process entry: asks the member at `location` itself (not whichever member of the machine
 * answers `/sys/name`) for its `list`, and returns the `ListResult`: how a booter compares the tables
 * of a fleet's members. Spawned from {@link nameServiceProcessModule}, so it runs on every fabric.
 */
export async function listMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsed = listArgsSchema.safeParse(args);
  if (!parsed.success)
    throw new FosError('BAD_REQUEST', `listMember: bad args: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
      value: args,
    });
  const { location, capability, managementCapability, under } = parsed.data;
  return atMember(context, location, capability, (client) =>
    client.list(
      under === undefined ? { capability: managementCapability } : { capability: managementCapability, under },
    ),
  );
}

/** Runs `ask` with a name-service client bound to one member's request mailbox, then exits the process. */
async function atMember<T>(
  context: ProcessContext,
  location: MailboxLocation,
  capability: string,
  ask: (client: NameServiceApi) => Promise<T>,
): Promise<T> {
  const libfos = await createLibfos(context);
  try {
    return await libfos.run(async (thread) =>
      ask(
        createNameServiceApiClient(
          dispatcherTransport(() => thread, { name: nameServiceName, location, capability: capability as Capability }),
        ),
      ),
    );
  } finally {
    await libfos.close();
    context.exit();
  }
}

/**
 * A one-shot process entry (Table 4.3's `shrinkFleet`, as the booter runs it): asks the member at
 * `location` to leave its fleet (`leaveFleet` with the management capability), then exits. Spawned
 * from {@link nameServiceProcessModule}, so it runs on every fabric, worker threads included.
 */
export async function leaveFleetMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const parsed = leaveArgsSchema.safeParse(args);
  if (!parsed.success)
    throw new FosError('BAD_REQUEST', `leaveFleetMember: bad args: ${parsed.error.issues[0]?.message ?? 'invalid'}`, {
      value: args,
    });
  const { location, capability, managementCapability } = parsed.data;
  await atMember(context, location, capability, (client) => client.leaveFleet({ capability: managementCapability }));
  return null;
}
