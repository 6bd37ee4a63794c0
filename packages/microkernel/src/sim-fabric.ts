import { nextTurn, type Clock, type Timer } from '@fos/base';
import { SeededRandom, SimNetwork, VirtualClock } from '@fos/sim';
import type { Fabric, FabricPort, KernelMessage } from './fabric.js';

/** Deliveries and timer firings one drive of the simulation may take before it is declared stuck. */
export const simStepsMax = 10_000_000;

/** Options of {@link SimFabric}. */
export interface SimFabricOptions {
  readonly cores: number;
  /** The seed of every choice the simulation makes. */
  readonly seed: number;
  /** Default {@link simStepsMax}. */
  readonly stepsMax?: number;
}

function describeMessage(message: KernelMessage): string {
  switch (message.kind) {
    case 'deliver':
      return `deliver#${message.requestId} ${message.sender.process}→${message.location.core}/${message.location.mailbox} seq=${message.sequence} ${message.bytes.length}B`;
    case 'result':
      return `result#${message.requestId}${message.error ? ` ${message.error.code}` : ''}`;
    default:
      return message.kind;
  }
}

/**
 * Seeded, deterministic cores on `@fos/sim`: every message between kernels sits in
 * its stream's FIFO (one stream per sending process and mailbox for deliveries, per pair of cores
 * otherwise) and a driver delivers the head of a stream picked by the seeded PRNG whenever work is
 * pending; the virtual clock jumps to the next timer only when nothing can be delivered. Capabilities
 * and every other choice come from the same seed, so one seed replays one run exactly.
 */
export class SimFabric implements Fabric {
  readonly kind = 'sim';
  readonly coreCount: number;
  readonly random: SeededRandom;
  readonly virtualClock: VirtualClock;
  readonly network: SimNetwork<KernelMessage>;
  /** The machine clock: the virtual clock, waking the driver when a timer is set. */
  readonly clock: Clock;
  private readonly stepsMax: number;
  private driving = false;
  private closed = false;
  private failure: Error | undefined;
  private readonly quietWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  constructor(options: SimFabricOptions) {
    this.coreCount = options.cores;
    this.stepsMax = options.stepsMax ?? simStepsMax;
    this.random = new SeededRandom(options.seed);
    this.virtualClock = new VirtualClock();
    this.network = new SimNetwork<KernelMessage>({
      random: this.random.fork('network'),
      clock: this.virtualClock,
      describe: describeMessage,
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

  connect(core: number, receive: (message: KernelMessage) => void): FabricPort {
    const self = `core${core}`;
    this.network.addEndpoint(self, (_from, message) => receive(message));
    return {
      post: (toCore, message, streamKey) => {
        if (this.closed) return;
        this.network.send(self, `core${toCore}`, message, streamKey);
        this.kick();
      },
    };
  }

  /** Resolves once nothing can be delivered and no timer is pending; rejects if the driver failed. */
  quiet(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (!this.driving && !this.network.hasWork()) return Promise.resolve();
    return new Promise((resolve, reject) => this.quietWaiters.push({ resolve, reject }));
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private kick(): void {
    if (this.driving || this.closed) return;
    this.driving = true;
    void nextTurn().then(() => this.drive());
  }

  private async drive(): Promise<void> {
    try {
      while (!this.closed && this.network.hasWork()) await this.network.runUntilQuiet(this.stepsMax);
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      this.driving = false;
    }
    for (const waiter of this.quietWaiters.splice(0)) {
      if (this.failure === undefined) waiter.resolve();
      else waiter.reject(this.failure);
    }
  }
}
