// Delivery between kernels that share one thread (every core of a LocalFabric, and a worker core's
// messages to itself), without a MessagePort: a port hop costs a structured clone and a wake-up of the
// event loop per message (about 8.5 µs on the machine this was measured on), four of them per round
// trip. Each message is delivered from a `setImmediate` callback of its own, which keeps what the port
// gave and what the kernels rely on:
// - a post never runs the receiver inside it (every path stays asynchronous);
// - messages arrive in the order they were posted (immediates run first in, first out);
// - every microtask a delivery queued has run before the next delivery. Node drains the microtask
//   queue between two immediate callbacks, as it does between two port messages. A kernel may finish
//   acting on a message in a promise continuation (a send grants a name server its unchecked reply
//   only once the delivery's result has settled the send), and a later message may depend on it: a
//   queue drained in one go, with no microtasks in between, delivered such a reply before the permit
//   existed, and the reply was refused (a name-service Lookup then waited out its timeout);
// - the event loop turns: what a delivery posts runs in the next turn, after timers and I/O.
// A receiver that throws is reported; the deliveries after it go on.

/**
 * Messages for receivers in this thread, each delivered later from an event-loop callback of its own,
 * in the order posted, with every microtask of one delivery run before the next.
 */
export class LocalDelivery<M> {
  #pending = 0;
  #closed = false;
  readonly #fault: (error: unknown) => void;

  /**
   * `fault` hears what a receiver throws (a kernel fault: kernels answer errors as messages); by
   * default it is thrown again outside the delivery, as a port's listener's error would be. The
   * deliveries after it go on either way.
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
    this.#pending++;
    // The delivery mechanism itself, not a timer: nextTurn would cost a promise and a closure a message.
    // eslint-disable-next-line no-restricted-globals
    setImmediate(deliverOne<M>, this, receive, message);
  }

  /** Drops what is queued and every later post. */
  close(): void {
    this.#closed = true;
    this.#pending = 0;
  }

  /** Messages queued and not yet delivered. */
  get pending(): number {
    return this.#pending;
  }

  /** @internal One delivery (from its own immediate callback). */
  deliver(receive: (message: M) => void, message: M): void {
    if (this.#closed) return;
    this.#pending--;
    try {
      receive(message);
    } catch (error) {
      this.#fault(error);
    }
  }
}

/** The immediate callback of one message (a plain function: no closure per message). */
function deliverOne<M>(delivery: LocalDelivery<M>, receive: (message: M) => void, message: M): void {
  delivery.deliver(receive, message);
}
