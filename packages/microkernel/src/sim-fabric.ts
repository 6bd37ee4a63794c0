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
  private readonly connected = new Set<number>();
  private driving = false;
  private closed = false;
  private failure: Error | undefined;
  /** Holds taken by {@link SimFabric.hold} and not released yet: the driver waits while any is. */
  private holds = 0;
  private readonly quietWaiters: Array<{ resolve: () => void; reject: (error: Error) => void }> = [];

  /**
   * `BAD_REQUEST` for options that are not an object, a `cores` that is not a whole number of at
   * least 1, a `seed` that is not a safe integer, a `stepsMax` that is not a whole number of at least
   * 1; `LIMIT_EXCEEDED` above {@link coresMax} cores.
   */
  constructor(options: SimFabricOptions) {
    const fields = readOptions(options, 'SimFabric options', ['cores', 'seed', 'stepsMax']);
    this.coreCount = checkCores(fields.cores, coresMax, 'coresMax');
    this.stepsMax = fields.stepsMax === undefined ? simStepsMax : checkCount(fields.stepsMax, 'stepsMax');
    if (!Number.isSafeInteger(fields.seed))
      throw new FosError('BAD_REQUEST', `seed ${describeValue(fields.seed)} is not a safe integer`, {
        value: fields.seed,
      });
    this.random = new SeededRandom(fields.seed as number);
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

  /** Connects the kernel of `core` (once); `BAD_REQUEST` for a bad or taken core, `SHUTDOWN` once closed. */
  connect(core: number, receive: (message: KernelMessage) => void): FabricPort {
    if (this.closed) throw new FosError('SHUTDOWN', 'the fabric is closed', { value: core });
    checkConnect(core, receive, this.coreCount, this.connected);
    this.connected.add(core);
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

  /**
   * Stops the run where it is (no delivery, no timer) until the returned release is called (once is
   * enough; more calls do nothing). The machine holds the run while a process's module loads: a load
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
      // Closed meanwhile: nothing more runs, so whoever waits for quiet has it now.
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

  async close(): Promise<void> {
    this.closed = true;
  }

  private kick(): void {
    if (this.driving || this.closed || this.holds > 0) return;
    this.driving = true;
    void nextTurn().then(() => this.drive());
  }

  private async drive(): Promise<void> {
    try {
      // A close or a hold stops the run between two steps (a closed fabric's messages are dropped).
      const stop = (): boolean => this.closed || this.holds > 0;
      while (!stop() && this.network.hasWork()) await this.network.runUntilQuiet(this.stepsMax, { until: stop });
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    } finally {
      this.driving = false;
    }
    // Held: the release drives on, and answers the waiters once the run is quiet.
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
