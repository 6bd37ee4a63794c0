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
    const remote = { address: '10.0.0.2', port: this.#nextRemotePort++ };
    const local = { address: '10.0.0.1', port };
    const toNetif: Event[] = [];
    const state = {
      events: undefined as WireSocketEvents | undefined,
      paused: true,
      scheduled: false,
      peerEnded: false,
      netifEnded: false,
      closed: false,
    };
    const received: Uint8Array[] = [];
    let receivedBytes = 0;
    let closedResolve!: () => void;
    const whenClosed = new Promise<void>((resolve) => (closedResolve = resolve));
    const close = (error: Error | undefined) => {
      if (state.closed) return;
      state.closed = true;
      closedResolve();
      state.events?.close(error);
    };
    const maybeClosed = () => {
      if (state.peerEnded && state.netifEnded) close(undefined);
    };
    // One event at a time crosses to netif, after a seeded delay; a paused socket holds them.
    const schedule = () => {
      if (state.scheduled || state.paused || state.closed || toNetif.length === 0 || state.events === undefined) return;
      state.scheduled = true;
      this.#clock.setTimer(this.#random.nextInt(this.#delayMsMax + 1), () => {
        state.scheduled = false;
        if (state.closed || state.paused) return;
        const event = toNetif.shift() as Event;
        if (event.kind === 'data') state.events?.data(event.bytes);
        else if (event.kind === 'end') {
          state.peerEnded = true;
          state.events?.end();
          maybeClosed();
        } else close(new Error('read ECONNRESET (the simulated peer reset the connection)'));
        schedule();
      });
    };
    // What netif writes crosses the other way, one write at a time, in order.
    const toPeer: { bytes: Uint8Array; done: (error?: Error) => void }[] = [];
    let writing = false;
    const deliverToPeer = () => {
      if (writing || toPeer.length === 0) return;
      writing = true;
      this.#clock.setTimer(this.#random.nextInt(this.#delayMsMax + 1), () => {
        writing = false;
        const write = toPeer.shift() as { bytes: Uint8Array; done: (error?: Error) => void };
        if (!state.closed) {
          received.push(write.bytes);
          receivedBytes += write.bytes.length;
        }
        write.done();
        deliverToPeer();
      });
    };
    const socket: WireSocket = {
      local,
      remote,
      start: (events) => {
        state.events = events;
        state.paused = false;
        schedule();
      },
      write: (bytes, done) => {
        if (state.closed || state.netifEnded) {
          done(new Error('write EPIPE (the simulated connection is closed)'));
          return;
        }
        toPeer.push({ bytes: bytes.slice(), done });
        deliverToPeer();
      },
      end: () => {
        if (state.netifEnded) return;
        state.netifEnded = true;
        maybeClosed();
      },
      destroy: () => close(undefined),
      pause: () => {
        state.paused = true;
      },
      resume: () => {
        state.paused = false;
        schedule();
      },
    };
    this.#clock.setTimer(this.#random.nextInt(this.#delayMsMax + 1), () => accepted(socket));
    return {
      remote,
      send: (bytes) => {
        toNetif.push({ kind: 'data', bytes: bytes.slice() });
        schedule();
      },
      end: () => {
        toNetif.push({ kind: 'end' });
        schedule();
      },
      reset: () => {
        toNetif.push({ kind: 'reset' });
        schedule();
      },
      received,
      get receivedBytes() {
        return receivedBytes;
      },
      get ended() {
        return state.netifEnded;
      },
      get closed() {
        return state.closed;
      },
      whenClosed,
    };
  }
}
