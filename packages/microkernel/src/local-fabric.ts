import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { CryptoRandom, SystemClock, type Clock, type RandomSource } from '@fos/base';
import type { Fabric, FabricPort, KernelMessage } from './fabric.js';

/** Options of {@link LocalFabric}. */
export interface LocalFabricOptions {
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
  private closed = false;

  constructor(options: LocalFabricOptions) {
    this.coreCount = options.cores;
    this.clock = options.clock ?? new SystemClock();
    this.random = options.random ?? new CryptoRandom();
    this.channels = Array.from({ length: options.cores }, () => new MessageChannel());
  }

  connect(core: number, receive: (message: KernelMessage) => void): FabricPort {
    const inbox = this.channels[core];
    if (inbox === undefined) throw new RangeError(`core ${core} is outside 0..${this.coreCount - 1}`);
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
