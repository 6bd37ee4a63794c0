// The name service as the booter runs it (§5.2, Table 4.3): the first member, the fleet members that
// join it over the replicated store, and growFleet / shrinkFleet at run time.
import { assert, describeValue, FosError } from '@fos/base';
import type { ListResult } from '@fos/libfos-messaging';
import { validateCapability, type Capability, type Machine, type MailboxLocation } from '@fos/microkernel';
import {
  nameServiceProcessModule,
  type LeaveFleetMemberArgs,
  type ListMemberArgs,
  type NameServerMemberArgs,
  type NameServerMemberResult,
  type NameServiceLimits,
  type StoreAddress,
} from '@fos/name-service';

/** The core the first name-service member runs on. */
export const nameServerCore = 0;

/** Options of {@link NameServiceFleet.growFleet}. */
export interface GrowFleetOptions {
  /**
   * The machine the new member runs on (default: the first member's). Another machine must reach
   * this one through its proxy: the member joins the replicated store over it.
   */
  readonly machine?: Machine;
}

/** One running member, as the booter knows it. */
type RunningMember = {
  readonly index: number;
  /** The machine it runs on: one-shot processes that talk to it run there (unchecked replies stay on a machine). */
  readonly machine: Machine;
  readonly location: MailboxLocation;
  readonly capability: Capability;
  readonly store: StoreAddress | undefined;
};

/**
 * What a running fleet hands a machine that joins the instance (§7.4): the capabilities its booter
 * holds and a store member to join the replicated store through.
 */
export type FleetInvitation = {
  readonly rootCapability: Capability;
  readonly managementCapability: Capability;
  readonly fleetCapabilities: { readonly managementCapability: string; readonly temporaryCapability: string };
  readonly sponsor: StoreAddress;
};

/** Options of {@link NameServiceFleet.start}. */
export interface FleetStartOptions {
  /** Start the members over the replicated store even when there is one (a machine others may join). */
  readonly fleet?: boolean;
  /** Prefix of the members' names (`ns00`, `ns01`, ... by default): unique per machine of an instance. */
  readonly memberPrefix?: string;
}

/**
 * The running name service of an instance, as the booter holds it: the capabilities `start` returned,
 * the members, and `growFleet` / `shrinkFleet` (Table 4.3) for a fleet over the replicated store.
 */
export class NameServiceFleet {
  readonly #machine: Machine;
  readonly #base: NameServerMemberArgs;
  readonly #members: RunningMember[] = [];
  #fleetCapabilities: NameServerMemberResult['fleetCapabilities'];
  /** The store member to join through when no member of this fleet object has a store (a joined machine). */
  #sponsor: StoreAddress | undefined;
  readonly #memberPrefix: string;
  #nextIndex = 0;
  #changing: Promise<unknown> = Promise.resolve();
  /** The namespace capability of the root `/*`: hand it only to what may name anything. */
  rootCapability: Capability = '' as Capability;
  /** The management capability (Table 4.3). */
  managementCapability: Capability = '' as Capability;

  private constructor(machine: Machine, limits: Partial<NameServiceLimits> | undefined, memberPrefix: string) {
    this.#machine = machine;
    this.#memberPrefix = memberPrefix;
    this.#base =
      limits === undefined
        ? { kernelCapability: machine.kernelCapability }
        : { kernelCapability: machine.kernelCapability, limits };
  }

  /** Starts `members` members (2 or more: a fleet over the replicated store). */
  static async start(
    machine: Machine,
    members: number,
    limits: Partial<NameServiceLimits> | undefined,
    options: FleetStartOptions = {},
  ): Promise<NameServiceFleet> {
    const fleet = new NameServiceFleet(machine, limits, options.memberPrefix ?? '');
    const first = await fleet.#spawn(
      members > 1 || options.fleet === true ? { ...fleet.#base, fleet: { member: fleet.#memberName(0) } } : fleet.#base,
    );
    fleet.rootCapability = first.rootCapability as Capability;
    fleet.managementCapability = first.managementCapability as Capability;
    fleet.#fleetCapabilities = first.fleetCapabilities;
    for (let index = 1; index < members; index++) await fleet.#join();
    return fleet;
  }

  /**
   * Starts `members` members on `machine` that join a fleet running elsewhere in the instance, through
   * the store member and with the capabilities of `invitation` (what {@link invitation} of a machine
   * of the instance returned). The store refuses a member name it holds already: `memberPrefix` must
   * be unique to the machine.
   */
  static async join(
    machine: Machine,
    members: number,
    limits: Partial<NameServiceLimits> | undefined,
    invitation: FleetInvitation,
    memberPrefix: string,
  ): Promise<NameServiceFleet> {
    const fleet = new NameServiceFleet(machine, limits, memberPrefix);
    fleet.rootCapability = invitation.rootCapability;
    fleet.managementCapability = invitation.managementCapability;
    fleet.#fleetCapabilities = invitation.fleetCapabilities;
    fleet.#sponsor = invitation.sponsor;
    for (let index = 0; index < members; index++) await fleet.#join();
    return fleet;
  }

  /**
   * What a machine that joins the instance needs to start members of this fleet ({@link join}).
   * @throws BAD_REQUEST when this is one member over a local store (nothing can join it)
   */
  invitation(): FleetInvitation {
    const sponsor = this.#members.find((member) => member.store !== undefined)?.store;
    if (sponsor === undefined || this.#fleetCapabilities === undefined)
      throw new FosError(
        'BAD_REQUEST',
        `the name service of machine ${this.#machine.name} is one member over a local store: no machine can join it`,
        { value: this.#machine.name },
      );
    return {
      rootCapability: this.rootCapability,
      managementCapability: this.managementCapability,
      fleetCapabilities: this.#fleetCapabilities,
      sponsor,
    };
  }

  /**
   * Every member of this fleet object leaves the fleet, last started first (a machine leaving the
   * instance). A member the store cannot let go (the instance's last) stays; returns the names of
   * those that left and of those that stayed.
   */
  async leaveAll(): Promise<{ left: string[]; stayed: string[] }> {
    const left: string[] = [];
    const stayed: string[] = [];
    await this.#serialized(async () => {
      for (const member of [...this.#members].reverse()) {
        try {
          await this.#leave(member);
          left.push(this.#memberName(member.index));
        } catch {
          stayed.push(this.#memberName(member.index));
        }
      }
    });
    return { left, stayed };
  }

  /** The first member's request mailbox (what `ukNameServiceLookup` finds on its core). */
  get location(): MailboxLocation {
    return (this.#members[0] as RunningMember).location;
  }

  /** Every running member's name in the fleet (`ns00`, ..., or with the machine's prefix), in the order they started. */
  get memberNames(): string[] {
    return this.#members.map((member) => this.#memberName(member.index));
  }

  /** Every running member's request mailbox, in the order they started. */
  get members(): MailboxLocation[] {
    return this.#members.map((member) => member.location);
  }

  /**
   * `growFleet` (Table 4.3): starts one more member on the next core, which joins the replicated store
   * and starts answering Lookups from its replica. Returns its request mailbox.
   * @throws PERMISSION_DENIED when the capability is not the management capability (BAD_REQUEST when it is not a string)
   * @throws BAD_REQUEST when the name service is a single member over a local store (boot with `nameServers` ≥ 2)
   */
  async growFleet(managementCapability: string, options: GrowFleetOptions = {}): Promise<MailboxLocation> {
    this.#authorize(managementCapability);
    const machine = options.machine ?? this.#machine;
    if (this.#fleetCapabilities === undefined)
      throw new FosError(
        'BAD_REQUEST',
        'growFleet: this name service is one member over a local store; boot with nameServers >= 2 for a fleet',
        { value: this.#members.length },
      );
    return this.#serialized(() => this.#join(machine));
  }

  /**
   * `shrinkFleet` (Table 4.3): the member started last leaves the fleet (it stops being a name server
   * and leaves the store); never below one member.
   * @throws PERMISSION_DENIED when the capability is not the management capability (BAD_REQUEST when it is not a string)
   * @throws BAD_REQUEST when only one member is left, or the service is no fleet
   */
  async shrinkFleet(managementCapability: string): Promise<void> {
    this.#authorize(managementCapability);
    if (this.#fleetCapabilities === undefined || this.#members.length <= 1) {
      throw new FosError(
        'BAD_REQUEST',
        `shrinkFleet: a name service keeps at least one member (it has ${this.#members.length})`,
        { value: this.#members.length },
      );
    }
    return this.#serialized(() => this.#leave(this.#members[this.#members.length - 1] as RunningMember));
  }

  async #leave(leaving: RunningMember): Promise<void> {
    // A one-shot process asks the member to leave (a process module: the same on every fabric).
    const args: LeaveFleetMemberArgs = {
      location: leaving.location,
      capability: leaving.capability,
      managementCapability: this.managementCapability,
    };
    await leaving.machine.spawn({
      core: nameServerCore,
      name: 'fleet-shrink',
      module: nameServiceProcessModule,
      entry: 'leaveFleetMember',
      args: { ...args },
    });
    this.#members.splice(this.#members.indexOf(leaving), 1);
  }

  /**
   * The request mailbox of one member (`ns00`, ..., as {@link memberNames} names them) and the
   * capability to call it: to ask that member rather than the one of the caller's core (a Lookup
   * answered by a member on another machine, say). The caller needs a reply name of its own.
   * @throws PERMISSION_DENIED when the capability is not the management capability (BAD_REQUEST when it is not a string)
   * @throws BAD_REQUEST when `member` names no running member
   */
  memberAddress(managementCapability: string, member: string): { location: MailboxLocation; capability: Capability } {
    this.#authorize(managementCapability);
    const running = this.#running(member);
    return { location: running.location, capability: running.capability };
  }

  #running(member: string): RunningMember {
    const running = this.#members.find((item) => this.#memberName(item.index) === member);
    if (running === undefined) {
      const names = this.#members.map((item) => this.#memberName(item.index)).join(', ');
      throw new FosError('BAD_REQUEST', `${describeValue(member)} is no running member (${names})`, {
        value: member,
      });
    }
    return running;
  }

  /**
   * `list` answered by one particular member (`ns00`, `ns01`, ...), not by whichever member serves
   * the caller's core: to compare the replicas of a fleet. Runs a one-shot process on the member's
   * machine that asks the member's own request mailbox.
   * @throws PERMISSION_DENIED when the capability is not the management capability (BAD_REQUEST when it is not a string)
   * @throws BAD_REQUEST when `member` names no running member, or `under` is not a string
   * @throws INVALID_NAME when `under` is not a sub-domain
   */
  async listMember(
    managementCapability: string,
    member: string,
    options: { under?: string } = {},
  ): Promise<ListResult> {
    this.#authorize(managementCapability);
    const running = this.#running(member);
    let under: unknown;
    try {
      under = (options as { under?: unknown } | undefined)?.under;
    } catch {
      under = options;
    }
    if (under !== undefined && typeof under !== 'string')
      throw new FosError('BAD_REQUEST', `listMember: under ${describeValue(under)} is not a string`, { value: under });
    const args: ListMemberArgs = {
      location: running.location,
      capability: running.capability,
      managementCapability: this.managementCapability,
      ...(under === undefined ? {} : { under }),
    };
    const handle = await running.machine.spawn({
      core: nameServerCore,
      name: 'fleet-list',
      module: nameServiceProcessModule,
      entry: 'listMember',
      args: { ...args },
    });
    return handle.result as ListResult;
  }

  async #join(machine: Machine = this.#machine): Promise<MailboxLocation> {
    const sponsor = this.#members.find((member) => member.store !== undefined)?.store ?? this.#sponsor;
    assert(sponsor !== undefined && this.#fleetCapabilities !== undefined, 'a fleet has a member to join through');
    const member = await this.#spawn(
      {
        ...this.#base,
        // A member on another machine edits that machine's aliases: with that machine's kernel capability.
        kernelCapability: machine.kernelCapability,
        fleet: { member: this.#memberName(this.#nextIndex), sponsor, capabilities: this.#fleetCapabilities },
      },
      machine,
    );
    return member.location;
  }

  async #spawn(args: NameServerMemberArgs, machine: Machine = this.#machine): Promise<NameServerMemberResult> {
    const index = this.#nextIndex++;
    const handle = await machine.spawn({
      core: (nameServerCore + index) % machine.coreCount,
      name: `name-server-${index}`,
      module: nameServiceProcessModule,
      entry: 'nameServerMember',
      args: { ...args },
    });
    const result = handle.result as NameServerMemberResult;
    this.#members.push({
      index,
      machine,
      location: result.location,
      capability: result.capability,
      store: result.store,
    });
    return result;
  }

  #memberName(index: number): string {
    return `${this.#memberPrefix}ns${String(index).padStart(2, '0')}`;
  }

  #authorize(managementCapability: string): void {
    if (typeof managementCapability !== 'string')
      throw new FosError(
        'BAD_REQUEST',
        `the management capability ${describeValue(managementCapability)} is not a string`,
        {
          value: managementCapability,
        },
      );
    if (validateCapability(managementCapability) !== this.managementCapability)
      throw new FosError('PERMISSION_DENIED', 'fleet changes need the management capability returned by start', {
        value: 'management capability',
      });
  }

  /** One fleet change at a time. */
  #serialized<T>(change: () => Promise<T>): Promise<T> {
    const run = this.#changing.then(change);
    this.#changing = run.catch(() => undefined);
    return run;
  }
}
