import { z } from 'zod';
import { FosError } from '@fos/base';

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

/** The schema of a {@link MailboxLocation} at a boundary. */
export const mailboxLocationSchema = z.object({
  machine: z.string().min(1).max(64),
  core: z.number().int().min(0),
  mailbox: z.number().int().min(1),
});

/** Validates a location given at a boundary; `BAD_REQUEST` names the offending value. */
export function validateLocation(value: unknown): MailboxLocation {
  // The common case without the schema's cost (every system call checks a location); anything this
  // does not accept goes to the schema, which decides and words the error.
  if (typeof value === 'object' && value !== null) {
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
  }
  const parsed = mailboxLocationSchema.safeParse(value);
  if (!parsed.success) {
    throw new FosError(
      'BAD_REQUEST',
      `${safeText(value)} is not a mailbox location: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      { value },
    );
  }
  return parsed.data;
}

/** `machine/core/mailbox`, for messages and keys. */
export function formatLocation(location: MailboxLocation): string {
  return `${location.machine}/${location.core}/${location.mailbox}`;
}

/** True when two locations denote the same mailbox. */
export function sameLocation(left: MailboxLocation, right: MailboxLocation): boolean {
  return left.machine === right.machine && left.core === right.core && left.mailbox === right.mailbox;
}

function safeText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
