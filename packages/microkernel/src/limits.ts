import { describeValue, FosError, messageBytesMax } from '@fos/base';
import { z } from 'zod';
import { parseChecked } from './internal/options.js';

// The kernel's limits (docs/rules.md, "Limits"), as named constants, each enforced with a clear
// FosError. Those of KernelLimits are defaults a machine may override; the limits of names and bodies
// (messageBytesMax, the default of KernelLimits.messageBytesMax, among them) are @fos/base's.

/** Messages waiting in one mailbox's receive queue. */
export const queueMessagesMax = 1024;
/** Bytes of one user-space channel ring. */
export const channelRingBytes = 256 * 1024;
/** Names valid for one mailbox. */
export const namesPerMailboxMax = 256;
/** Send capabilities valid for one mailbox. */
export const capabilitiesPerMailboxMax = 256;
/** Mailboxes one process may hold. */
export const mailboxesPerProcessMax = 64;
/** Processes on one core. */
export const processesPerCoreMax = 1024;
/**
 * Sends to other machines that the machine's proxy has taken and not yet answered; one more is
 * refused with `WOULD_BLOCK` (the proxy's back-pressure reaches the senders).
 */
export const proxyForwardsPendingMax = 65_536;
/** Sends of one process that the destination kernel has not yet answered. */
export const unacknowledgedSendsPerProcessMax = 1024;
/** Unchecked replies a name server may still owe one process (one per delivered request). */
export const uncheckedPermitsPerPairMax = 1024;
/** Cores of one machine. */
export const coresMax = 256;
/** Name servers registered with one machine. */
export const nameServersPerMachineMax = 64;
/** Receives waiting on one mailbox. */
export const receiversPerMailboxMax = 256;

/** The limits a kernel enforces; every field defaults to the constant of the same meaning. */
export interface KernelLimits {
  readonly messageBytesMax: number;
  readonly queueMessagesMax: number;
  readonly channelRingBytes: number;
  readonly namesPerMailboxMax: number;
  readonly capabilitiesPerMailboxMax: number;
  readonly mailboxesPerProcessMax: number;
  readonly processesPerCoreMax: number;
  readonly unacknowledgedSendsPerProcessMax: number;
}

/** The default {@link KernelLimits}. */
export const defaultKernelLimits: KernelLimits = Object.freeze({
  messageBytesMax,
  queueMessagesMax,
  channelRingBytes,
  namesPerMailboxMax,
  capabilitiesPerMailboxMax,
  mailboxesPerProcessMax,
  processesPerCoreMax,
  unacknowledgedSendsPerProcessMax,
});

const limitValue = z
  .number()
  .int()
  .min(1)
  .max(2 ** 30);
const kernelLimitsSchema = z.strictObject({
  messageBytesMax: limitValue.optional(),
  queueMessagesMax: limitValue.optional(),
  channelRingBytes: limitValue.optional(),
  namesPerMailboxMax: limitValue.optional(),
  capabilitiesPerMailboxMax: limitValue.optional(),
  mailboxesPerProcessMax: limitValue.optional(),
  processesPerCoreMax: limitValue.optional(),
  unacknowledgedSendsPerProcessMax: limitValue.optional(),
});

/**
 * Validates overrides of the default limits and returns the complete set. `BAD_REQUEST` names the
 * offending value: an unknown key, a value that is not a whole number in 1..2^30, or a channel ring
 * that is not a power of two able to hold two of the largest messages (docs/rules.md, "User-space channels").
 */
export function validateKernelLimits(overrides: unknown = {}): KernelLimits {
  const parsed = parseChecked(kernelLimitsSchema, overrides, 'limits', (issue) =>
    issue?.code === 'unrecognized_keys'
      ? `unknown limit ${describeValue(issue.keys[0])}`
      : `limit ${issue?.path.map(String).join('.') ?? '?'} is invalid: ${issue?.message ?? 'invalid'}`,
  );
  const limits: KernelLimits = {
    ...defaultKernelLimits,
    ...Object.fromEntries(Object.entries(parsed).filter(([, value]) => value !== undefined)),
  };
  const ring = limits.channelRingBytes;
  if ((ring & (ring - 1)) !== 0 || ring < 2 * (limits.messageBytesMax + 8)) {
    throw new FosError(
      'BAD_REQUEST',
      `channelRingBytes ${ring} must be a power of two holding two of the largest messages (messageBytesMax ${limits.messageBytesMax})`,
      { value: ring },
    );
  }
  return limits;
}
