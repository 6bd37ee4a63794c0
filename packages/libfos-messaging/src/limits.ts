/** Lookups one resolution may follow through indirect names before it answers `CYCLE` (a cycle, or a chain too long to follow). */
export const indirectionHopsMax = 16;
/** How long a send waits, backing off, for an inactive (migrating) name to become active again, in ms. */
export const inactiveWaitMsMax = 5_000;
/** The longest back-off between two Lookups of an inactive name, in ms. */
export const inactiveBackoffMsMax = 64;
/** How long a call to the name service may take, in ms. */
export const nameServiceCallTimeoutMs = 10_000;
/**
 * Name servers one name-service request tries before libfos answers `UNREACHABLE`: each try after
 * the first follows a refusal that left the request untouched (the member left its fleet, or went
 * away, and the kernel refused the delivery or the member answered `SHUTDOWN`).
 */
export const nameServerAttemptsMax = 4;
/**
 * The longest wait, in ms, before libfos asks the kernel again for a name server when the kernel
 * named one that has just refused (its unregistration is still on its way to this core's kernel).
 */
export const nameServerBackoffMsMax = 8;
/** Re-sends of one message refused with `WOULD_BLOCK` before the kernel path gives it up. */
export const sendRetriesMax = 1000;
/** The longest back-off between two re-sends of one message, in ms. */
export const sendBackoffMsMax = 64;

/** Sends to one mailbox under one intended name through the kernel before libfos opens a user-space channel there (0: never). */
export const channelAfterSends = 8;
/** User-space channels one process keeps open at most (each holds a ring of the kernel's `channelRingBytes`). */
export const channelsPerProcessMax = 16;

/** The limits of one process's libfos; each defaults to the constant of the same name. */
export interface LibfosLimits {
  readonly indirectionHopsMax: number;
  readonly inactiveWaitMsMax: number;
  readonly nameServiceCallTimeoutMs: number;
  readonly channelAfterSends: number;
  readonly channelsPerProcessMax: number;
}

/** The default {@link LibfosLimits}. */
export const defaultLibfosLimits: LibfosLimits = Object.freeze({
  indirectionHopsMax,
  inactiveWaitMsMax,
  nameServiceCallTimeoutMs,
  channelAfterSends,
  channelsPerProcessMax,
});
