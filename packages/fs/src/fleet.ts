// The file-system fleet as its starter holds it: the block device server, the members, growFleet and
// shrinkFleet at run time, and the clean-up of a member that crashed.
import { FosError, type MessageBody } from '@fos/base';
import { forgetFleetMember, leaveFleetMember, MemberRoster, type FleetSpawner } from '@fos/libfos-messaging';
import { isCapability, type Capability, type ProcessContext } from '@fos/microkernel';
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
export type FsSpawner = FleetSpawner;

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

/**
 * A running file-system fleet: the block device server and the members (`/sys/fs/0`, ...), as their
 * starter holds them, with `growFleet`, `shrinkFleet`, `members`, `memberProcess`, `crashed` and `stop`
 * of {@link MemberRoster}. A new member indexes the image before it joins `/sys/fs`. A member that
 * leaves goes out of `/sys/fs` first, then answers `SHUTDOWN` for a moment and exits; its open files
 * are reopened at the other members by their clients' fs component, never failed. A member that exits
 * unexpectedly (a crash) is taken out of the name space, so that opens go to the others.
 */
export class FsFleet extends MemberRoster {
  readonly #device: BlockDeviceResult;

  private constructor(spawner: FsSpawner, options: FsFleetOptions, device: BlockDeviceResult) {
    const module = options.processModule ?? fsProcessModule;
    super({
      spawner,
      capability: options.capability,
      fleet: fsFleetName,
      description: 'a file-system fleet',
      processPrefix: 'fs',
      membersMax: fsMembersMax,
      membersMaxName: 'fsMembersMax',
      module,
      leaveEntry: 'fsLeaveMember',
      forgetEntry: 'fsForgetMember',
      startMember: async (index) => {
        const args: FsMemberArgs = {
          member: `${fsFleetName}/${options.memberPrefix ?? ''}${index}`,
          fleet: fsFleetName,
          device: device.name,
          capability: options.capability,
          ...(options.cacheBlocks === undefined ? {} : { cacheBlocks: options.cacheBlocks }),
          ...(options.memberOpenFilesMax === undefined ? {} : { openFilesMax: options.memberOpenFilesMax }),
        };
        const handle = await spawner.spawn({
          core: ((options.firstCore ?? 1) + index) % spawner.coreCount,
          name: `fs-${index}`,
          module,
          entry: 'fsMember',
          args: { ...args },
        });
        return { name: (handle.result as FsMemberResult).member, handle };
      },
    });
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
      await fleet.startMembers(parsed.members ?? 1);
    } catch (error) {
      // Nothing of a fleet that did not start stays running (the members' names go as a crash's do).
      handle.kill();
      throw error;
    }
    return fleet;
  }

  /** The block device server's name and what it holds. */
  get device(): BlockDeviceResult {
    return this.#device;
  }
}

/** One-shot process entry: asks member `args.member` to leave its fleet (the member side of shrinkFleet). */
export function fsLeaveMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  return leaveFleetMember(context, args, 'fsLeaveMember');
}

/**
 * One-shot process entry: takes a crashed member's names out of the name space (its destination of
 * `args.fleet`, then its direct name); names already gone are fine.
 */
export function fsForgetMember(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  return forgetFleetMember(context, args, 'fsForgetMember');
}
