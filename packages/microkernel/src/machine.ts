import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { hashCapability, mintCapability, type Capability } from './capability.js';
import { copyBody, type MessageBody } from './codec.js';
import { FosError, isFosError } from './errors.js';
import type { Fabric } from './fabric.js';
import { Kernel, type KernelLog, type KernelStats } from './kernel.js';
import { coresMax, validateKernelLimits, type KernelLimits } from './limits.js';
import { createProcessContext, type EntryFunction, type ProcessContext, type ProcessExit } from './process.js';

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
  private readonly kernels: Kernel[];
  private stopped = false;

  constructor(options: MachineOptions) {
    const name = options.machine ?? 'm0';
    if (!machineNameSchema.safeParse(name).success) throw new FosError('BAD_REQUEST', `machine name ${JSON.stringify(name)} is not 1..64 of [A-Za-z0-9_-]`, { value: name });
    const cores = options.fabric.coreCount;
    if (!Number.isInteger(cores) || cores < 1 || cores > coresMax) throw new FosError('LIMIT_EXCEEDED', `${cores} cores is outside 1..coresMax (${coresMax})`, { value: cores });
    this.name = name;
    this.fabric = options.fabric;
    this.kernelCapability = mintCapability(options.fabric.random);
    const limits = validateKernelLimits(options.limits);
    const log = options.log ?? ((line: string) => console.error(line));
    const kernelCapabilityHash = hashCapability(this.kernelCapability);
    this.kernels = Array.from({ length: cores }, (_, core) => new Kernel({ machine: name, core, fabric: options.fabric, limits, kernelCapabilityHash, log }));
  }

  /** Cores of the machine. */
  get coreCount(): number {
    return this.kernels.length;
  }

  /**
   * Starts a process on a core from a module and an exported entry function (or, on in-thread fabrics,
   * a plain function). Resolves once the entry returned, with a copy of what it returned; rejects with
   * `BAD_REQUEST` for a bad module or entry and `UNREACHABLE` when the entry throws (the process
   * crashed, alone).
   */
  async spawn(options: SpawnOptions): Promise<ProcessHandle> {
    const parsed = spawnOptionsSchema.safeParse(options);
    if (!parsed.success) throw new FosError('BAD_REQUEST', `spawn options are invalid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, { value: options });
    const kernel = this.kernels[options.core];
    if (kernel === undefined) throw new FosError('BAD_REQUEST', `core ${options.core} does not exist (machine ${this.name} has ${this.kernels.length})`, { value: options.core });
    if (this.stopped) throw new FosError('SHUTDOWN', `machine ${this.name} is shut down`, { value: this.name });
    const entry = await resolveEntry(options);
    const args = copyBody(options.args ?? null, kernel.limits.messageBytesMax);
    const record = kernel.createProcess(options.name ?? entry.name ?? 'process');
    const context = createProcessContext(kernel, record);
    let returned: unknown;
    try {
      returned = await entry(context, args);
    } catch (error) {
      kernel.endProcess(record, { crashed: true, error });
      throw new FosError('UNREACHABLE', `process ${record.name} (${record.id}) crashed in its entry function: ${errorText(error)}`, { value: record.id, cause: error });
    }
    let result: MessageBody;
    try {
      result = copyBody((returned ?? null) as MessageBody, kernel.limits.messageBytesMax);
    } catch (error) {
      kernel.endProcess(record, { crashed: true, error });
      throw isFosError(error) ? error : new FosError('BAD_REQUEST', `process ${record.name} returned a value that cannot be copied`, { value: record.id, cause: error });
    }
    return { process: record.id, name: record.name, core: options.core, result, exited: context.exited, kill: () => kernel.endProcess(record, { crashed: false }) };
  }

  /** Counters summed over every core. */
  stats(): MachineStats {
    const total = { cores: this.kernels.length, processes: 0, mailboxes: 0, delivered: 0, refused: 0 };
    for (const kernel of this.kernels) {
      const stats = kernel.stats();
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
    for (const kernel of this.kernels) kernel.shutdown();
    await this.fabric.close();
  }
}

async function resolveEntry(options: SpawnOptions): Promise<EntryFunction> {
  if (options.function !== undefined) {
    if (options.module !== undefined) throw new FosError('BAD_REQUEST', 'spawn takes a module or a function, not both', { value: options.module });
    return options.function;
  }
  if (options.module === undefined) throw new FosError('BAD_REQUEST', 'spawn needs a module (and entry) or a function', { value: options });
  const url = options.module instanceof URL ? options.module.href : options.module.startsWith('file:') ? options.module : pathToFileURL(options.module).href;
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new FosError('BAD_REQUEST', `module ${url} cannot be loaded: ${errorText(error)}`, { value: url, cause: error });
  }
  const entryName = options.entry ?? 'main';
  const entry = loaded[entryName];
  if (typeof entry !== 'function') throw new FosError('BAD_REQUEST', `module ${url} has no exported function ${JSON.stringify(entryName)}`, { value: entryName });
  return entry as EntryFunction;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export type { ProcessContext };
