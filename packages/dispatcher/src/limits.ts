/** Live request threads of one mailbox, past which its requests wait in the mailbox (its queue bound then answers senders). */
export const liveThreadsPerMailboxMax = 256;
/** How long `call`, `callAll`, `respondAndAwait` and `wait` wait by default, in ms. */
export const callTimeoutMsDefault = 30_000;
/** The longest timeout a call may ask for, in ms (a day). */
export const callTimeoutMsMax = 86_400_000;
/** Calls of one `callAll`. */
export const callAllCallsMax = 1024;
/** Calls, follow-up waits and condition waits pending at once in one process. */
export const pendingOperationsMax = 65_536;
/** Mailboxes one dispatcher serves (besides its reply mailbox). */
export const dispatcherMailboxesMax = 64;

/** The limits a dispatcher enforces; each defaults to the constant of the same name. */
export interface DispatcherLimits {
  readonly liveThreadsPerMailboxMax: number;
  readonly callTimeoutMsDefault: number;
  readonly pendingOperationsMax: number;
}

/** The default {@link DispatcherLimits}. */
export const defaultDispatcherLimits: DispatcherLimits = Object.freeze({
  liveThreadsPerMailboxMax,
  callTimeoutMsDefault,
  pendingOperationsMax,
});
