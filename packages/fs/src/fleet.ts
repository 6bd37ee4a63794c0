// The file-system fleet as its starter holds it: the block device server, the members, growFleet and
// shrinkFleet at run time, and the clean-up of a member that crashed.
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
import {
  memoryBlockSource,
  serveBlockDevice,
  type BlockDeviceArgs,
  type BlockDeviceRefusal,
  type BlockDeviceResult,
} from './block-device.js';
import { fsFleetName } from './client.js';
import { fsBlockCacheBlocksMax, fsMembersMax, fsOpenFilesPerMemberMax } from './limits.js';
import type { FsMemberArgs, FsMemberResult } from './member.js';
import { fsProcessModule } from './process-module.js';
import { parseRequest } from './protocol.js';

/** Whatever spawns processes and knows its cores: a `Machine`, or a booted instance's machine. */
export interface FsSpawner {
  spawn(options: SpawnOptions): Promise<ProcessHandle>;
  readonly coreCount: number;
}

/** What {@link FsFleet.start} takes. */
export interface FsFleetOptions {
  /**
   * The tar image: a host path (the block device server opens it read-only; every fabric), or its
   * bytes (served from memory: in-thread fabrics, `local` and `sim`, only).
   */
  readonly image: string | Uint8Array;
  /** Members to start, 1..{@link fsMembersMax} (default 1). */
  readonly members?: number;
  /** A namespace capability that covers `/sys/fs`, `/sys/fs/*` and `/sys/blockdev/*` (the root's, say). */
  readonly capability: Capability;
  /** The block device's id: it serves as `/sys/blockdev/<id>` (default `0`). */
  readonly device?: string;
  /** The core of the block device server (default 0). */
  readonly deviceCore?: number;
  /** Member i runs on core `(firstCore + i) % coreCount` (default 1). */
  readonly firstCore?: number;
  /** Blocks of each member's cache. */
  readonly cacheBlocks?: number;
  /** Open files each member keeps (default `fsOpenFilesPerMemberMax`); past it, it forgets the least recently used. */
  readonly memberOpenFilesMax?: number;
  /**
   * Prefix of the members' names: member i is `/sys/fs/<prefix><i>` (default none). Machines of one
   * instance that each run a fleet under `/sys/fs` need prefixes of their own (`<machine>-`).
   */
  readonly memberPrefix?: string;
  /** The module the processes are spawned from (default {@link fsProcessModule}). */
  readonly processModule?: string | URL;
}

const optionsSchema = z.strictObject({
  image: z.union([z.string().min(1).max(4096), z.instanceof(Uint8Array)]),
  members: z.number().int().min(1).max(fsMembersMax).optional(),
  capability: z.custom<Capability>((value) => isCapability(value), 'is not a capability'),
  device: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1..32 of [A-Za-z0-9_-]')
    .optional(),
  deviceCore: z.number().int().min(0).optional(),
  firstCore: z.number().int().min(0).optional(),
  cacheBlocks: z.number().int().min(1).max(fsBlockCacheBlocksMax).optional(),
  memberOpenFilesMax: z.number().int().min(1).max(fsOpenFilesPerMemberMax).optional(),
  memberPrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{0,32}$/, 'must be 0..32 of [A-Za-z0-9_-]')
    .optional(),
  processModule: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
});

type RunningMember = { readonly name: string; readonly handle: ProcessHandle; leaving: boolean };

/**
 * A running file-system fleet: the block device server and the members, as their starter holds
 * them. A member that exits unexpectedly (a crash) is taken out of the name space by the fleet, so
 * that opens go to the others; the fs component of the clients reopens its files elsewhere.
 */
export class FsFleet {
  readonly #spawner: FsSpawner;
  readonly #options: FsFleetOptions;
  readonly #module: string | URL;
  readonly #members: RunningMember[] = [];
  readonly #device: BlockDeviceResult;
  #nextIndex = 0;
  #changing: Promise<unknown> = Promise.resolve();
  #stopped = false;
  /** Members that crashed and were taken out of the name space. */
  crashed = 0;

  private constructor(spawner: FsSpawner, options: FsFleetOptions, device: BlockDeviceResult) {
    this.#spawner = spawner;
    this.#options = options;
    this.#module = options.processModule ?? fsProcessModule;
    this.#device = device;
  }

  /**
   * Starts the block device server over `options.image` and `options.members` members, each of which
   * indexes the image before it joins `/sys/fs`.
   * @throws BAD_REQUEST for bad options (naming the option), NO_SUCH_NAME when the image file does not exist
   */
  static async start(spawner: FsSpawner, options: FsFleetOptions): Promise<FsFleet> {
    const parsed = parseRequest('FsFleet.start', optionsSchema, options as unknown as MessageBody) as FsFleetOptions;
    const device = `/sys/blockdev/${parsed.device ?? '0'}`;
    const deviceArgs: BlockDeviceArgs = { name: device, capability: parsed.capability };
    const core = (parsed.deviceCore ?? 0) % spawner.coreCount;
    const image = parsed.image;
    const handle =
      typeof image === 'string'
        ? await spawner.spawn({
            core,
            name: 'blockdev',
            module: parsed.processModule ?? fsProcessModule,
            entry: 'blockDeviceServer',
            args: { ...deviceArgs, image },
          })
        : await spawner.spawn({
            core,
            name: 'blockdev',
            function: (context: ProcessContext) => serveBlockDevice(context, deviceArgs, memoryBlockSource(image)),
          });
    const refused = (handle.result as Partial<BlockDeviceRefusal>).refused;
    if (refused !== undefined) throw new FosError(refused.code, refused.message, { value: refused.value });
    const fleet = new FsFleet(spawner, parsed, handle.result as BlockDeviceResult);
    try {
      for (let index = 0; index < (parsed.members ?? 1); index++) await fleet.#start();
    } catch (error) {
      // Nothing of a fleet that did not start stays running (the members' names go as a crash's do).
      for (const member of [...fleet.#members]) member.handle.kill();
      handle.kill();
      throw error;
    }
    return fleet;
  }

  /** The block device server's name and what it holds. */
  get device(): BlockDeviceResult {
    return this.#device;
  }

  /** The running members' names (`/sys/fs/0`, ...), in the order they started. */
  get members(): string[] {
    return this.#members.filter((member) => !member.leaving).map((member) => member.name);
  }

  /**
   * `growFleet`: starts one more member on the next core; it indexes the image and joins `/sys/fs`.
   * Returns its name.
   * @throws PERMISSION_DENIED when the capability is not the one the fleet was started with
   * @throws LIMIT_EXCEEDED past {@link fsMembersMax} members
   */
  async growFleet(capability: string): Promise<string> {
    this.#authorize(capability);
    return this.#serialized(async () => {
      if (this.members.length >= fsMembersMax)
        throw new FosError('LIMIT_EXCEEDED', `growFleet: the fleet has fsMembersMax (${fsMembersMax}) members`, {
          value: this.members.length,
        });
      return this.#start();
    });
  }

  /**
   * `shrinkFleet`: the member started last leaves: out of `/sys/fs` first, then it answers `SHUTDOWN`
   * for a moment and exits. Its open files are reopened at the other members by their clients' fs
   * component, never failed. Never below one member.
   * @throws PERMISSION_DENIED when the capability is not the one the fleet was started with
   * @throws BAD_REQUEST when one member is left
   */
  async shrinkFleet(capability: string): Promise<void> {
    this.#authorize(capability);
    return this.#serialized(async () => {
      const running = this.#members.filter((member) => !member.leaving);
      if (running.length <= 1)
        throw new FosError('BAD_REQUEST', `shrinkFleet: a file-system fleet keeps at least one member`, {
          value: running.length,
        });
      const leaving = running[running.length - 1] as RunningMember;
      leaving.leaving = true;
      await this.#spawner.spawn({
        core: leaving.handle.core,
        name: 'fs-shrink',
        module: this.#module,
        entry: 'fsLeaveMember',
        args: { member: leaving.name, capability: this.#options.capability },
      });
      await leaving.handle.exited;
      this.#members.splice(this.#members.indexOf(leaving), 1);
    });
  }

  /**
   * The process of a running member (`/sys/fs/0`, ...): to watch it, or to end it as a crash would
   * (the fleet then takes it out of the name space and its clients reopen their files elsewhere).
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
    const name = `${fsFleetName}/${this.#options.memberPrefix ?? ''}${index}`;
    const args: FsMemberArgs = {
      member: name,
      fleet: fsFleetName,
      device: this.#device.name,
      capability: this.#options.capability,
      ...(this.#options.cacheBlocks === undefined ? {} : { cacheBlocks: this.#options.cacheBlocks }),
      ...(this.#options.memberOpenFilesMax === undefined ? {} : { openFilesMax: this.#options.memberOpenFilesMax }),
    };
    const handle = await this.#spawner.spawn({
      core: ((this.#options.firstCore ?? 1) + index) % this.#spawner.coreCount,
      name: `fs-${index}`,
      module: this.#module,
      entry: 'fsMember',
      args: { ...args },
    });
    const member: RunningMember = { name: (handle.result as FsMemberResult).member, handle, leaving: false };
    this.#members.push(member);
    void handle.exited.then(() => this.#exited(member));
    return member.name;
  }

  /** A member ended: a crash unless it was asked to leave; its names go so that opens go elsewhere. */
  async #exited(member: RunningMember): Promise<void> {
    if (member.leaving || this.#stopped) return;
    this.crashed++;
    this.#members.splice(this.#members.indexOf(member), 1);
    await this.#spawner
      .spawn({
        core: member.handle.core,
        name: 'fs-forget',
        module: this.#module,
        entry: 'fsForgetMember',
        args: { member: member.name, fleet: fsFleetName, capability: this.#options.capability },
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

/** One-shot process entry: asks member `args.member` to leave its fleet (the member side of shrinkFleet). */
export async function fsLeaveMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { member, capability } = parseRequest('fsLeaveMember', leaveArgsSchema, args);
  const libfos = await createLibfos(context);
  const answer = (await libfos.call(member, { op: 'leave', capability })).body;
  await libfos.close();
  context.exit();
  return answer;
}

const forgetArgsSchema = leaveArgsSchema.extend({ fleet: z.string().min(1).max(255) });

/**
 * One-shot process entry: takes a crashed member's names out of the name space (its destination of
 * `args.fleet`, then its direct name); names already gone are fine.
 */
export async function fsForgetMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  const { member, fleet, capability } = parseRequest('fsForgetMember', forgetArgsSchema, args);
  const libfos = await createLibfos(context);
  const forgotten: string[] = [];
  await libfos.unregisterIndirect(fleet, member, capability).then(
    () => forgotten.push(fleet),
    () => undefined,
  );
  await libfos.unregisterName(member, capability).then(
    () => forgotten.push(member),
    () => undefined,
  );
  await libfos.close();
  context.exit();
  return { member, forgotten };
}
