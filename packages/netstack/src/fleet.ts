// The network stack as its starter holds it: netif (the machine's host sockets) and the netstack fleet,
// growFleet and shrinkFleet at run time, and the clean-up of a member that crashed.
import type { MessageBody } from '@fos/base';
import { forgetFleetMember, leaveFleetMember, MemberRoster, type FleetSpawner } from '@fos/libfos-messaging';
import { isCapability, type Capability, type ProcessContext, type ProcessHandle } from '@fos/microkernel';
import { z } from 'zod';
import { memberAliases, type NetstackMemberArgs, type NetstackMemberResult } from './member.js';
import { netConnectionsLimitMax, netLeaveGraceMsMax, netMembersMax } from './limits.js';
import { netifDomain, netstackFleetName } from './names.js';
import { serveNetif, type NetifArgs, type NetifResult } from './netif.js';
import { netstackProcessModule } from './process-module.js';
import { parseRequest } from './protocol.js';
import type { Wire } from './wire.js';

/** Whatever spawns processes and knows its cores: a `Machine`, or a booted instance's machine. */
export type NetstackSpawner = FleetSpawner;

/** What {@link NetstackFleet.start} takes. */
export interface NetstackFleetOptions {
  /** A namespace capability that covers `/sys/netif/*`, `/sys/netstack` and everything under it (the root's, say). */
  readonly capability: Capability;
  /** Members to start, 1..{@link netMembersMax} (default 1). */
  readonly members?: number;
  /** netif's id: it serves as `/sys/netif/<id>` (default `0`; a machine of an instance uses its name). */
  readonly netif?: string;
  /**
   * The wire netif uses: default the host's TCP (`node:net`, every fabric). Another wire (a simulated
   * one) runs netif in this thread: in-thread fabrics, `local` and `sim`, only.
   */
  readonly wire?: Wire;
  /** Connections netif holds at once (default `netConnectionsMax`). */
  readonly connectionsMax?: number;
  /** How long a leaving member lets its connections finish (default `netLeaveGraceMsDefault`). */
  readonly leaveGraceMs?: number;
  /** netif's core (default 0). */
  readonly netifCore?: number;
  /** Member i runs on core `(firstCore + i) % coreCount` (default 1). */
  readonly firstCore?: number;
  /** Prefix of the members' names: member i is `/sys/netstack/<prefix><i>` (default none). */
  readonly memberPrefix?: string;
  /** Keep netif's log lines out of stderr (they stay in its `info`). */
  readonly quiet?: boolean;
  /** Tests: each member waits this long before it registers a connection's name. */
  readonly registerDelayMs?: number;
  /** The module the processes are spawned from (default {@link netstackProcessModule}). */
  readonly processModule?: string | URL;
}

const idSchema = z.string().regex(/^[A-Za-z0-9_-]{0,32}$/, 'must be 0..32 of [A-Za-z0-9_-]');

const optionsSchema = z.strictObject({
  capability: z.custom<Capability>((value) => isCapability(value), 'is not a capability'),
  members: z.number().int().min(1).max(netMembersMax).optional(),
  netif: idSchema.min(1).optional(),
  wire: z
    .custom<Wire>(
      (value) =>
        typeof value === 'object' &&
        value !== null &&
        typeof (value as Wire).listen === 'function' &&
        typeof (value as Wire).connect === 'function',
      'is not a Wire',
    )
    .optional(),
  connectionsMax: z.number().int().min(1).max(netConnectionsLimitMax).optional(),
  leaveGraceMs: z.number().int().min(0).max(netLeaveGraceMsMax).optional(),
  netifCore: z.number().int().min(0).optional(),
  firstCore: z.number().int().min(0).optional(),
  memberPrefix: idSchema.optional(),
  quiet: z.boolean().optional(),
  registerDelayMs: z.number().int().min(0).max(60_000).optional(),
  processModule: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
});

/**
 * A running network stack: netif and the members of the netstack fleet (`/sys/netstack/0`, ...), as
 * their starter holds them, with `growFleet`, `shrinkFleet`, `members`, `memberProcess`, `crashed` and
 * `stop` of {@link MemberRoster}. A member that leaves (`shrinkFleet`) goes out of `/sys/netstack` at
 * once, so new connections go to the others; its connections have `leaveGraceMs` to finish, then those
 * still open are reset (`ECONNABORTED` for their owners). A member that exits unexpectedly (a crash) is
 * taken out of the name space with its connections' names; netif resets each of those connections
 * when its next segment finds no member.
 */
export class NetstackFleet extends MemberRoster {
  readonly #netif: { readonly result: NetifResult; readonly handle: ProcessHandle };

  private constructor(
    spawner: NetstackSpawner,
    options: NetstackFleetOptions,
    netif: { result: NetifResult; handle: ProcessHandle },
  ) {
    const module = options.processModule ?? netstackProcessModule;
    super({
      spawner,
      capability: options.capability,
      fleet: netstackFleetName,
      description: 'a netstack fleet',
      processPrefix: 'netstack',
      membersMax: netMembersMax,
      membersMaxName: 'netMembersMax',
      module,
      leaveEntry: 'netstackLeaveMember',
      forgetEntry: 'netstackForgetMember',
      startMember: async (index) => {
        const args: NetstackMemberArgs = {
          member: `${netstackFleetName}/${options.memberPrefix ?? ''}${index}`,
          netif: netif.result.name,
          capability: options.capability,
          ...(options.leaveGraceMs === undefined ? {} : { leaveGraceMs: options.leaveGraceMs }),
          ...(options.registerDelayMs === undefined ? {} : { registerDelayMs: options.registerDelayMs }),
        };
        const handle = await spawner.spawn({
          core: ((options.firstCore ?? 1) + index) % spawner.coreCount,
          name: `netstack-${index}`,
          module,
          entry: 'netstackMember',
          args: { ...args },
        });
        return { name: (handle.result as NetstackMemberResult).member, handle };
      },
    });
    this.#netif = netif;
  }

  /**
   * Starts netif and `options.members` members.
   * @throws BAD_REQUEST for bad options, naming the option
   */
  static async start(spawner: NetstackSpawner, options: NetstackFleetOptions): Promise<NetstackFleet> {
    const parsed = parseRequest(
      'NetstackFleet.start',
      optionsSchema,
      options as unknown as MessageBody,
    ) as NetstackFleetOptions;
    const netifArgs: NetifArgs = {
      name: `${netifDomain}/${parsed.netif ?? '0'}`,
      capability: parsed.capability,
      ...(parsed.connectionsMax === undefined ? {} : { connectionsMax: parsed.connectionsMax }),
      ...(parsed.quiet === undefined ? {} : { quiet: parsed.quiet }),
    };
    const core = (parsed.netifCore ?? 0) % spawner.coreCount;
    const wire = parsed.wire;
    const handle =
      wire === undefined
        ? await spawner.spawn({
            core,
            name: 'netif',
            module: parsed.processModule ?? netstackProcessModule,
            entry: 'netif',
            args: { ...netifArgs },
          })
        : await spawner.spawn({
            core,
            name: 'netif',
            function: (context: ProcessContext) => serveNetif(context, { ...netifArgs }, wire),
          });
    const fleet = new NetstackFleet(spawner, parsed, { result: handle.result as NetifResult, handle });
    try {
      await fleet.startMembers(parsed.members ?? 1);
    } catch (error) {
      handle.kill();
      throw error;
    }
    return fleet;
  }

  /** netif's name (`/sys/netif/<id>`). */
  get netif(): string {
    return this.#netif.result.name;
  }

  /** netif's process. */
  get netifProcess(): ProcessHandle {
    return this.#netif.handle;
  }
}

/** One-shot process entry: asks member `args.member` to leave the fleet (the member side of shrinkFleet). */
export function netstackLeaveMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  return leaveFleetMember(context, args, 'netstackLeaveMember');
}

/**
 * One-shot process entry: takes a crashed member's names out of the name space: its destination of
 * `/sys/netstack`, its direct name and its aliases, and with them its connections' names (the name
 * service removes an indirect name left without destinations).
 */
export function netstackForgetMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  return forgetFleetMember(context, args, 'netstackForgetMember', memberAliases);
}
