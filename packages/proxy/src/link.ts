// The transport under the proxy, injected: a byte stream between two machines that is already
// authenticated (TLS with the cluster key in tls.ts; a seeded simulated stream in tests). The proxy
// frames on top of it (frames.ts) and never sees a socket.
import { FosError, nextTurn } from '@fos/base';

/** What a link tells its user. */
export interface ByteLinkEvents {
  /** Bytes arrived, in order. */
  data(chunk: Uint8Array): void;
  /** Everything written so far has left (`bufferedBytes` fell back). */
  drain(): void;
  /** The link is closed, by either side or by a fault; called once. */
  closed(reason: string): void;
}

/** An authenticated, ordered, reliable byte stream to one other machine. */
export interface ByteLink {
  /** Where the other end is, for logs (`host:port`, or a test's name). */
  readonly remote: string;
  /** Starts delivering events; called once. */
  open(events: ByteLinkEvents): void;
  /** Queues bytes to send (never blocks; the caller watches `bufferedBytes`). */
  write(bytes: Uint8Array): void;
  /** Bytes written and not yet taken by the transport. */
  readonly bufferedBytes: number;
  /** Stops `data` until `resume` (the other end's writes then back up: back-pressure). */
  pause(): void;
  resume(): void;
  /** Closes the link; `closed` follows. */
  close(reason: string): void;
}

/** Options of {@link linkPair}. */
export interface LinkPairOptions {
  /** Bytes in flight per direction before the writer's `bufferedBytes` counts them (default 64 KiB). */
  readonly windowBytes?: number;
}

/**
 * Two ends of an in-memory link in one thread, for tests and for machines that share a process:
 * bytes arrive a turn later (`nextTurn`), a paused reader holds them, and a writer's
 * `bufferedBytes` is what the reader has not taken beyond the window (as a socket's send buffer
 * fills when the peer stops reading).
 */
export function linkPair(names: readonly [string, string], options: LinkPairOptions = {}): [ByteLink, ByteLink] {
  const windowBytes = options.windowBytes ?? 64 * 1024;
  const first = new MemoryEnd(names[1], windowBytes);
  const second = new MemoryEnd(names[0], windowBytes);
  first.peer = second;
  second.peer = first;
  return [first, second];
}

class MemoryEnd implements ByteLink {
  peer: MemoryEnd | undefined;
  #events: ByteLinkEvents | undefined;
  /** Bytes the peer wrote that this end has not taken yet. */
  readonly #inbox: Uint8Array[] = [];
  #inboxBytes = 0;
  #paused = false;
  #scheduled = false;
  #closed = false;

  constructor(
    readonly remote: string,
    readonly windowBytes: number,
  ) {}

  get bufferedBytes(): number {
    const peer = this.peer;
    return peer === undefined ? 0 : Math.max(0, peer.#inboxBytes - this.windowBytes);
  }

  open(events: ByteLinkEvents): void {
    if (this.#events !== undefined) throw new FosError('BAD_REQUEST', `link to ${this.remote} is open already`);
    this.#events = events;
    this.#schedule();
  }

  write(bytes: Uint8Array): void {
    const peer = this.peer;
    if (this.#closed || peer === undefined || peer.#closed) return;
    peer.#inbox.push(bytes.slice());
    peer.#inboxBytes += bytes.length;
    peer.#schedule();
  }

  /** The peer took enough of what this end wrote: tell this end's user. */
  notifyDrain(): void {
    this.#events?.drain();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#schedule();
  }

  close(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox.length = 0;
    this.#inboxBytes = 0;
    const peer = this.peer;
    void nextTurn().then(() => {
      this.#events?.closed(reason);
      if (peer !== undefined && !peer.#closed) {
        peer.#closed = true;
        peer.#events?.closed(`the other end closed: ${reason}`);
      }
    });
  }

  #schedule(): void {
    if (this.#scheduled || this.#events === undefined) return;
    this.#scheduled = true;
    void nextTurn().then(() => this.#flush());
  }

  #flush(): void {
    this.#scheduled = false;
    const events = this.#events;
    if (events === undefined || this.#closed) return;
    const writerWasBlocked = this.#inboxBytes > this.windowBytes;
    while (!this.#paused && !this.#closed && this.#inbox.length > 0) {
      const chunk = this.#inbox.shift()!;
      this.#inboxBytes -= chunk.length;
      events.data(chunk);
    }
    if (writerWasBlocked && this.#inboxBytes <= this.windowBytes) this.peer?.notifyDrain();
  }
}
