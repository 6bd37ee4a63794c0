import { z } from 'zod';
import { copyBody, FosError, writeErrorLine, type MessageBody } from '@fos/base';
import { hashCapability, mintCapability, type Capability } from './capability.js';
import type { Fabric } from './fabric.js';
import { Kernel, type KernelLog, type KernelStats } from './kernel.js';
import { coresMax, validateKernelLimits, type KernelLimits } from './limits.js';
import { InThreadCoreLink, moduleHref, type CoreLink } from './core-host.js';
import type { EntryFunction, ProcessContext, ProcessExit } from './process.js';

/** How to start a process. */
export interface SpawnOptions {
  /** The core to run on. */
  readonly core: number;
  /** The module that exports the entry function (a path, or a `file:` URL). Portable to every fabric. */
  readonly module?: string | URL;
  /** The exported name of the entry function (default `main`). */
  readonly entry?: string;
  /** A plain function instead of a module: in-thread fabrics only, a test convenience, not portable. */
  readonly function?: EntryFunction;
  /** Arguments, copied like a message body. */
  readonly args?: MessageBody;
  /** A name for logs (default: the entry's name). */
  readonly name?: string;
}

/** A spawned process, as its spawner holds it. */
export interface ProcessHandle {
  readonly process: string;
  readonly name: string;
  readonly core: number;
  /** A copy of what the entry function returned. */
  readonly result: MessageBody;
  /** Resolves when the process ends. */
  readonly exited: Promise<ProcessExit>;
  /** Ends the process (as if it exited). */
  kill(): void;
}

/** What a machine is made of. */
export interface MachineOptions {
  readonly fabric: Fabric;
  /** The machine's name in locations (default `m0`). */
  readonly machine?: string;
  readonly limits?: Partial<KernelLimits>;
  /** Where kernels report crashed processes (default: `console.error`). */
  readonly log?: KernelLog;
}

/** Counters of a whole machine. */
export interface MachineStats extends KernelStats {
  readonly cores: number;
}

const spawnOptionsSchema = z.object({
  core: z.number().int().min(0),
  module: z.union([z.string().min(1), z.instanceof(URL)]).optional(),
  entry: z.string().min(1).max(128).optional(),
  function: z.function().optional(),
  name: z.string().min(1).max(128).optional(),
});

const machineNameSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);

/**
 * One fos machine: a kernel per core over a {@link Fabric}. `start` mints the kernel capability, which
 * the booter hands to the first name server (§5.2).
 */
export class Machine {
  readonly name: string;
  readonly fabric: Fabric;
  /** The capability of `ukAddAlias`, `ukRemoveAlias`, `ukUncheckedSend` and the name-server calls. */
  readonly kernelCapability: Capability;
  private readonly links: CoreLink[];
  private readonly limits: KernelLimits;
  private stopped = false;

  constructor(options: MachineOptions) {
    const name = options.machine ?? 'm0';
    if (!machineNameSchema.safeParse(name).success)
      throw new FosError('BAD_REQUEST', `machine name ${JSON.stringify(name)} is not 1..64 of [A-Za-z0-9_-]`, {
        value: name,
      });
    const cores = options.fabric.coreCount;
    if (!Number.isInteger(cores) || cores < 1 || cores > coresMax)
      throw new FosError('LIMIT_EXCEEDED', `${cores} cores is outside 1..coresMax (${coresMax})`, { value: cores });
    this.name = name;
    this.fabric = options.fabric;
    this.kernelCapability = mintCapability(options.fabric.random);
    const limits = validateKernelLimits(options.limits);
    const log = options.log ?? writeErrorLine;
    const kernelCapabilityHash = hashCapability(this.kernelCapability);
    this.limits = limits;
    const config = { machine: name, limits, kernelCapabilityHash, log };
    this.links =
      options.fabric.startCores?.(config) ??
      Array.from(
        { length: cores },
        (_, core) => new InThreadCoreLink(new Kernel({ ...config, core, fabric: options.fabric })),
      );
  }

  /** Cores of the machine. */
  get coreCount(): number {
    return this.links.length;
  }

  /**
   * Starts a process on a core from a module and an exported entry function (or, on in-thread fabrics,
   * a plain function). Resolves once the entry returned, with a copy of what it returned; rejects with
   * `BAD_REQUEST` for a bad module or entry (or a plain function for a core on a worker) and
   * `UNREACHABLE` when the entry throws (the process crashed, alone).
   */
  async spawn(options: SpawnOptions): Promise<ProcessHandle> {
    const parsed = spawnOptionsSchema.safeParse(options);
    if (!parsed.success)
      throw new FosError(
        'BAD_REQUEST',
        `spawn options are invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
        { value: options },
      );
    const link = this.links[options.core];
    if (link === undefined)
      throw new FosError(
        'BAD_REQUEST',
        `core ${options.core} does not exist (machine ${this.name} has ${this.links.length})`,
        { value: options.core },
      );
    if (this.stopped) throw new FosError('SHUTDOWN', `machine ${this.name} is shut down`, { value: this.name });
    if (options.function !== undefined && !link.inThread) {
      throw new FosError(
        'BAD_REQUEST',
        `core ${options.core} runs on a worker thread: spawn from a module and an entry, not a plain function (not portable)`,
        { value: options.core },
      );
    }
    const args = copyBody(options.args ?? null, this.limits.messageBytesMax);
    const started = await link.spawn({
      ...(options.module === undefined ? {} : { module: moduleHref(options.module) }),
      ...(options.entry === undefined ? {} : { entry: options.entry }),
      ...(options.function === undefined ? {} : { function: options.function }),
      ...(options.name === undefined ? {} : { name: options.name }),
      args,
    });
    return { ...started, core: options.core };
  }

  /** Counters summed over every core. */
  stats(): MachineStats {
    const total = { cores: this.links.length, processes: 0, mailboxes: 0, delivered: 0, refused: 0 };
    for (const link of this.links) {
      const stats = link.stats();
      total.processes += stats.processes;
      total.mailboxes += stats.mailboxes;
      total.delivered += stats.delivered;
      total.refused += stats.refused;
    }
    return total;
  }

  /** Ends every process and closes the fabric (every port and timer). */
  async shutdown(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await Promise.all(this.links.map((link) => link.shutdown()));
    await this.fabric.close();
  }
}

export type { ProcessContext };
