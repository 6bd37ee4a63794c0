import { z } from 'zod';
import { describeValue, FosError } from '@fos/base';

/** Where a mailbox lives. Mailbox ids are never reused, so a stale location fails and never reaches a new mailbox. */
// Types, not interfaces: a location travels inside message bodies, and only a type alias is
// assignable to the index signature of MessageBody.
export type MailboxLocation = {
  readonly machine: string;
  readonly core: number;
  readonly mailbox: number;
};

/** Who sent a message, stamped by the kernel; no sender can set or forge it. */
export type SenderIdentity = {
  readonly machine: string;
  readonly core: number;
  readonly process: string;
};

/**
 * What the schema checks of a value: a primitive as it is, the three fields of an object, each read
 * once inside a try. Arrays, functions and objects whose getters or proxy traps throw fail here (the
 * parse stops at the first issue), and the schema never sees them: a proxy throws even when asked
 * whether it is a Promise, and `safeParse` must not throw.
 */
function readLocationFields(value: unknown, context: z.core.ParsePayload): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return value;
  try {
    if (typeof value === 'object' && !Array.isArray(value)) {
      const { machine, core, mailbox } = value as { machine?: unknown; core?: unknown; mailbox?: unknown };
      return { machine, core, mailbox };
    }
    context.issues.push({
      code: 'custom',
      message: `a location is an object, not ${typeof value === 'function' ? 'a function' : 'an array'}`,
      input: undefined,
    });
  } catch {
    context.issues.push({
      code: 'custom',
      message: 'the location cannot be read (a getter or proxy throws)',
      input: undefined,
    });
  }
  return undefined;
}

/**
 * The schema of a {@link MailboxLocation} at a boundary. Its `safeParse` never throws, whatever the
 * value (an object that throws when read fails the parse).
 */
export const mailboxLocationSchema = z.preprocess(
  readLocationFields,
  z.object({
    machine: z.string().min(1).max(64),
    core: z.number().int().min(0),
    mailbox: z.number().int().min(1),
  }),
);

/** The location `value` is, when it certainly is one (the common case, without the schema's cost). */
function plainLocation(value: unknown): MailboxLocation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { machine, core, mailbox } = value as { machine?: unknown; core?: unknown; mailbox?: unknown };
  if (
    typeof machine === 'string' &&
    machine.length >= 1 &&
    machine.length <= 64 &&
    Number.isSafeInteger(core) &&
    (core as number) >= 0 &&
    Number.isSafeInteger(mailbox) &&
    (mailbox as number) >= 1
  ) {
    return { machine, core: core as number, mailbox: mailbox as number };
  }
  return undefined;
}

/** Validates a location given at a boundary; `BAD_REQUEST` names the offending value. */
export function validateLocation(value: unknown): MailboxLocation {
  // Every system call checks a location: the common case goes without the schema; anything it does
  // not accept (an object that throws when read among them) goes to the schema, which decides and
  // words the error.
  try {
    const location = plainLocation(value);
    if (location !== undefined) return location;
  } catch {
    // The schema's parse reads the value again, safely, and refuses it.
  }
  const parsed = mailboxLocationSchema.safeParse(value);
  if (!parsed.success) {
    throw new FosError(
      'BAD_REQUEST',
      `${describeValue(value)} is not a mailbox location: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      { value },
    );
  }
  return parsed.data;
}

/** `machine/core/mailbox`, for messages and keys. `BAD_REQUEST` for a value that is not a location. */
export function formatLocation(location: MailboxLocation): string {
  return locationText(validateLocation(location));
}

/** @internal {@link formatLocation} of a location the kernel has checked already. */
export function locationText(location: MailboxLocation): string {
  return `${location.machine}/${location.core}/${location.mailbox}`;
}

/** True when two locations denote the same mailbox. `BAD_REQUEST` when either is not a location. */
export function sameLocation(left: MailboxLocation, right: MailboxLocation): boolean {
  const first = validateLocation(left);
  const second = validateLocation(right);
  return first.machine === second.machine && first.core === second.core && first.mailbox === second.mailbox;
}
