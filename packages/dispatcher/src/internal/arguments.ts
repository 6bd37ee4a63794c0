// The checks of what callers hand the dispatcher: options, mailbox locations, destinations, call
// options, functions. A refusal is `BAD_REQUEST` naming the value with `describeValue`, thrown before
// anything changes. Each check looks at a value's type before it reads it, and reads an outside object
// only inside a try, so that a proxy or a getter that throws is `BAD_REQUEST` too; what it hands back is
// a fresh object of what it read, so nothing downstream reads the caller's object again.
import { describeValue, FosError, readArgument } from '@fos/base';
import { isCapability, type MailboxLocation } from '@fos/microkernel';
import { callTimeoutMsMax } from '../limits.js';
import type { CallOptions, Destination, ReplyAddress } from '../types.js';

/** The longest name a reply address or destination carries (as the wire's schema bounds it). */
const addressNameCharactersMax = 255;

/** The longest machine name a location carries (as the kernel's schema bounds it). */
const machineNameCharactersMax = 64;

/** Throws `BAD_REQUEST` with `message` and the offending `value`. */
export function refuse(message: string, value: unknown): never {
  throw new FosError('BAD_REQUEST', message, { value });
}

/** Re-exported for this package's checks: the one home of the rule is `@fos/base`. */
export { readArgument };

/** A rejected promise of `error` (a refusal of an operation that answers by its promise). */
export function rejection(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}

/** Throws unless `value` is an object (not null, not an array). */
export function checkRecord(value: unknown, what: string): asserts value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    refuse(`${what} is not an object: ${describeValue(value)}`, value);
}

/** Throws unless `value` is a function. */
export function checkFunction(value: unknown, what: string): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') refuse(`${what} is not a function: ${describeValue(value)}`, value);
}

/** Throws unless `value` is an object with a method of each name in `methods`. */
export function checkMethods(value: unknown, what: string, methods: readonly string[]): void {
  const complete = readArgument(
    value,
    what,
    () =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
  );
  if (!complete) refuse(`${what} must have the methods ${methods.join(', ')}: ${describeValue(value)}`, value);
}

/** A name as an address carries it: a string of 1 to 255 characters, or null when `nullable`. */
export function checkAddressName(name: unknown, what: string, nullable: boolean): string | null {
  if (name === null && nullable) return null;
  if (typeof name !== 'string' || name.length === 0 || name.length > addressNameCharactersMax)
    refuse(`${what} ${describeValue(name)} is not a string of 1 to ${addressNameCharactersMax} characters`, name);
  return name;
}

/** A mailbox location's shape (the kernel decides whether it names a mailbox of this process). */
export function checkedLocation(location: unknown, what = 'a mailbox location'): MailboxLocation {
  return readArgument(location, what, () => {
    checkRecord(location, what);
    const { machine, core, mailbox } = location;
    if (
      typeof machine !== 'string' ||
      machine.length === 0 ||
      machine.length > machineNameCharactersMax ||
      typeof core !== 'number' ||
      !Number.isSafeInteger(core) ||
      core < 0 ||
      typeof mailbox !== 'number' ||
      !Number.isSafeInteger(mailbox) ||
      mailbox < 1
    )
      refuse(`${describeValue(location)} is not ${what} ({ machine, core, mailbox })`, location);
    return { machine, core, mailbox };
  });
}

/** True for the shape every well-formed destination has, found without copying it (every send checks one). */
function isDestination(value: unknown): value is Destination {
  if (typeof value !== 'object' || value === null) return false;
  const { name, location, capability } = value as Record<string, unknown>;
  if (name !== null && (typeof name !== 'string' || name.length === 0 || name.length > addressNameCharactersMax))
    return false;
  if (capability !== undefined && typeof capability !== 'string') return false;
  if (location === undefined) return true;
  if (typeof location !== 'object' || location === null) return false;
  const { machine, core, mailbox } = location as Record<string, unknown>;
  return (
    typeof machine === 'string' &&
    machine.length <= machineNameCharactersMax &&
    typeof core === 'number' &&
    typeof mailbox === 'number'
  );
}

/**
 * A destination: a name (or null), and a location and a capability when it carries them (the send
 * function checks what they hold). A well-formed one is handed back as it is; anything else is
 * checked field by field, which words the refusal.
 */
export function checkedDestination(destination: unknown): Destination {
  try {
    if (isDestination(destination)) return destination;
  } catch {
    // A proxy or a getter that throws: the check below reads it again and refuses it.
  }
  return readArgument(destination, 'a destination', () => {
    checkRecord(destination, 'a destination');
    const { name, location, capability } = destination;
    const checked: { name: string | null; location?: MailboxLocation; capability?: string } = {
      name: checkAddressName(name, "a destination's name", true),
    };
    if (location !== undefined) checked.location = checkedLocation(location, "a destination's location");
    if (capability !== undefined) {
      if (typeof capability !== 'string')
        refuse(`a destination's capability ${describeValue(capability)} is not a string`, capability);
      checked.capability = capability;
    }
    return checked as Destination;
  });
}

/** A reply address: a name (or null), a location, a capability. */
export function checkedReplyAddress(address: unknown): ReplyAddress {
  const destination = checkedDestination(address);
  if (destination.location === undefined || !isCapability(destination.capability))
    refuse(`a reply address ${describeValue(address)} lacks its location or a capability`, address);
  return destination as ReplyAddress;
}

/** Options of `call`, `callAll`, `respondAndAwait` and `wait`: a timeout within `callTimeoutMsMax`, or `deadline: 'none'`. */
export function checkedCallOptions(options: unknown): CallOptions {
  if (options === undefined) return {};
  try {
    // The common shapes ({}, { timeoutMs }, { deadline: 'none' }) as they are, without a copy.
    if (typeof options === 'object' && options !== null) {
      const { timeoutMs, deadline } = options as Record<string, unknown>;
      if (
        (deadline === undefined || deadline === 'none') &&
        (timeoutMs === undefined || (typeof timeoutMs === 'number' && timeoutMs >= 0 && timeoutMs <= callTimeoutMsMax))
      )
        return options;
    }
  } catch {
    // A proxy or a getter that throws: the check below reads it again and refuses it.
  }
  return readArgument(options, 'call options', () => {
    checkRecord(options, 'call options');
    const { timeoutMs, deadline } = options;
    if (deadline !== undefined && deadline !== 'none')
      refuse(`deadline ${describeValue(deadline)} is not 'none'`, deadline);
    if (
      timeoutMs !== undefined &&
      (typeof timeoutMs !== 'number' || !(timeoutMs >= 0 && timeoutMs <= callTimeoutMsMax))
    )
      refuse(`timeoutMs ${describeValue(timeoutMs)} is outside 0..callTimeoutMsMax (${callTimeoutMsMax})`, timeoutMs);
    return {
      ...(timeoutMs === undefined ? {} : { timeoutMs: timeoutMs }),
      ...(deadline === undefined ? {} : { deadline: 'none' as const }),
    };
  });
}
