import type { MessageBody } from '@fos/base';
import type { Capability, MailboxLocation, SenderIdentity } from '@fos/microkernel';
import type { Thread } from './thread.js';

/**
 * Where a message goes, as the injected send function understands it: the intended name, the
 * mailbox's location and a send capability. libfos resolves a name to these before it sends (its
 * send path refuses a destination that lacks them with `BAD_REQUEST`).
 */
export type Destination = {
  /** The intended name; null only for a reply mailbox that has no name yet (answered unchecked, §5.2). */
  readonly name: string | null;
  readonly location?: MailboxLocation;
  readonly capability?: Capability;
};

/**
 * Where replies to a request go, carried in the request: a name of the reply mailbox (its canonical
 * alias; null before it has one, when only a name server can answer it, unchecked), its location and a
 * send capability.
 */
export type ReplyAddress = {
  readonly name: string | null;
  readonly location: MailboxLocation;
  readonly capability: Capability;
};

/**
 * How the dispatcher sends: the one way out of the process, injected, so that the dispatcher never
 * imports the messaging library (libfos's send path in a fos process; `rawSendFunction` of
 * `@fos/dispatcher/testing` in tests). Resolves once the kernel accepted the message; rejects with a
 * `FosError` otherwise.
 */
export type SendFunction = (destination: Destination, body: MessageBody) => Promise<void>;

/** What is left of a request's time: milliseconds, or `'none'` for exchanges that must not time out. */
export type Budget = number | 'none';

/** Options of `call`, `callAll` and `respondAndAwait`. */
export interface CallOptions {
  /** Give up after this long (default `callTimeoutMsDefault`), and never later than the thread's own deadline. */
  readonly timeoutMs?: number;
  /** `'none'`: no timeout at all, and the request carries no deadline (two-phase commit). Explicit only. */
  readonly deadline?: 'none';
}

/** A request as its handler sees it. */
export interface IncomingRequest {
  /** The payload the caller sent. */
  readonly body: MessageBody;
  /** The sending process, stamped by the kernel. */
  readonly sender: SenderIdentity;
  /** The intended name the sender used. */
  readonly destinationName: string | null;
  /** False for a one-way message (`send`): nothing is answered. */
  readonly expectsReply: boolean;
  /** When the handling thread's budget runs out (machine clock, ms); undefined for `'none'`. */
  readonly deadlineMs: number | undefined;
}

/**
 * Handles one request in its own cooperative thread. What it returns is the response (unless it
 * responded already); a `FosError` it throws is answered as that error; anything else it throws is a
 * bug and crashes the process.
 */
export type RequestHandler = (
  request: IncomingRequest,
  thread: Thread,
) => Promise<MessageBody | void> | MessageBody | void;
