import { z } from 'zod';
import { copyBody, describeValue, FosError, writeErrorLine, type MessageBody } from '@fos/base';
import { hashCheckedCapability, mintCapability, type Capability } from './capability.js';
import type { Fabric } from './fabric.js';
import { Kernel, type KernelLog, type KernelStats } from './kernel.js';
import { coresMax, validateKernelLimits, type KernelLimits } from './limits.js';
import { InThreadCoreLink, moduleHref, type CoreLink } from './core-host.js';
import {
  checkCores,
  checkFunction,
  checkMethods,
  clockMethods,
  parseChecked,
  randomMethods,
  readOptions,
} from './internal/options.js';
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
  name: z.string().min(1).max(128).optional(),
});

const machineNamePattern = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The fabrics a machine was made on: a second machine on one is refused before it draws from the
 * fabric's randomness (the fabric's `connect` refuses it too, but only after the kernel capability
 * was minted).
 */
const fabricsTaken = new WeakSet<Fabric>();

/** What a machine is made of, checked (see the constructor of {@link Machine}). */
function readMachineOptions(options: unknown): {
  name: string;
  fabric: Fabric;
  limits: KernelLimits;
  log: KernelLog;
} {
  const fields = readOptions(options, 'machine options', ['fabric', 'machine', 'limits', 'log']);
  const name = fields.machine ?? 'm0';
  if (typeof name !== 'string' || !machineNamePattern.test(name))
    throw new FosError('BAD_REQUEST', `machine name ${describeValue(name)} is not 1..64 of [A-Za-z0-9_-]`, {
      value: name,
    });
  const fabric = checkMethods<Fabric>(fields.fabric, 'fabric', ['connect', 'close']);
  if (fabricsTaken.has(fabric))
    throw new FosError('BAD_REQUEST', 'the fabric serves another machine already (a fabric serves one Machine)', {
      value: fabric,
    });
  const parts = readOptions(fabric, 'fabric', ['coreCount', 'clock', 'random', 'startCores']);
  checkCores(parts.coreCount, coresMax, 'coresMax');
  checkMethods(parts.clock, 'the fabric clock', clockMethods);
  checkMethods(parts.random, 'the fabric randomness', randomMethods);
  if (parts.startCores !== undefined) checkFunction(parts.startCores, 'the fabric startCores');
  const limits = validateKernelLimits(fields.limits);
  const log = fields.log === undefined ? writeErrorLine : checkFunction<KernelLog>(fields.log, 'log');
  return { name, fabric, limits, log };
}

/** A spawn's options, each field read once and checked; `BAD_REQUEST` names what is wrong. */
function readSpawnOptions(options: unknown): {
  core: number;
  module?: string;
  entry?: string;
  function?: EntryFunction;
  name?: string;
  args: unknown;
} {
  const fields = readOptions(options, 'spawn options', ['core', 'module', 'entry', 'function', 'args', 'name']);
  const parsed = parseChecked(spawnOptionsSchema, fields, 'spawn options');
  const entryFunction =
    fields.function === undefined ? undefined : checkFunction<EntryFunction>(fields.function, 'spawn function');
  let module: string | undefined;
  try {
    module = parsed.module === undefined ? undefined : moduleHref(parsed.module);
  } catch (error) {
    throw new FosError('BAD_REQUEST', `spawn module ${describeValue(parsed.module)} is not a path or URL`, {
      value: parsed.module,
      cause: error,
    });
  }
  return {
    core: parsed.core,
    ...(module === undefined ? {} : { module }),
    ...(parsed.entry === undefined ? {} : { entry: parsed.entry }),
    ...(entryFunction === undefined ? {} : { function: entryFunction }),
    ...(parsed.name === undefined ? {} : { name: parsed.name }),
    args: fields.args,
  };
}

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

  /**
   * `BAD_REQUEST` for options that are not an object, a bad machine name, a `fabric` that is not one
   * (or serves another machine already), bad `limits`, a `log` that is not a function;
   * `LIMIT_EXCEEDED` for a fabric of more than {@link coresMax} cores. Such a refusal starts nothing
   * and draws nothing from the fabric's randomness (`SHUTDOWN` for a closed fabric comes later, from
   * its `connect`).
   */
  constructor(options: MachineOptions) {
    const { name, fabric, limits, log } = readMachineOptions(options);
    this.name = name;
    this.fabric = fabric;
    this.limits = limits;
    fabricsTaken.add(fabric);
    this.kernelCapability = mintCapability(fabric.random);
    const kernelCapabilityHash = hashCheckedCapability(this.kernelCapability);
    const config = { machine: name, limits, kernelCapabilityHash, log };
    this.links =
      fabric.startCores?.(config) ??
      Array.from(
        { length: fabric.coreCount },
        (_, core) => new InThreadCoreLink(new Kernel({ ...config, core, fabric }), fabric.hold?.bind(fabric)),
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
    const spawn = readSpawnOptions(options);
    const link = this.links[spawn.core];
    if (link === undefined)
      throw new FosError(
        'BAD_REQUEST',
        `core ${spawn.core} does not exist (machine ${this.name} has ${this.links.length})`,
        { value: spawn.core },
      );
    if (this.stopped) throw new FosError('SHUTDOWN', `machine ${this.name} is shut down`, { value: this.name });
    if (spawn.function !== undefined && !link.inThread) {
      throw new FosError(
        'BAD_REQUEST',
        `core ${spawn.core} runs on a worker thread: spawn from a module and an entry, not a plain function (not portable)`,
        { value: spawn.core },
      );
    }
    const args = copyBody((spawn.args ?? null) as MessageBody, this.limits.messageBytesMax);
    const started = await link.spawn({
      ...(spawn.module === undefined ? {} : { module: spawn.module }),
      ...(spawn.entry === undefined ? {} : { entry: spawn.entry }),
      ...(spawn.function === undefined ? {} : { function: spawn.function }),
      ...(spawn.name === undefined ? {} : { name: spawn.name }),
      args,
    });
    return { ...started, core: spawn.core };
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
