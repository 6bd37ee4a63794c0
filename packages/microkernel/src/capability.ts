import { createHash, timingSafeEqual } from 'node:crypto';
import { describeValue, FosError, type RandomSource } from '@fos/base';

/** 128 random bits in base64url (22 characters): a send, namespace, name, kernel or management capability. */
export type Capability = string & { readonly __capability: unique symbol };

/** Bytes of a capability. */
export const capabilityBytes = 16;
// 16 bytes are 128 bits, and 22 base64url characters carry 132: the last character holds 2 bits of
// the last byte and 4 unused bits. Only the text with those 4 bits zero (the last character one of
// A, Q, g, w) is the capability; the 15 other texts that decode to the same bytes are not, so that
// comparing texts, hashing texts and comparing bytes all agree.
const capabilityPattern = /^[A-Za-z0-9_-]{21}[AQgw]$/;

/** Mints a fresh capability from the injected random source (seeded under SimFabric). */
export function mintCapability(random: RandomSource): Capability {
  const bytes = new Uint8Array(capabilityBytes);
  random.fillBytes(bytes);
  return Buffer.from(bytes).toString('base64url') as Capability;
}

/**
 * True when `value` is the canonical text of a capability: 22 base64url characters whose last one
 * leaves the 4 unused bits zero (what {@link mintCapability} writes).
 */
export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && capabilityPattern.test(value);
}

/**
 * Validates a capability given at a boundary; `PERMISSION_DENIED` when it is not the canonical text of
 * one (a capability that cannot be valid for anything is refused as an invalid one is).
 */
export function validateCapability(value: unknown): Capability {
  if (!isCapability(value)) {
    throw new FosError(
      'PERMISSION_DENIED',
      `${describeValue(value)} is not a capability (22 base64url characters, the last one A, Q, g or w)`,
      { value },
    );
  }
  return value;
}

/**
 * True when two capabilities are the same text, compared in constant time; false when either is not
 * a capability (a non-canonical twin of a capability is not equal to it, as the kernel's tables,
 * which hash the text, do not take it for it either).
 */
export function capabilityEquals(left: Capability, right: Capability): boolean {
  if (!isCapability(left) || !isCapability(right)) return false;
  // Both are 22 ASCII characters: their bytes have the same length, as timingSafeEqual needs.
  return timingSafeEqual(Buffer.from(left, 'latin1'), Buffer.from(right, 'latin1'));
}

/**
 * The hash a table keeps instead of the capability itself (SHA-256 of its text, base64url);
 * `PERMISSION_DENIED` for a value that is not a capability.
 */
export function hashCapability(capability: Capability): string {
  return hashCheckedCapability(validateCapability(capability));
}

/**
 * Capability hashes a thread remembers (every delivery checks one: a SHA-256 costs about 2 µs, a
 * lookup well under one); the oldest is forgotten first.
 */
export const capabilityHashesCachedMax = 1024;
const recentHashes = new Map<string, string>();

/** @internal How many capability hashes this thread remembers now (for the test of its bound). */
export function cachedCapabilityHashes(): number {
  return recentHashes.size;
}

/**
 * @internal {@link hashCapability} of a capability checked already (at the boundary of the system
 * call that brought it): the kernel's delivery path does not check it twice.
 */
export function hashCheckedCapability(capability: Capability): string {
  const known = recentHashes.get(capability);
  if (known !== undefined) return known;
  const hash = createHash('sha256').update(capability).digest('base64url');
  // The oldest entry goes first: the capabilities in use keep coming back.
  if (recentHashes.size >= capabilityHashesCachedMax) recentHashes.delete(recentHashes.keys().next().value!);
  recentHashes.set(capability, hash);
  return hash;
}
