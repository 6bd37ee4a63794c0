// Delivery between kernels that share one thread (today a worker core's messages to itself; LocalFabric
// keeps its ports, see decision 33), without a MessagePort: a port hop costs a structured clone and an event-loop
// turn per message (about 8.5 µs on the machine this was measured on), four of them per round trip.
// A FIFO queue drained in a microtask keeps what the port gave: a post never runs the receiver inside
// it (every path stays asynchronous), messages arrive in the order they were posted, and the event
// loop still turns: after `localDeliveriesPerTurnMax` deliveries in a row the next drain waits for a
// full turn, so timers and I/O get in under a steady stream of messages.
import { nextTurn } from '@fos/base';
import { localDeliveriesPerTurnMax } from '../limits.js';

/** One posted message and the receiver it goes to. */
interface Posted<M> {
  readonly receive: (message: M) => void;
  readonly message: M;
}

/**
 * A FIFO of messages for receivers in this thread, delivered asynchronously and in order: one
 * microtask drains what is queued; after {@link localDeliveriesPerTurnMax} deliveries without a full
 * event-loop turn, the next drain waits for one.
 */
export class LocalDelivery<M> {
  #queue: Posted<M>[] = [];
  #head = 0;
  #scheduled = false;
  #sinceTurn = 0;
  #closed = false;
  readonly #fault: (error: unknown) => void;

  /**
   * `fault` hears what a receiver throws (a kernel fault: kernels answer errors as messages); by
   * default it is thrown again outside the drain, as a port's listener's error would be. The drain
   * goes on with the next message either way.
   */
  constructor(
    fault: (error: unknown) => void = (error) =>
      queueMicrotask(() => {
        throw error;
      }),
  ) {
    this.#fault = fault;
  }

  /** Queues `message` for `receive`; runs nothing now. Dropped once closed. */
  post(receive: (message: M) => void, message: M): void {
    if (this.#closed) return;
    this.#queue.push({ receive, message });
    this.#schedule();
  }

  /** Drops what is queued and every later post. */
  close(): void {
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
  }

  /** Messages queued and not yet delivered. */
  get pending(): number {
    return this.#queue.length - this.#head;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    if (this.#sinceTurn < localDeliveriesPerTurnMax) queueMicrotask(() => this.#drain());
    else
      void nextTurn().then(() => {
        this.#sinceTurn = 0;
        this.#drain();
      });
  }

  #drain(): void {
    this.#scheduled = false;
    // Messages posted while draining join this drain, up to the turn's budget.
    while (!this.#closed && this.#head < this.#queue.length && this.#sinceTurn < localDeliveriesPerTurnMax) {
      const posted = this.#queue[this.#head] as Posted<M>;
      this.#queue[this.#head++] = undefined as unknown as Posted<M>;
      this.#sinceTurn++;
      try {
        posted.receive(posted.message);
      } catch (error) {
        this.#fault(error);
      }
    }
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
      return;
    }
    // Under a steady stream the delivered front is cut off now and then, not on every message.
    if (this.#head >= localDeliveriesPerTurnMax) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (!this.#closed) this.#schedule();
  }
}
