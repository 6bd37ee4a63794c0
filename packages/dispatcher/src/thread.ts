import type { FosError, MessageBody } from '@fos/base';
import type { CallOptions, Destination, IncomingRequest } from './types.js';

/** The follow-up half of an exchange (thesis Figures 4-1 to 4-3): answer the responder that waits in `respondAndAwait`. */
export interface Exchange {
  /** Sends `body` to the responder's thread that waits in `respondAndAwait`; parks until the kernel accepts it. */
  followUp(body: MessageBody): Promise<void>;
}

/** What a `call` resolves to. */
export interface CallResult {
  /** The response. */
  readonly body: MessageBody;
  /** The exchange, for a follow-up to a responder that waits for one. */
  readonly exchange: Exchange;
}

/** One call of `callAll`. */
export interface CallSpec {
  readonly destination: Destination;
  readonly body: MessageBody;
}

/** The outcome of one call of `callAll`. */
export type CallOutcome =
  | { readonly ok: true; readonly body: MessageBody; readonly exchange: Exchange }
  | { readonly ok: false; readonly error: FosError };

/** A condition variable: `signal` and `broadcast` do not yield; woken threads run in FIFO order before the next message. */
export interface Condition {
  /** Wakes the longest-waiting thread, if any. */
  signal(): void;
  /** Wakes every waiting thread, in the order they began to wait. */
  broadcast(): void;
  /** Threads waiting now. */
  readonly waiting: number;
}

/**
 * A cooperative thread (thesis §2.3, §5.3). It awaits one dispatcher operation at a time; between two
 * of them nothing else of the process runs, so that code needs no locks.
 */
export interface Thread {
  /** For logs and assertions: `request#7 on /svc/echo`, `main`. */
  readonly name: string;
  /** When this thread's budget runs out (machine clock, ms); undefined when it has none. */
  readonly deadlineMs: number | undefined;
  /** The request this thread handles (its sender, name, body); undefined for a spawned thread. */
  readonly request: IncomingRequest | undefined;
  /** Sends a request and sleeps until its response arrives; rejects with the responder's `FosError` or `TIMEOUT`. */
  call(destination: Destination, body: MessageBody, options?: CallOptions): Promise<CallResult>;
  /** Several calls at once; wakes once, when every one has answered or timed out. */
  callAll(calls: readonly CallSpec[], options?: CallOptions): Promise<CallOutcome[]>;
  /** A one-way message; parks until the kernel accepts it. */
  send(destination: Destination, body: MessageBody): Promise<void>;
  /** Answers the request this thread handles (once). Parks until the kernel accepts it. */
  respond(body: MessageBody): Promise<void>;
  /** Answers the request this thread handles and sleeps until the requester's follow-up arrives; resolves with it. */
  respondAndAwait(body: MessageBody, options?: CallOptions): Promise<MessageBody>;
  /** Sleeps on the machine clock. */
  sleep(delayMs: number): Promise<void>;
  /** Waits on a condition variable; `TIMEOUT` after `timeoutMs` or at the thread's deadline. */
  wait(condition: Condition, options?: CallOptions): Promise<void>;
  /** Waits for any other Promise (a system call, say) as a dispatcher operation. */
  waitFor<T>(promise: Promise<T>): Promise<T>;
}
