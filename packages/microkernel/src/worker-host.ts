// The host of one core on a worker thread (built to dist/worker-host.js, started by WorkerFabric):
// the core's kernel, talking to the other cores' kernels over one MessagePort per pair of cores, and
// the processes spawned onto the core. The machine drives it over `parentPort` (worker-protocol.ts).
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { CryptoRandom, FosError, isFosError, nextTurn, SystemClock, type Clock, type RandomSource } from '@fos/base';
import { startProcess, type StartedProcess } from './core-host.js';
import { errorText } from './internal/error-text.js';
import type { Fabric, FabricPort, KernelMessage } from './fabric.js';
import { serializeFosError } from './internal/serialized-error.js';
import { DoorbellSpin } from './internal/doorbell-spin.js';
import { LocalDelivery } from './internal/local-delivery.js';
import { workerProtocolVersion, type FromHost, type ToHost, type WorkerHostData } from './internal/worker-protocol.js';
import { Kernel } from './kernel.js';
import { workerTurnMicros } from './worker-fabric.js';

/** The fabric as one worker's kernel sees it: a port to each other core, and a loop back to itself. */
class PeerFabric implements Fabric {
  readonly kind = 'worker';
  readonly coreCount: number;
  readonly clock: Clock = new SystemClock();
  readonly random: RandomSource = new CryptoRandom();
  readonly #peers: ReadonlyArray<MessagePort | null>;
  readonly #doorbells: Int32Array;
  // Messages to this core's own kernel are delivered later in this thread (never inside the post).
  readonly #self = new LocalDelivery<KernelMessage>();
  #closed = false;

  constructor(coreCount: number, peers: ReadonlyArray<MessagePort | null>, doorbells: Int32Array) {
    this.coreCount = coreCount;
    this.#peers = peers;
    this.#doorbells = doorbells;
  }

  connect(core: number, receive: (message: KernelMessage) => void, coreLost?: (core: number) => void): FabricPort {
    this.#peers.forEach((peer, peerCore) => {
      peer?.on('message', receive);
      // The other end closes when that core's thread ends, however it ends.
      peer?.once('close', () => {
        if (!this.#closed) coreLost?.(peerCore);
      });
    });
    return {
      post: (toCore, message) => {
        if (this.#closed) return;
        if (toCore === core) {
          this.#self.post(receive, message);
          return;
        }
        const port = this.#peers[toCore];
        if (port === undefined || port === null)
          throw new RangeError(`core ${toCore} is outside 0..${this.coreCount - 1}`);
        // The encoded body is a standalone buffer no one reads again: move it instead of copying it.
        if (message.kind === 'deliver') port.postMessage(message, [message.bytes.buffer as ArrayBuffer]);
        else port.postMessage(message);
      },
      // Bump the reader core's doorbell; wake it only if it sleeps (it re-checks the bell after saying so).
      ringDoorbell: (toCore) => {
        const bell = 2 * toCore;
        Atomics.add(this.#doorbells, bell, 1);
        if (Atomics.load(this.#doorbells, bell + 1) === 1) Atomics.notify(this.#doorbells, bell);
      },
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#self.close();
    for (const peer of this.#peers) peer?.close();
  }
}

function host(port: NonNullable<typeof parentPort>, data: WorkerHostData): void {
  const post = (message: FromHost): void => port.postMessage(message);
  const log = (line: string): void => post({ kind: 'log', line });
  if (data.protocol !== workerProtocolVersion) {
    throw new Error(
      `worker host speaks protocol ${workerProtocolVersion}, the machine ${data.protocol}: rebuild @fos/microkernel`,
    );
  }
  const doorbells = new Int32Array(data.doorbells);
  const fabric = new PeerFabric(data.coreCount, data.peers, doorbells);
  const kernel = new Kernel({
    machine: data.machine,
    core: data.core,
    fabric,
    limits: data.limits,
    kernelCapabilityHash: data.kernelCapabilityHash,
    log,
    statsCells: new Float64Array(data.stats),
  });
  const processes = new Map<string, StartedProcess>();
  // A stray rejection in one process's code must not end the whole core: report it, and go on.
  process.on('unhandledRejection', (reason) =>
    log(`core ${data.core}: unhandled rejection in a process: ${errorText(reason)}`),
  );

  let stopped = false;
  void ringLoop(kernel, doorbells, 2 * data.core, data.spinMicros, () => stopped);

  port.on('message', (message: ToHost) => {
    switch (message.kind) {
      case 'spawn':
        void spawn(message, kernel, processes, post, data.core);
        return;
      case 'kill':
        processes.get(message.process)?.kill();
        return;
      case 'shutdown':
        stopped = true;
        Atomics.notify(doorbells, 2 * data.core);
        kernel.shutdown();
        void fabric.close().then(() => {
          post({ kind: 'shutDown' });
          port.close();
        });
        return;
    }
  });
  post({ kind: 'ready' });
}

/**
 * Starts the process the machine asked for on this core and answers `spawned` (then `exited` when it
 * ends) or `spawnFailed`; the started process stays in `processes` while it runs, so a `kill` finds it.
 */
async function spawn(
  request: Extract<ToHost, { kind: 'spawn' }>,
  kernel: Kernel,
  processes: Map<string, StartedProcess>,
  post: (message: FromHost) => void,
  core: number,
): Promise<void> {
  try {
    const started = await startProcess(kernel, {
      module: request.module,
      args: request.args,
      ...(request.entry === undefined ? {} : { entry: request.entry }),
      ...(request.name === undefined ? {} : { name: request.name }),
    });
    processes.set(started.process, started);
    post({ kind: 'spawned', id: request.id, process: started.process, name: started.name, result: started.result });
    void started.exited.then((exit) => {
      processes.delete(started.process);
      post({
        kind: 'exited',
        process: exit.process,
        crashed: exit.crashed,
        ...(exit.error === undefined ? {} : { error: errorText(exit.error) }),
      });
    });
  } catch (error) {
    const fosError = isFosError(error)
      ? error
      : new FosError('UNREACHABLE', `spawn on core ${core} failed: ${errorText(error)}`, { value: core });
    post({ kind: 'spawnFailed', id: request.id, error: serializeFosError(fosError) });
  }
}

/** `Atomics.waitAsync` (Node 16+, ES2024; not in this project's TypeScript lib). */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { readonly async: boolean; readonly value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { readonly waitAsync: WaitAsync }).waitAsync;

/** Awaiting it lets the promise jobs queued so far run, and nothing else. */
const promiseJobs = Promise.resolve();

/** The thread's real clock, read by the doorbell loop (fractional milliseconds). */
const threadClock = new SystemClock();

/**
 * The core's doorbell loop: moves ring messages into mailbox queues whenever its doorbell rings; after
 * ring traffic it may spin on the bell for `spinMicrosMax` (an answer that comes back within that
 * costs no wake-up; {@link DoorbellSpin} decides when a spin is worth it), then sleeps in
 * `Atomics.waitAsync` (never a blocking wait: the thread's kernel, timers and processes must go on).
 * An idle core costs no CPU; the thread stays alive through its ports.
 *
 * While busy the loop yields to promise jobs only (`await`), so a process that reacts to a message in
 * its promise jobs (most do) answers without a trip through the event loop; at least every
 * {@link workerTurnMicros} it takes a full turn, so port messages (the kernel path), timers and I/O
 * still get in under a steady stream of ring traffic.
 */
async function ringLoop(
  kernel: Kernel,
  doorbells: Int32Array,
  bell: number,
  spinMicrosMax: number,
  stopped: () => boolean,
): Promise<void> {
  const spin = new DoorbellSpin(spinMicrosMax);
  let lastTurn = threadClock.now();
  // The clock costs more than a load: read it every few rounds and every few spins only.
  for (let rounds = 1; !stopped(); rounds++) {
    const seen = Atomics.load(doorbells, bell);
    if ((rounds & 7) === 0 && threadClock.now() - lastTurn >= workerTurnMicros / 1000) {
      // A full turn: port messages (the kernel path), timers and I/O get in.
      await nextTurn();
      lastTurn = threadClock.now();
    }
    if (kernel.pollChannels() > 0) {
      await promiseJobs;
      continue;
    }
    const spinMicros = spin.next();
    const rang = await spinOnBell(doorbells, bell, seen, spinMicros);
    if (spinMicros > 0) spin.spun(rang);
    if (rang) continue;
    Atomics.store(doorbells, bell + 1, 1);
    if (Atomics.load(doorbells, bell) === seen && !stopped()) await waitAsync(doorbells, bell, seen).value;
    Atomics.store(doorbells, bell + 1, 0);
    lastTurn = threadClock.now();
  }
}

/**
 * Spins until the doorbell moves from `seen` or `spinMicros` have passed (at least a few dozen
 * rounds of promise jobs, so the work the last messages started settles first); answers whether it rang.
 */
async function spinOnBell(doorbells: Int32Array, bell: number, seen: number, spinMicros: number): Promise<boolean> {
  // The spin's end is set at its first clock reading.
  let spinUntil = Number.NaN;
  for (let spins = 1; Atomics.load(doorbells, bell) === seen; spins++) {
    if ((spins & 15) === 0) {
      const now = threadClock.now();
      if (Number.isNaN(spinUntil)) spinUntil = now + spinMicros / 1000;
      else if (now >= spinUntil) return false;
    }
    await promiseJobs;
  }
  return true;
}

if (parentPort !== null) host(parentPort, workerData as WorkerHostData);
