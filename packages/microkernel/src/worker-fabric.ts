import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import {
  CryptoRandom,
  describeValue,
  FosError,
  SystemClock,
  type Clock,
  type RandomSource,
  type Timer,
} from '@fos/base';
import { moduleHref, type CoreLink, type ProcessSpec, type StartedProcess } from './core-host.js';
import type { CoreConfig, Fabric, FabricPort, KernelMessage } from './fabric.js';
import { crashReason, errorText } from './internal/error-text.js';
import { checkCores, readOptions } from './internal/options.js';
import { deserializeFosError } from './internal/serialized-error.js';
import { workerProtocolVersion, type FromHost, type ToHost, type WorkerHostData } from './internal/worker-protocol.js';
import type { KernelStats } from './kernel.js';
import type { ProcessExit } from './process.js';

/** Cores of a worker fabric at most (a worker thread each, and a port between every two). */
export const workerCoresMax = 64;
/** How long shutdown waits for a core's host to end its processes before it stops the thread, in ms. */
export const workerShutdownMsMax = 5_000;
/**
 * How long a worker core spins on its doorbell after ring traffic before it sleeps, in µs: a sleeping
 * core costs tens of µs to wake, a spinning one well under one, and an idle core must cost nothing.
 * A core spins only while spinning pays (see {@link workerSpinSkipsMax}): on a machine whose CPUs
 * are all taken, a spin holds off the very thread it waits for.
 */
export const workerSpinMicros = 50;
/**
 * The most doorbell waits a worker core sleeps through without spinning, after spins that found
 * nothing, before it tries a spin again. The second spin in a row that finds nothing skips the next
 * wait, and each one after doubles the waits skipped (1, 3, 7, ... up to this), so on a machine whose
 * CPUs are all taken a core spends at most one spin in this many waits finding out whether spinning
 * pays again; one spin that finds the doorbell rung brings spinning back at once.
 */
export const workerSpinSkipsMax = 64;
/** The longest spin a worker fabric accepts, in µs. */
export const workerSpinMicrosMax = 10_000;
/**
 * The longest a busy worker core goes without a full event-loop turn, in µs: between turns it yields
 * to promise jobs only (a process answers a ring message without a trip through the event loop), and a
 * turn lets port messages (the kernel path), timers and I/O in.
 */
export const workerTurnMicros = 200;
/** Spawns one core waits on at once, at most; more is `LIMIT_EXCEEDED`. */
export const workerSpawnsInFlightMax = 1_024;

/** Options of {@link WorkerFabric}. */
export interface WorkerFabricOptions {
  readonly cores: number;
  /**
   * The built host script (`dist/worker-host.js` of this package, found beside the running module by
   * default; from the TypeScript sources, as under a test runner, the package's `dist/`).
   */
  readonly hostModule?: string | URL;
  /** How long a core spins on its doorbell after ring traffic before it sleeps, while spinning pays, in µs (default {@link workerSpinMicros}; 0..{@link workerSpinMicrosMax}; 0 never spins). */
  readonly spinMicros?: number;
}

/** The host module `hostModule` names (default: the built host beside this module); `BAD_REQUEST` for a bad one. */
function hostModuleUrl(hostModule: unknown): URL {
  if (hostModule === undefined) return defaultHostModule();
  try {
    if ((typeof hostModule === 'string' && hostModule !== '') || hostModule instanceof URL)
      return new URL(moduleHref(hostModule));
  } catch {
    // Refused below, as any value that names no module.
  }
  throw new FosError('BAD_REQUEST', `hostModule ${describeValue(hostModule)} is neither a path nor a URL`, {
    value: hostModule,
  });
}

function defaultHostModule(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../dist/worker-host.js', here) : new URL('./worker-host.js', here);
}

/**
 * One worker thread per core: each core's kernel runs on its own thread with the
 * processes spawned onto it, so a machine's cores run in parallel. Kernels talk over one
 * `MessagePort` per pair of cores (messages to one core keep their order per sender); user-space
 * channels are `SharedArrayBuffer` rings shared between the threads. Processes are spawned from a
 * module and an exported entry function only (a plain function cannot cross a thread).
 */
export class WorkerFabric implements Fabric {
  readonly kind = 'worker';
  readonly coreCount: number;
  /** The machine's clock as the spawner's thread sees it (each core reads its own system clock). */
  readonly clock: Clock = new SystemClock();
  /** The spawner's randomness (each core draws its own, from the same cryptographic source). */
  readonly random: RandomSource = new CryptoRandom();
  readonly #hostModule: URL;
  readonly #spinMicros: number;
  readonly #links: WorkerCoreLink[] = [];
  #closed = false;

  /**
   * `BAD_REQUEST` for options that are not an object, a `cores` that is not a whole number of at
   * least 1, a `hostModule` that is neither a path nor a URL, a `spinMicros` outside
   * 0..{@link workerSpinMicrosMax}; `LIMIT_EXCEEDED` above {@link workerCoresMax} cores.
   */
  constructor(options: WorkerFabricOptions) {
    const fields = readOptions(options, 'WorkerFabric options', ['cores', 'hostModule', 'spinMicros']);
    this.coreCount = checkCores(fields.cores, workerCoresMax, 'workerCoresMax');
    const spinMicros = fields.spinMicros ?? workerSpinMicros;
    if (!Number.isInteger(spinMicros) || (spinMicros as number) < 0 || (spinMicros as number) > workerSpinMicrosMax) {
      throw new FosError(
        'BAD_REQUEST',
        `spinMicros ${describeValue(spinMicros)} is not an integer in 0..workerSpinMicrosMax (${workerSpinMicrosMax})`,
        { value: spinMicros },
      );
    }
    this.#spinMicros = spinMicros as number;
    this.#hostModule = hostModuleUrl(fields.hostModule);
  }

  /** The kernels of a worker fabric run on its workers: nothing connects in the spawner's thread. */
  connect(core: number, _receive: (message: KernelMessage) => void): FabricPort {
    throw new FosError(
      'BAD_REQUEST',
      `the kernel of core ${describeValue(core)} runs on its worker thread; a worker fabric serves one Machine`,
      { value: core },
    );
  }

  /** @internal Starts a worker per core, with a port between every two. */
  startCores(config: CoreConfig): CoreLink[] {
    if (this.#links.length > 0 || this.#closed)
      throw new FosError('BAD_REQUEST', 'a worker fabric serves one Machine', { value: this.coreCount });
    const peers: Array<Array<MessagePort | null>> = Array.from({ length: this.coreCount }, () =>
      Array.from({ length: this.coreCount }, () => null),
    );
    for (let low = 0; low < this.coreCount; low++) {
      for (let high = low + 1; high < this.coreCount; high++) {
        const channel = new MessageChannel();
        (peers[low] as Array<MessagePort | null>)[high] = channel.port1;
        (peers[high] as Array<MessagePort | null>)[low] = channel.port2;
      }
    }
    const doorbells = new SharedArrayBuffer(2 * this.coreCount * Int32Array.BYTES_PER_ELEMENT);
    for (let core = 0; core < this.coreCount; core++) {
      const ports = peers[core] as Array<MessagePort | null>;
      const stats = new SharedArrayBuffer(4 * Float64Array.BYTES_PER_ELEMENT);
      const data: WorkerHostData = {
        protocol: workerProtocolVersion,
        machine: config.machine,
        core,
        coreCount: this.coreCount,
        limits: config.limits,
        kernelCapabilityHash: config.kernelCapabilityHash,
        peers: ports,
        stats,
        doorbells,
        spinMicros: this.#spinMicros,
      };
      const worker = new Worker(this.#hostModule, {
        workerData: data,
        transferList: ports.filter((port): port is MessagePort => port !== null),
        name: `fos ${config.machine} core ${core}`,
      });
      this.#links.push(new WorkerCoreLink(core, worker, new Float64Array(stats), config.log));
    }
    return [...this.#links];
  }

  /** Stops every worker still running. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#links.map((link) => link.shutdown()));
  }
}

type Waiter = { readonly resolve: (started: StartedProcess) => void; readonly reject: (error: FosError) => void };

/** A core on a worker thread, as the machine drives it. */
class WorkerCoreLink implements CoreLink {
  readonly inThread = false;
  readonly core: number;
  readonly #worker: Worker;
  readonly #stats: Float64Array;
  readonly #log: (line: string) => void;
  readonly #spawns = new Map<number, Waiter>();
  readonly #exits = new Map<string, (exit: ProcessExit) => void>();
  #nextSpawn = 1;
  /** Set once the thread is gone (ended by shutdown, or died): why spawns are refused. */
  #gone: string | undefined;
  #shutdown: Promise<void> | undefined;
  #shutDownAck: (() => void) | undefined;
  readonly #exited: Promise<void>;

  constructor(core: number, worker: Worker, stats: Float64Array, log: (line: string) => void) {
    this.core = core;
    this.#worker = worker;
    this.#stats = stats;
    this.#log = log;
    worker.on('message', (message: FromHost) => this.#onMessage(message));
    worker.on('error', (error) => {
      log(`core ${core}: its worker thread failed: ${crashReason(error)}`);
      this.#lost(`its worker thread failed: ${errorText(error)}`);
    });
    this.#exited = new Promise<void>((resolve) =>
      worker.once('exit', (code) => {
        this.#lost(`its worker thread exited (code ${code})`);
        resolve();
      }),
    );
  }

  spawn(spec: ProcessSpec): Promise<StartedProcess> {
    if (this.#gone !== undefined)
      return Promise.reject(
        new FosError('UNREACHABLE', `core ${this.core} is gone: ${this.#gone}`, { value: this.core }),
      );
    if (spec.module === undefined)
      return Promise.reject(
        new FosError('BAD_REQUEST', `core ${this.core} runs on a worker thread: spawn from a module and an entry`, {
          value: this.core,
        }),
      );
    if (this.#spawns.size >= workerSpawnsInFlightMax) {
      return Promise.reject(
        new FosError(
          'LIMIT_EXCEEDED',
          `core ${this.core} already starts workerSpawnsInFlightMax (${workerSpawnsInFlightMax}) processes`,
          { value: this.#spawns.size },
        ),
      );
    }
    const id = this.#nextSpawn++;
    return new Promise<StartedProcess>((resolve, reject) => {
      this.#spawns.set(id, { resolve, reject });
      this.#post({
        kind: 'spawn',
        id,
        module: spec.module as string,
        args: spec.args,
        ...(spec.entry === undefined ? {} : { entry: spec.entry }),
        ...(spec.name === undefined ? {} : { name: spec.name }),
      });
    });
  }

  stats(): KernelStats {
    const [processes = 0, mailboxes = 0, delivered = 0, refused = 0] = this.#stats;
    return { processes, mailboxes, delivered, refused };
  }

  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  async #stop(): Promise<void> {
    if (this.#gone === undefined) {
      // The host ends its processes (their exits come back first), then acknowledges.
      const acknowledged = new Promise<void>((resolve) => (this.#shutDownAck = resolve));
      this.#post({ kind: 'shutdown' });
      let timer: Timer | undefined;
      const late = new Promise<void>((resolve) => (timer = new SystemClock().setTimer(workerShutdownMsMax, resolve)));
      await Promise.race([acknowledged, late, this.#exited]);
      timer?.cancel();
    }
    await this.#worker.terminate();
    await this.#exited;
  }

  #post(message: ToHost): void {
    this.#worker.postMessage(message);
  }

  #onMessage(message: FromHost): void {
    switch (message.kind) {
      case 'ready':
        return;
      case 'spawned': {
        const waiter = this.#spawns.get(message.id);
        this.#spawns.delete(message.id);
        const exited = new Promise<ProcessExit>((resolve) => this.#exits.set(message.process, resolve));
        waiter?.resolve({
          process: message.process,
          name: message.name,
          result: message.result,
          exited,
          kill: () => this.#kill(message.process),
        });
        return;
      }
      case 'spawnFailed': {
        const waiter = this.#spawns.get(message.id);
        this.#spawns.delete(message.id);
        waiter?.reject(deserializeFosError(message.error));
        return;
      }
      case 'exited':
        this.#exits.get(message.process)?.({
          process: message.process,
          crashed: message.crashed,
          ...(message.error === undefined ? {} : { error: message.error }),
        });
        this.#exits.delete(message.process);
        return;
      case 'log':
        this.#log(message.line);
        return;
      case 'shutDown':
        this.#shutDownAck?.();
        return;
    }
  }

  #kill(process: string): void {
    if (this.#gone === undefined) this.#post({ kind: 'kill', process });
  }

  /** The thread is gone: spawns waiting fail, processes count as ended (crashed, unless shut down). */
  #lost(reason: string): void {
    if (this.#gone !== undefined) return;
    this.#gone = reason;
    for (const waiter of this.#spawns.values())
      waiter.reject(new FosError('UNREACHABLE', `core ${this.core} is gone: ${reason}`, { value: this.core }));
    this.#spawns.clear();
    const crashed = this.#shutdown === undefined;
    for (const [process, resolve] of this.#exits)
      resolve({ process, crashed, ...(crashed ? { error: `core ${this.core}: ${reason}` } : {}) });
    this.#exits.clear();
  }
}
