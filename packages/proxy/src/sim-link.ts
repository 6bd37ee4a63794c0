// The link between two simulated machines: a byte stream through the SimWorld's network, so that a
// multi-machine run is one seeded interleaving and replays exactly. Chunks of one direction form one
// stream (FIFO); the driver interleaves them with every kernel message of both machines. A zero-length
// chunk is the stream's end (what a FIN is to TCP).
import { FosError } from '@fos/base';
import type { SimWorld, SimWorldMessage } from '@fos/microkernel';
import type { ByteLink, ByteLinkEvents } from './link.js';

/** Options of {@link simLinkPair}. */
export interface SimLinkOptions {
  /** Bytes in flight per direction before the writer's `bufferedBytes` counts them (default 64 KiB). */
  readonly windowBytes?: number;
  /** Tells apart several links between the same two machines (their endpoints in the world). */
  readonly connection?: number;
}

/** The two ends of a link between the machines `names` in `world` (each end named for its machine). */
export function simLinkPair(
  world: SimWorld,
  names: readonly [string, string],
  options: SimLinkOptions = {},
): [ByteLink, ByteLink] {
  const windowBytes = options.windowBytes ?? 64 * 1024;
  const suffix = options.connection === undefined ? '' : `#${options.connection}`;
  const id = (from: string, to: string): string => `link:${from}>${to}${suffix}`;
  const first = new SimEnd(world, id(names[0], names[1]), id(names[1], names[0]), names[1], windowBytes);
  const second = new SimEnd(world, id(names[1], names[0]), id(names[0], names[1]), names[0], windowBytes);
  first.peer = second;
  second.peer = first;
  return [first, second];
}

class SimEnd implements ByteLink {
  peer: SimEnd | undefined;
  #events: ByteLinkEvents | undefined;
  /** Bytes this end sent that the peer's user has not taken yet (in flight, or held while paused). */
  unread = 0;
  readonly #held: Uint8Array[] = [];
  #paused = false;
  #closed = false;

  constructor(
    readonly world: SimWorld,
    readonly self: string,
    readonly other: string,
    readonly remote: string,
    readonly windowBytes: number,
  ) {
    world.addEndpoint(self, (_from, message) => this.#arrive(message));
  }

  get bufferedBytes(): number {
    return Math.max(0, this.unread - this.windowBytes);
  }

  open(events: ByteLinkEvents): void {
    if (this.#events !== undefined) throw new FosError('BAD_REQUEST', `link to ${this.remote} is open already`);
    this.#events = events;
    if (this.#closed) queueMicrotask(() => events.closed('the link closed before it was opened'));
    else this.#release();
  }

  write(bytes: Uint8Array): void {
    if (this.#closed || bytes.length === 0) return;
    this.unread += bytes.length;
    this.world.send(this.self, this.other, { kind: 'bytes', bytes: bytes.slice() });
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#release();
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.world.send(this.self, this.other, { kind: 'bytes', bytes: new Uint8Array(0) });
    this.#end(reason);
  }

  #arrive(message: SimWorldMessage): void {
    if (this.#closed || message.kind !== 'bytes') return;
    if (message.bytes.length === 0) {
      this.#end('the other end closed');
      return;
    }
    this.#held.push(message.bytes);
    this.#release();
  }

  #release(): void {
    const events = this.#events;
    if (events === undefined) return;
    const peer = this.peer;
    while (!this.#paused && !this.#closed && this.#held.length > 0) {
      const chunk = this.#held.shift()!;
      if (peer !== undefined) {
        const wasBlocked = peer.bufferedBytes > 0;
        peer.unread -= chunk.length;
        if (wasBlocked && peer.bufferedBytes === 0) peer.#events?.drain();
      }
      events.data(chunk);
    }
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#held.length = 0;
    const events = this.#events;
    // In a microtask: inside the run that caused it, so the seed decides when it happens.
    if (events !== undefined) queueMicrotask(() => events.closed(reason));
  }
}
