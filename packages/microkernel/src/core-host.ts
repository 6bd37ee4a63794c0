// What runs processes on one core: resolve the entry, create the process in the core's kernel, run the
// entry with a copy of the args, copy what it returned. The same code serves a core in the spawner's
// thread and a core on a worker thread (worker-host.ts), so a process starts the same way everywhere.
import { pathToFileURL } from 'node:url';
import { copyBody, describeValue, FosError, isFosError, type MessageBody } from '@fos/base';
import { errorText } from './internal/error-text.js';
import type { Kernel, KernelStats } from './kernel.js';
import { createProcessContext, type EntryFunction, type ProcessExit } from './process.js';

/** @internal A process to start, as a core receives it (args already copied by the spawner). */
export interface ProcessSpec {
  /** A `file:` URL of the module (or a path); absent when `function` is given. */
  readonly module?: string;
  readonly entry?: string;
  /** In-thread cores only. */
  readonly function?: EntryFunction;
  readonly args: MessageBody;
  readonly name?: string;
}

/** @internal A started process, as its core reports it. */
export interface StartedProcess {
  readonly process: string;
  readonly name: string;
  readonly result: MessageBody;
  readonly exited: Promise<ProcessExit>;
  kill(): void;
}

/** @internal How a machine drives one of its cores, in its thread or on a worker. */
export interface CoreLink {
  readonly core: number;
  /** Whether the core runs in the machine's thread (plain-function spawns allowed). */
  readonly inThread: boolean;
  spawn(spec: ProcessSpec): Promise<StartedProcess>;
  stats(): KernelStats;
  /** Ends every process of the core and releases it. */
  shutdown(): Promise<void>;
}

/** @internal The module URL a spawn names, as `import()` takes it. */
export function moduleHref(module: string | URL): string {
  if (module instanceof URL) return module.href;
  return module.startsWith('file:') ? module : pathToFileURL(module).href;
}

/**
 * @internal Loads the entry function a spec names. It comes back in a box: a Promise resolved with a
 * function looks up its `then`, which a proxy (or a getter) may answer with a throw.
 */
export async function resolveEntry(
  spec: ProcessSpec,
  hold?: () => () => void,
): Promise<{ readonly entry: EntryFunction }> {
  if (spec.function !== undefined) {
    if (spec.module !== undefined)
      throw new FosError('BAD_REQUEST', 'spawn takes a module or a function, not both', { value: spec.module });
    return { entry: spec.function };
  }
  if (spec.module === undefined)
    throw new FosError('BAD_REQUEST', 'spawn needs a module (and entry) or a function', { value: spec.name ?? null });
  const url = moduleHref(spec.module);
  let loaded: Record<string, unknown>;
  // A load takes event-loop turns (file reads, the loader's own steps) that no fabric sees: a
  // simulation holds still meanwhile, so one seed replays the same run however long the load took.
  const release = hold?.();
  try {
    loaded = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new FosError('BAD_REQUEST', `module ${url} cannot be loaded: ${errorText(error)}`, {
      value: url,
      cause: error,
    });
  } finally {
    release?.();
  }
  const entryName = spec.entry ?? 'main';
  const entry = loaded[entryName];
  if (typeof entry !== 'function')
    throw new FosError('BAD_REQUEST', `module ${url} has no exported function ${describeValue(entryName)}`, {
      value: entryName,
    });
  return { entry: entry as EntryFunction };
}

/** The name of an entry function for logs, `process` when it has none (or it cannot be read). */
function entryName(entry: EntryFunction): string {
  try {
    const name: unknown = entry.name;
    return typeof name === 'string' && name !== '' ? name : 'process';
  } catch {
    return 'process';
  }
}

/**
 * @internal Starts a process on `kernel`: resolves once the entry returned, with a copy of its result;
 * rejects with `BAD_REQUEST` for a bad module or entry and `UNREACHABLE` when the entry throws (the
 * process crashed, alone).
 */
export async function startProcess(
  kernel: Kernel,
  spec: ProcessSpec,
  hold?: () => () => void,
): Promise<StartedProcess> {
  const { entry } = await resolveEntry(spec, hold);
  const record = kernel.createProcess(spec.name ?? entryName(entry));
  const context = createProcessContext(kernel, record);
  let returned: unknown;
  try {
    returned = await entry(context, spec.args);
  } catch (error) {
    kernel.endProcess(record, { crashed: true, error });
    throw new FosError(
      'UNREACHABLE',
      `process ${record.name} (${record.id}) crashed in its entry function: ${errorText(error)}`,
      { value: record.id, cause: error },
    );
  }
  let result: MessageBody;
  try {
    result = copyBody((returned ?? null) as MessageBody, kernel.limits.messageBytesMax);
  } catch (error) {
    kernel.endProcess(record, { crashed: true, error });
    throw isFosError(error)
      ? error
      : new FosError('BAD_REQUEST', `process ${record.name} returned a value that cannot be copied`, {
          value: record.id,
          cause: error,
        });
  }
  return {
    process: record.id,
    name: record.name,
    result,
    exited: context.exited,
    kill: () => kernel.endProcess(record, { crashed: false }),
  };
}

/** @internal A core in the machine's own thread. */
export class InThreadCoreLink implements CoreLink {
  readonly inThread = true;
  readonly core: number;
  readonly #kernel: Kernel;
  readonly #hold: (() => () => void) | undefined;

  /** `hold`: the fabric's `hold` (see `Fabric`), taken while a module loads. */
  constructor(kernel: Kernel, hold?: () => () => void) {
    this.#kernel = kernel;
    this.core = kernel.core;
    this.#hold = hold;
  }

  spawn(spec: ProcessSpec): Promise<StartedProcess> {
    return startProcess(this.#kernel, spec, this.#hold);
  }

  stats(): KernelStats {
    return this.#kernel.stats();
  }

  async shutdown(): Promise<void> {
    this.#kernel.shutdown();
  }
}
