import { CryptoRandom, FosError, SystemClock, type Clock, type RandomSource } from '@fos/base';
import type { Fabric, FabricPort, KernelMessage } from './fabric.js';
import {
  checkConnect,
  checkCores,
  checkMethods,
  clockMethods,
  randomMethods,
  readOptions,
} from './internal/options.js';
import { LocalDelivery } from './internal/local-delivery.js';
import { coresMax } from './limits.js';

/** Options of {@link LocalFabric}. */
export interface LocalFabricOptions {
  /** Cores of the machine, 1..{@link coresMax}. */
  readonly cores: number;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Default: cryptographic randomness. */
  readonly random?: RandomSource;
}

/**
 * All cores in one thread. The kernels still talk only through the fabric: a message posted to a core
 * is delivered later, never inside the post (every cross-core path stays asynchronous), in the order
 * it was posted, and carries its body as bytes the sending kernel encoded (a copy). Each message is
 * delivered from an event-loop callback of its own (`setImmediate`), not through a `MessageChannel`
 * (whose structured clone and wake-up cost about 8.5 µs a message): every microtask one delivery
 * queued runs before the next delivery, as between port messages, and timers and I/O get in.
 */
export class LocalFabric implements Fabric {
  readonly kind = 'local';
  readonly coreCount: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  private readonly receivers: Array<((message: KernelMessage) => void) | undefined>;
  /** Per core: hands a delivered message to that core's kernel (one connected by then). */
  private readonly deliverTo: Array<(message: KernelMessage) => void>;
  private readonly delivery = new LocalDelivery<KernelMessage>();
  private readonly connected = new Set<number>();
  private closed = false;

  /**
   * `BAD_REQUEST` for options that are not an object, a `cores` that is not a whole number of at
   * least 1, a `clock` or `random` without the methods of one; `LIMIT_EXCEEDED` above {@link coresMax}.
   */
  constructor(options: LocalFabricOptions) {
    const fields = readOptions(options, 'LocalFabric options', ['cores', 'clock', 'random']);
    const cores = checkCores(fields.cores, coresMax, 'coresMax');
    this.clock =
      fields.clock === undefined ? new SystemClock() : checkMethods<Clock>(fields.clock, 'clock', clockMethods);
    this.random =
      fields.random === undefined
        ? new CryptoRandom()
        : checkMethods<RandomSource>(fields.random, 'random', randomMethods);
    this.coreCount = cores;
    this.receivers = Array.from({ length: cores }, () => undefined);
    this.deliverTo = Array.from(
      { length: cores },
      (_, core) => (message: KernelMessage) => this.receivers[core]?.(message),
    );
  }

  /** Connects the kernel of `core` (once); `BAD_REQUEST` for a bad or taken core, `SHUTDOWN` once closed. */
  connect(core: number, receive: (message: KernelMessage) => void): FabricPort {
    if (this.closed) throw new FosError('SHUTDOWN', 'the fabric is closed', { value: core });
    checkConnect(core, receive, this.coreCount, this.connected);
    this.connected.add(core);
    this.receivers[core] = receive;
    return {
      post: (toCore, message) => {
        if (this.closed) return;
        const deliver = this.deliverTo[toCore];
        if (deliver === undefined) throw new RangeError(`core ${toCore} is outside 0..${this.coreCount - 1}`);
        this.delivery.post(deliver, message);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.delivery.close();
  }
}
