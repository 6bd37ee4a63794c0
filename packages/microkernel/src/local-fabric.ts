import { MessageChannel, type MessagePort } from 'node:worker_threads';
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
 * All cores in one thread. The kernels still talk only through `MessageChannel` ports (one per
 * destination core, so messages to one core keep their order), so every cross-core path is truly
 * asynchronous and message bytes are copied, as between worker threads.
 */
export class LocalFabric implements Fabric {
  readonly kind = 'local';
  readonly coreCount: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  private readonly channels: MessageChannel[];
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
    this.channels = Array.from({ length: cores }, () => new MessageChannel());
  }

  /** Connects the kernel of `core` (once); `BAD_REQUEST` for a bad or taken core, `SHUTDOWN` once closed. */
  connect(core: number, receive: (message: KernelMessage) => void): FabricPort {
    if (this.closed) throw new FosError('SHUTDOWN', 'the fabric is closed', { value: core });
    checkConnect(core, receive, this.coreCount, this.connected);
    const inbox = this.channels[core] as MessageChannel;
    this.connected.add(core);
    inbox.port1.on('message', receive);
    return {
      post: (toCore, message) => {
        if (this.closed) return;
        const target: MessagePort | undefined = this.channels[toCore]?.port2;
        if (target === undefined) throw new RangeError(`core ${toCore} is outside 0..${this.coreCount - 1}`);
        // The encoded body is a standalone buffer no one reads again: move it instead of copying twice.
        if (message.kind === 'deliver') target.postMessage(message, [message.bytes.buffer as ArrayBuffer]);
        else target.postMessage(message);
      },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const channel of this.channels) {
      channel.port1.close();
      channel.port2.close();
    }
  }
}
