// A simulated wire for SimFabric: connections whose far ends (peers) are driven by a test. Every event
// crosses the wire after a seeded delay on the machine's virtual clock, in order per direction of one
// connection, so one seed replays one interleaving of many connections exactly.
import type { Clock, RandomSource } from '@fos/base';
import { netError } from '../errors.js';
import type { Wire, WireAddress, WireListener, WireSocket, WireSocketEvents } from '../wire.js';

/** The far end of a simulated connection, as the test drives and observes it. */
export interface SimPeer {
  readonly remote: WireAddress;
  /** Sends bytes to netif (delivered in order, after seeded delays). */
  send(bytes: Uint8Array): void;
  /** Half-closes the peer's sending side. */
  end(): void;
  /** Resets the connection. */
  reset(): void;
  /** What netif wrote, in order. */
  readonly received: Uint8Array[];
  /** Bytes received so far. */
  readonly receivedBytes: number;
  /** netif half-closed its side. */
  readonly ended: boolean;
  /** The connection is gone (both sides ended, or a reset). */
  readonly closed: boolean;
  /** Resolves once the connection is gone. */
  readonly whenClosed: Promise<void>;
}

type Event = { kind: 'data'; bytes: Uint8Array } | { kind: 'end' } | { kind: 'reset' };

/** A seeded, in-memory {@link Wire}: listeners that tests dial into. */
export class SimWire implements Wire {
  readonly #clock: Clock;
  readonly #random: RandomSource;
  readonly #listeners = new Map<number, (socket: WireSocket) => void>();
  readonly #delayMsMax: number;
  #nextPort = 40_000;
  #nextRemotePort = 50_000;

  constructor(clock: Clock, random: RandomSource, options: { delayMsMax?: number } = {}) {
    this.#clock = clock;
    this.#random = random;
    this.#delayMsMax = options.delayMsMax ?? 3;
  }

  listen(port: number, host: string, accepted: (socket: WireSocket) => void): Promise<WireListener> {
    const actual = port === 0 ? this.#nextPort++ : port;
    if (this.#listeners.has(actual))
      return Promise.reject(netError('EADDRINUSE', `port ${actual} is taken on the simulated wire`, actual));
    this.#listeners.set(actual, accepted);
    return Promise.resolve({ port: actual, host, close: () => this.#listeners.delete(actual) });
  }

  connect(host: string, port: number): Promise<WireSocket> {
    return Promise.reject(netError('ECONNREFUSED', `the simulated wire has no host ${host}:${port}`, port));
  }

  /** A new connection from a simulated client to `port` (a listener must be there). */
  dial(port: number): SimPeer {
    const accepted = this.#listeners.get(port);
    if (accepted === undefined) throw new Error(`nothing listens on simulated port ${port}`);
    const connection = new SimConnection(
      { address: '10.0.0.1', port },
      { address: '10.0.0.2', port: this.#nextRemotePort++ },
      () => this.#random.nextInt(this.#delayMsMax + 1),
      this.#clock,
    );
    this.#clock.setTimer(this.#random.nextInt(this.#delayMsMax + 1), () => accepted(connection.socket));
    return connection.peer;
  }
}

/** One simulated connection: its two directions, each one event at a time after a seeded delay. */
class SimConnection {
  readonly socket: WireSocket;
  readonly peer: SimPeer;
  readonly #toNetif: Event[] = [];
  readonly #toPeer: { bytes: Uint8Array; done: (error?: Error) => void }[] = [];
  readonly #received: Uint8Array[] = [];
  readonly #delay: () => number;
  readonly #clock: Clock;
  #events: WireSocketEvents | undefined;
  #paused = true;
  #scheduled = false;
  #writing = false;
  #peerEnded = false;
  #netifEnded = false;
  #closed = false;
  #receivedBytes = 0;
  #resolveClosed!: () => void;

  constructor(local: WireAddress, remote: WireAddress, delay: () => number, clock: Clock) {
    this.#delay = delay;
    this.#clock = clock;
    const whenClosed = new Promise<void>((resolve) => (this.#resolveClosed = resolve));
    this.socket = {
      local,
      remote,
      start: (events) => {
        this.#events = events;
        this.#paused = false;
        this.#schedule();
      },
      write: (bytes, done) => {
        if (this.#closed || this.#netifEnded) {
          done(new Error('write EPIPE (the simulated connection is closed)'));
          return;
        }
        this.#toPeer.push({ bytes: bytes.slice(), done });
        this.#deliverToPeer();
      },
      end: () => {
        if (this.#netifEnded) return;
        this.#netifEnded = true;
        this.#maybeClosed();
      },
      destroy: () => this.#close(undefined),
      pause: () => {
        this.#paused = true;
      },
      resume: () => {
        this.#paused = false;
        this.#schedule();
      },
    };
    const state = (): { receivedBytes: number; ended: boolean; closed: boolean } => ({
      receivedBytes: this.#receivedBytes,
      ended: this.#netifEnded,
      closed: this.#closed,
    });
    this.peer = {
      remote,
      send: (bytes) => this.#fromPeer({ kind: 'data', bytes: bytes.slice() }),
      end: () => this.#fromPeer({ kind: 'end' }),
      reset: () => this.#fromPeer({ kind: 'reset' }),
      received: this.#received,
      get receivedBytes() {
        return state().receivedBytes;
      },
      get ended() {
        return state().ended;
      },
      get closed() {
        return state().closed;
      },
      whenClosed,
    };
  }

  #fromPeer(event: Event): void {
    this.#toNetif.push(event);
    this.#schedule();
  }

  /** One event at a time crosses to netif, after a seeded delay; a paused socket holds them. */
  #schedule(): void {
    if (this.#scheduled || this.#paused || this.#closed || this.#toNetif.length === 0 || this.#events === undefined)
      return;
    this.#scheduled = true;
    this.#clock.setTimer(this.#delay(), () => {
      this.#scheduled = false;
      if (this.#closed || this.#paused) return;
      const event = this.#toNetif.shift() as Event;
      if (event.kind === 'data') this.#events?.data(event.bytes);
      else if (event.kind === 'end') {
        this.#peerEnded = true;
        this.#events?.end();
        this.#maybeClosed();
      } else this.#close(new Error('read ECONNRESET (the simulated peer reset the connection)'));
      this.#schedule();
    });
  }

  /** What netif writes crosses the other way, one write at a time, in order. */
  #deliverToPeer(): void {
    if (this.#writing || this.#toPeer.length === 0) return;
    this.#writing = true;
    this.#clock.setTimer(this.#delay(), () => {
      this.#writing = false;
      const write = this.#toPeer.shift() as { bytes: Uint8Array; done: (error?: Error) => void };
      if (!this.#closed) {
        this.#received.push(write.bytes);
        this.#receivedBytes += write.bytes.length;
      }
      write.done();
      this.#deliverToPeer();
    });
  }

  #maybeClosed(): void {
    if (this.#peerEnded && this.#netifEnded) this.#close(undefined);
  }

  #close(error: Error | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#resolveClosed();
    this.#events?.close(error);
  }
}
