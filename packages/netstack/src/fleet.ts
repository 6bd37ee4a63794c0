// The network stack as its starter holds it: netif (the machine's host sockets) and the netstack fleet,
// growFleet and shrinkFleet at run time, and the clean-up of a member that crashed.
import { describeValue, FosError, type MessageBody } from '@fos/base';
import { createLibfos } from '@fos/libfos-messaging';
import {
  isCapability,
  validateCapability,
  type Capability,
  type ProcessContext,
  type ProcessHandle,
  type SpawnOptions,
} from '@fos/microkernel';
import { z } from 'zod';
import { memberAliases, type NetstackMemberArgs, type NetstackMemberResult } from './member.js';
import { netConnectionsLimitMax, netLeaveGraceMsMax, netMembersMax } from './limits.js';
import { netifDomain, netstackFleetName } from './names.js';
import { serveNetif, type NetifArgs, type NetifResult } from './netif.js';
import { netstackProcessModule } from './process-module.js';
import { parseRequest } from './protocol.js';
import type { Wire } from './wire.js';

/** Whatever spawns processes and knows its cores: a `Machine`, or a booted instance's machine. */
export interface NetstackSpawner {
  spawn(options: SpawnOptions): Promise<ProcessHandle>;
  readonly coreCount: number;
}

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

type RunningMember = { readonly name: string; readonly handle: ProcessHandle; leaving: boolean };

/**
 * A running network stack: netif and the members of the netstack fleet, as their starter holds them.
 * A member that exits unexpectedly (a crash) is taken out of the name space with its connections'
 * names; netif resets each of those connections when its next segment finds no member.
 */
export class NetstackFleet {
  readonly #spawner: NetstackSpawner;
  readonly #options: NetstackFleetOptions;
  readonly #module: string | URL;
  readonly #members: RunningMember[] = [];
  readonly #netif: { readonly result: NetifResult; readonly handle: ProcessHandle };
  #nextIndex = 0;
  #changing: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** Members that crashed and were taken out of the name space. */
  crashed = 0;

  private constructor(
    spawner: NetstackSpawner,
    options: NetstackFleetOptions,
    netif: { result: NetifResult; handle: ProcessHandle },
  ) {
    this.#spawner = spawner;
    this.#options = options;
    this.#module = options.processModule ?? netstackProcessModule;
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
      for (let index = 0; index < (parsed.members ?? 1); index++) await fleet.#start();
    } catch (error) {
      for (const member of [...fleet.#members]) member.handle.kill();
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

  /** The running members' names (`/sys/netstack/0`, ...), in the order they started. */
  get members(): string[] {
    return this.#members.filter((member) => !member.leaving).map((member) => member.name);
  }

  /**
   * `growFleet`: starts one more member on the next core; it joins `/sys/netstack`. Returns its name.
   * @throws PERMISSION_DENIED when the capability is not the one the fleet was started with
   * @throws LIMIT_EXCEEDED past {@link netMembersMax} members
   */
  async growFleet(capability: string): Promise<string> {
    this.#authorize(capability);
    return this.#serialized(async () => {
      if (this.members.length >= netMembersMax)
        throw new FosError('LIMIT_EXCEEDED', `growFleet: the fleet has netMembersMax (${netMembersMax}) members`, {
          value: this.members.length,
        });
      return this.#start();
    });
  }

  /**
   * `shrinkFleet`: the member started last leaves: out of `/sys/netstack` at once (new connections go
   * to the others); its connections have `leaveGraceMs` to finish, then those still open are reset
   * (`ECONNABORTED` for their owners) and it exits. Resolves once it has exited. Never below one member.
   * @throws PERMISSION_DENIED when the capability is not the one the fleet was started with
   * @throws BAD_REQUEST when one member is left
   */
  async shrinkFleet(capability: string): Promise<void> {
    this.#authorize(capability);
    return this.#serialized(async () => {
      const running = this.#members.filter((member) => !member.leaving);
      if (running.length <= 1)
        throw new FosError('BAD_REQUEST', 'shrinkFleet: a netstack fleet keeps at least one member', {
          value: running.length,
        });
      const leaving = running[running.length - 1] as RunningMember;
      leaving.leaving = true;
      await this.#spawner.spawn({
        core: leaving.handle.core,
        name: 'netstack-shrink',
        module: this.#module,
        entry: 'netstackLeaveMember',
        args: { member: leaving.name, capability: this.#options.capability },
      });
      await leaving.handle.exited;
      this.#members.splice(this.#members.indexOf(leaving), 1);
    });
  }

  /**
   * The process of a running member: to watch it, or to end it as a crash would.
   * @throws BAD_REQUEST when `member` names no running member
   */
  memberProcess(member: string): ProcessHandle {
    const running = this.#members.find((item) => item.name === member && !item.leaving);
    if (running === undefined)
      throw new FosError('BAD_REQUEST', `${describeValue(member)} is no running member (${this.members.join(', ')})`, {
        value: member,
      });
    return running.handle;
  }

  /** Stops watching the members (their machine is shutting down: their exits are no crashes). */
  stop(): void {
    this.#stopped = true;
  }

  async #start(): Promise<string> {
    const index = this.#nextIndex++;
    const name = `${netstackFleetName}/${this.#options.memberPrefix ?? ''}${index}`;
    const args: NetstackMemberArgs = {
      member: name,
      netif: this.#netif.result.name,
      capability: this.#options.capability,
      ...(this.#options.leaveGraceMs === undefined ? {} : { leaveGraceMs: this.#options.leaveGraceMs }),
      ...(this.#options.registerDelayMs === undefined ? {} : { registerDelayMs: this.#options.registerDelayMs }),
    };
    const handle = await this.#spawner.spawn({
      core: ((this.#options.firstCore ?? 1) + index) % this.#spawner.coreCount,
      name: `netstack-${index}`,
      module: this.#module,
      entry: 'netstackMember',
      args: { ...args },
    });
    const member: RunningMember = { name: (handle.result as NetstackMemberResult).member, handle, leaving: false };
    this.#members.push(member);
    void handle.exited.then(() => this.#exited(member));
    return member.name;
  }

  /** A member ended: a crash unless it was asked to leave; its names and its connections' go. */
  async #exited(member: RunningMember): Promise<void> {
    if (member.leaving || this.#stopped) return;
    this.crashed++;
    this.#members.splice(this.#members.indexOf(member), 1);
    await this.#spawner
      .spawn({
        core: member.handle.core,
        name: 'netstack-forget',
        module: this.#module,
        entry: 'netstackForgetMember',
        args: { member: member.name, capability: this.#options.capability },
      })
      .catch(() => undefined);
  }

  #authorize(capability: string): void {
    if (typeof capability !== 'string')
      throw new FosError('BAD_REQUEST', `the capability ${describeValue(capability)} is not a string`, {
        value: capability,
      });
    if (validateCapability(capability) !== this.#options.capability)
      throw new FosError('PERMISSION_DENIED', 'fleet changes need the capability the fleet was started with', {
        value: 'capability',
      });
  }

  #serialized<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#changing.then(change);
    this.#changing = run.catch(() => undefined);
    return run;
  }
}

const leaveArgsSchema = z.strictObject({
  member: z.string().min(1).max(255),
  capability: z.custom<Capability>((value) => isCapability(value), 'is not a capability'),
});

/** One-shot process entry: asks member `args.member` to leave the fleet (the member side of shrinkFleet). */
export async function netstackLeaveMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { member, capability } = parseRequest('netstackLeaveMember', leaveArgsSchema, args);
  const libfos = await createLibfos(context);
  const answer = (await libfos.call(member, { op: 'leave', capability })).body;
  await libfos.close();
  context.exit();
  return answer;
}

/**
 * One-shot process entry: takes a crashed member's names out of the name space: its destination of
 * `/sys/netstack`, its direct name and its aliases, and with them its connections' names.
 */
export async function netstackForgetMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { member, capability } = parseRequest('netstackForgetMember', leaveArgsSchema, args);
  const libfos = await createLibfos(context);
  const forgotten: string[] = [];
  const quietly = (name: string, change: Promise<void>) =>
    change.then(
      () => void forgotten.push(name),
      () => undefined,
    );
  await quietly(netstackFleetName, libfos.unregisterIndirect(netstackFleetName, member, capability));
  await quietly(member, libfos.unregisterName(member, capability));
  // Its aliases go, and with them the names of the connections it held (the name service removes an
  // indirect name left without destinations).
  for (const alias of memberAliases(member)) await quietly(alias, libfos.unregisterName(alias, capability));
  await libfos.close();
  context.exit();
  return { member, forgotten };
}
