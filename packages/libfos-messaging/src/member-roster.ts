// The members of a service fleet as their starter holds them: growFleet and shrinkFleet at run time
// (authorized by the fleet's capability, one change at a time), and the clean-up of a member that
// crashed. The file-system and network fleets both keep theirs in a MemberRoster; the member side of
// leaving and forgetting is the pair of one-shot process entries below.
import { describeValue, FosError, type MessageBody } from '@fos/base';
import { parseRequest } from '@fos/dispatcher';
import {
  isCapability,
  validateCapability,
  type Capability,
  type ProcessContext,
  type ProcessHandle,
  type SpawnOptions,
} from '@fos/microkernel';
import { z } from 'zod';
import { createLibfos } from './create.js';

/** Whatever spawns processes and knows its cores: a `Machine`, or a booted instance's machine. */
export interface FleetSpawner {
  spawn(options: SpawnOptions): Promise<ProcessHandle>;
  readonly coreCount: number;
}

/** What a {@link MemberRoster} takes. */
export interface MemberRosterOptions {
  readonly spawner: FleetSpawner;
  /** The capability the fleet was started with: fleet changes must present it. */
  readonly capability: Capability;
  /** The fleet's indirect name (`/sys/fs`): a crashed member is taken out of it. */
  readonly fleet: string;
  /** What the fleet is called in errors (`a file-system fleet`). */
  readonly description: string;
  /** Prefix of the helper processes' names (`fs` → `fs-shrink`, `fs-forget`). */
  readonly processPrefix: string;
  /** Most members; past it `growFleet` is `LIMIT_EXCEEDED`. */
  readonly membersMax: number;
  /** The limit's name, for the error (`fsMembersMax`). */
  readonly membersMaxName: string;
  /** The module the helper processes are spawned from. */
  readonly module: string | URL;
  /** Its entry that asks a member to leave ({@link leaveFleetMember} under the module's own name). */
  readonly leaveEntry: string;
  /** Its entry that takes a crashed member's names out ({@link forgetFleetMember}, say). */
  readonly forgetEntry: string;
  /** Starts member number `index` (0, 1, ...) and answers its name and process. */
  readonly startMember: (index: number) => Promise<{ readonly name: string; readonly handle: ProcessHandle }>;
}

type RunningMember = { readonly name: string; readonly handle: ProcessHandle; leaving: boolean };

/**
 * The running members of a fleet. Members join in the order they start and leave last-in first-out.
 * A member that exits without being asked to (a crash) is counted in {@link crashed} and a helper
 * process takes its names out of the name space, so that new work goes to the others.
 */
export class MemberRoster {
  readonly #options: MemberRosterOptions;
  readonly #members: RunningMember[] = [];
  #nextIndex = 0;
  #changing: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #crashed = 0;

  constructor(options: MemberRosterOptions) {
    this.#options = options;
  }

  /** Members that crashed and were taken out of the name space. */
  get crashed(): number {
    return this.#crashed;
  }

  /** The running members' names, in the order they started (those leaving are no longer listed). */
  get members(): string[] {
    return this.#members.filter((member) => !member.leaving).map((member) => member.name);
  }

  /**
   * Starts the fleet's first `count` members; when one fails, every member started is killed and the
   * error is thrown.
   */
  async startMembers(count: number): Promise<void> {
    try {
      for (let index = 0; index < count; index++) await this.#start();
    } catch (error) {
      for (const member of [...this.#members]) member.handle.kill();
      throw error;
    }
  }

  /**
   * `growFleet`: starts one more member. Returns its name.
   * @throws PERMISSION_DENIED when the capability is not the one the fleet was started with
   * @throws LIMIT_EXCEEDED past `membersMax` members
   */
  async growFleet(capability: string): Promise<string> {
    this.#authorize(capability);
    return this.#serialized(async () => {
      const { membersMax, membersMaxName } = this.#options;
      if (this.members.length >= membersMax)
        throw new FosError('LIMIT_EXCEEDED', `growFleet: the fleet has ${membersMaxName} (${membersMax}) members`, {
          value: this.members.length,
        });
      return this.#start();
    });
  }

  /**
   * `shrinkFleet`: the member started last is asked to leave (through the leave entry, run on its
   * core); resolves once it has exited. Never below one member.
   * @throws PERMISSION_DENIED when the capability is not the one the fleet was started with
   * @throws BAD_REQUEST when one member is left
   */
  async shrinkFleet(capability: string): Promise<void> {
    this.#authorize(capability);
    return this.#serialized(async () => {
      const running = this.#members.filter((member) => !member.leaving);
      if (running.length <= 1)
        throw new FosError('BAD_REQUEST', `shrinkFleet: ${this.#options.description} keeps at least one member`, {
          value: running.length,
        });
      const leaving = running[running.length - 1] as RunningMember;
      leaving.leaving = true;
      await this.#options.spawner.spawn({
        core: leaving.handle.core,
        name: `${this.#options.processPrefix}-shrink`,
        module: this.#options.module,
        entry: this.#options.leaveEntry,
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
    const started = await this.#options.startMember(this.#nextIndex++);
    const member: RunningMember = { name: started.name, handle: started.handle, leaving: false };
    this.#members.push(member);
    void member.handle.exited.then(() => this.#exited(member));
    return member.name;
  }

  async #exited(member: RunningMember): Promise<void> {
    if (member.leaving || this.#stopped) return;
    this.#crashed++;
    this.#members.splice(this.#members.indexOf(member), 1);
    await this.#options.spawner
      .spawn({
        core: member.handle.core,
        name: `${this.#options.processPrefix}-forget`,
        module: this.#options.module,
        entry: this.#options.forgetEntry,
        args: { member: member.name, fleet: this.#options.fleet, capability: this.#options.capability },
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

const capabilitySchema = z.custom<Capability>((value) => isCapability(value), 'is not a capability');
const leaveArgsSchema = z.strictObject({ member: z.string().min(1).max(255), capability: capabilitySchema });
const forgetArgsSchema = leaveArgsSchema.extend({ fleet: z.string().min(1).max(255) });

/**
 * The body of a one-shot process entry that asks member `args.member` to leave its fleet (the member
 * side of `shrinkFleet`): it sends the member `{ op: 'leave', capability }` and answers the reply.
 * `entry` names the entry in errors.
 * @throws BAD_REQUEST for bad arguments, naming the field
 */
export async function leaveFleetMember(
  context: ProcessContext,
  args: MessageBody,
  entry: string,
): Promise<MessageBody> {
  const { member, capability } = parseRequest(entry, leaveArgsSchema, args);
  const libfos = await createLibfos(context);
  const answer = (await libfos.call(member, { op: 'leave', capability })).body;
  await libfos.close();
  context.exit();
  return answer;
}

/**
 * The body of a one-shot process entry that takes a crashed member's names out of the name space: its
 * destination of `args.fleet`, its direct name, then each of `extraNames` (names already gone are
 * fine). Answers `{ member, forgotten }`, the names it removed.
 * @throws BAD_REQUEST for bad arguments, naming the field
 */
export async function forgetFleetMember(
  context: ProcessContext,
  args: MessageBody,
  entry: string,
  extraNames: (member: string) => readonly string[] = () => [],
): Promise<MessageBody> {
  const { member, fleet, capability } = parseRequest(entry, forgetArgsSchema, args);
  const libfos = await createLibfos(context);
  const forgotten: string[] = [];
  const quietly = (name: string, change: Promise<void>) =>
    change.then(
      () => void forgotten.push(name),
      () => undefined,
    );
  await quietly(fleet, libfos.unregisterIndirect(fleet, member, capability));
  await quietly(member, libfos.unregisterName(member, capability));
  for (const name of extraNames(member)) await quietly(name, libfos.unregisterName(name, capability));
  await libfos.close();
  context.exit();
  return { member, forgotten };
}
