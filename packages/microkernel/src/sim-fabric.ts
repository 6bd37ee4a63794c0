import { describeValue, FosError, nextTurn, type Clock, type Timer } from '@fos/base';
import { SeededRandom, SimNetwork, VirtualClock } from '@fos/sim';
import type { Fabric, FabricPort, KernelMessage } from './fabric.js';
import { checkConnect, checkCores, readOptions } from './internal/options.js';
import { coresMax } from './limits.js';

/** Deliveries and timer firings one drive of the simulation may take before it is declared stuck. */
export const simStepsMax = 10_000_000;

/** Options of {@link SimFabric}. */
export interface SimFabricOptions {
  /** Cores of the machine, 1..{@link coresMax}. */
  readonly cores: number;
  /** The seed of every choice the simulation makes (a safe integer). */
  readonly seed: number;
  /** Default {@link simStepsMax} (a whole number of at least 1). */
  readonly stepsMax?: number;
}

function describeMessage(message: KernelMessage): string {
  switch (message.kind) {
    case 'deliver':
      return `deliver#${message.requestId} ${message.sender.process}→${message.location.core}/${message.location.mailbox} seq=${message.sequence} ${message.bytes.length}B`;
    case 'forward':
      return `forward#${message.requestId} ${message.sender.process}→${message.location.machine}/${message.location.core}/${message.location.mailbox} seq=${message.sequence} ${message.bytes.length}B`;
    case 'result':
      return `result#${message.requestId}${message.error ? ` ${message.error.code}` : ''}`;
    default:
      return message.kind;
  }
}

/** A whole number of at least 1; `BAD_REQUEST` naming `what` otherwise. */
function checkCount(value: unknown, what: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1)
    throw new FosError('BAD_REQUEST', `${what} ${describeValue(value)} is not a whole number of at least 1`, { value });
  return value as number;
}

/** Options of {@link SimWorld}. */
export interface SimWorldOptions {
  /** The seed of every choice the simulation makes (a safe integer). */
  readonly seed: number;
  /** Default {@link simStepsMax} (a whole number of at least 1). */
  readonly stepsMax?: number;
}

/** What a {@link SimWorld}'s network carries: kernel messages, and whatever its other endpoints exchange. */
export type SimWorldMessage = KernelMessage | { readonly kind: 'bytes'; readonly bytes: Uint8Array };

function describeWorldMessage(message: SimWorldMessage): string {
  return message.kind === 'bytes' ? `bytes ${message.bytes.length}B` : describeMessage(message);
}

function checkSeed(seed: unknown): number {
  if (!Number.isSafeInteger(seed))
    throw new FosError('BAD_REQUEST', `seed ${describeValue(seed)} is not a safe integer`, { value: seed });
  return seed as number;
}

/**
 * One simulated world: a seeded network, a virtual clock and one driver, shared by every machine
 * made in it ({@link SimWorld.fabric}) and by the links between them (a proxy's byte streams are
 * endpoints of the same network). One seed replays the whole multi-machine run exactly: the driver
 * delivers the head of one stream, picked by the seeded PRNG, at each step, whichever machine it
 * belongs to, and moves the clock only when nothing can be delivered.
 */
export class SimWorld {
  readonly random: SeededRandom;
  readonly virtualClock: VirtualClock;
  readonly network: SimNetwork<SimWorldMessage>;
  /** The world's clock: the virtual clock, waking the driver when a timer is set. */
  readonly clock: Clock;
  private readonly stepsMax: number;
  private readonly machines = new Set<string>();
  private driving = false;
  private closed = false;
  private failure: Error | undefined;
  /** Holds taken by {@link SimWorld.hold} and not released yet: the driver waits while any is. */
  private holds = 0;
  private readonly quietWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  /** `BAD_REQUEST` for a `seed` that is not a safe integer or a `stepsMax` that is not a whole number of at least 1. */
  constructor(options: SimWorldOptions) {
    const fields = readOptions(options, 'SimWorld options', ['seed', 'stepsMax']);
    this.stepsMax = fields.stepsMax === undefined ? simStepsMax : checkCount(fields.stepsMax, 'stepsMax');
    this.random = new SeededRandom(checkSeed(fields.seed));
    this.virtualClock = new VirtualClock();
    this.network = new SimNetwork<SimWorldMessage>({
      random: this.random.fork('network'),
      clock: this.virtualClock,
      describe: describeWorldMessage,
    });
    const virtualClock = this.virtualClock;
    this.clock = {
      now: () => virtualClock.now(),
      setTimer: (delayMs: number, callback: () => void): Timer => {
        const timer = virtualClock.setTimer(delayMs, callback);
        this.kick();
        return timer;
      },
    };
  }

  /**
   * A machine's fabric in this world: `cores` cores whose endpoints are named `<machine>/core<n>`,
   * its randomness forked from the world's by the machine's name. `BAD_REQUEST` for a name used twice.
   */
  fabric(options: { readonly cores: number; readonly machine: string }): SimFabric {
    const fields = readOptions(options, 'SimWorld.fabric options', ['cores', 'machine']);
    const machine = fields.machine;
    if (typeof machine !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(machine) || this.machines.has(machine))
      throw new FosError(
        'BAD_REQUEST',
        `machine ${describeValue(machine)} is not a new name of 1..64 of [A-Za-z0-9_-]`,
        {
          value: machine,
        },
      );
    this.machines.add(machine);
    return new SimFabric({ cores: fields.cores as number, world: this, machine });
  }

  /** Adds an endpoint of the network (a link's end, say); what reaches it is delivered by the driver. */
  addEndpoint(id: string, deliver: (from: string, message: SimWorldMessage) => void): void {
    this.network.addEndpoint(id, deliver);
  }

  /** Sends through the network (FIFO per stream) and wakes the driver. Dropped once the world is closed. */
  send(from: string, to: string, message: SimWorldMessage, streamKey?: string): void {
    if (this.closed) return;
    this.network.send(from, to, message, streamKey);
    this.kick();
  }

  /**
   * Stops the run where it is (no delivery, no timer) until the returned release is called (once is
   * enough; more calls do nothing). A machine holds the run while a process's module loads: a load
   * takes a number of event-loop turns no seed decides, and the driver delivers one message per turn,
   * so without the hold the load would end at a different step on every run.
   */
  hold(): () => void {
    this.holds++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.holds--;
      if (this.holds > 0) return;
      if (this.closed) this.answerQuietWaiters();
      else this.kick();
    };
  }

  /** Resolves once nothing can be delivered and no timer is pending; rejects if the driver failed. */
  quiet(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.driving && this.holds === 0 && !this.network.hasWork()) return Promise.resolve();
    return new Promise((resolve, reject) => this.quietWaiters.push({ resolve, reject }));
  }

  /** Stops the world at once: nothing more is delivered. */
  close(): void {
    this.closed = true;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private kick(): void {
    if (this.driving || this.closed || this.holds > 0) return;
    this.driving = true;
    void nextTurn().then(() => this.drive());
  }

  private async drive(): Promise<void> {
    try {
      const stop = (): boolean => this.closed || this.holds > 0;
      while (!stop() && this.network.hasWork()) await this.network.runUntilQuiet(this.stepsMax, { until: stop });
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      this.driving = false;
    }
    if (this.holds > 0 && this.failure === undefined) return;
    this.answerQuietWaiters();
  }

  private answerQuietWaiters(): void {
    for (const waiter of this.quietWaiters.splice(0)) {
      if (this.failure === undefined) waiter.resolve();
      else waiter.reject(this.failure);
    }
  }
}

/**
 * Seeded, deterministic cores on `@fos/sim`: every message between kernels sits in
 * its stream's FIFO (one stream per sending process and mailbox for deliveries, per pair of cores
 * otherwise) and a driver delivers the head of a stream picked by the seeded PRNG whenever work is
 * pending; the virtual clock jumps to the next timer only when nothing can be delivered. Capabilities
 * and every other choice come from the same seed, so one seed replays one run exactly.
 * `new SimFabric({ cores, seed })` is a machine alone in a world of its own; machines that talk
 * through proxies share one {@link SimWorld} (`world.fabric({ cores, machine })`).
 */
export class SimFabric implements Fabric {
  readonly kind = 'sim';
  readonly coreCount: number;
  readonly random: SeededRandom;
  readonly world: SimWorld;
  readonly virtualClock: VirtualClock;
  readonly network: SimNetwork<SimWorldMessage>;
  /** The machine clock: the world's virtual clock. */
  readonly clock: Clock;
  /** Endpoint names of this machine's cores: `core<n>` alone, `<machine>/core<n>` in a shared world. */
  private readonly prefix: string;
  /** True when the world is this fabric's own: closing the fabric closes it. */
  private readonly ownsWorld: boolean;
  private readonly connected = new Set<number>();
  private closed = false;

  /**
   * `BAD_REQUEST` for options that are not an object, a `cores` that is not a whole number of at
   * least 1, a `seed` that is not a safe integer, a `stepsMax` that is not a whole number of at least
   * 1; `LIMIT_EXCEEDED` above {@link coresMax} cores. (`world` and `machine` are for {@link SimWorld.fabric}.)
   */
  constructor(options: SimFabricOptions | { cores: number; world: SimWorld; machine: string }) {
    const fields = readOptions(options, 'SimFabric options', ['cores', 'seed', 'stepsMax', 'world', 'machine']);
    this.coreCount = checkCores(fields.cores, coresMax, 'coresMax');
    if (fields.world instanceof SimWorld) {
      this.world = fields.world;
      this.ownsWorld = false;
      this.prefix = `${String(fields.machine)}/core`;
      this.random = this.world.random.fork(`machine:${String(fields.machine)}`);
    } else {
      this.world = new SimWorld({
        seed: fields.seed as number,
        ...(fields.stepsMax === undefined ? {} : { stepsMax: fields.stepsMax as number }),
      });
      this.ownsWorld = true;
      this.prefix = 'core';
      this.random = this.world.random;
    }
    this.virtualClock = this.world.virtualClock;
    this.network = this.world.network;
    this.clock = this.world.clock;
  }

  /** Connects the kernel of `core` (once); `BAD_REQUEST` for a bad or taken core, `SHUTDOWN` once closed. */
  connect(core: number, receive: (message: KernelMessage) => void): FabricPort {
    if (this.closed || this.world.isClosed) throw new FosError('SHUTDOWN', 'the fabric is closed', { value: core });
    checkConnect(core, receive, this.coreCount, this.connected);
    this.connected.add(core);
    const self = `${this.prefix}${core}`;
    this.world.addEndpoint(self, (_from, message) => receive(message as KernelMessage));
    return {
      post: (toCore, message, streamKey) => {
        if (this.closed) return;
        this.world.send(self, `${this.prefix}${toCore}`, message, streamKey);
      },
    };
  }

  /** Stops the whole world's run until the release is called: see {@link SimWorld.hold}. */
  hold(): () => void {
    return this.world.hold();
  }

  /** Resolves once nothing in the world can be delivered and no timer is pending; rejects if the driver failed. */
  quiet(): Promise<void> {
    return this.world.quiet();
  }

  /** Delivers nothing more to or from this machine; a world of its own stops at once. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.ownsWorld) this.world.close();
  }
}
