import { createHash, timingSafeEqual } from 'node:crypto';
import { FosError, type RandomSource } from '@fos/base';

/** 128 random bits in base64url (22 characters): a send, namespace, name, kernel or management capability. */
export type Capability = string & { readonly __capability: unique symbol };

/** Bytes of a capability. */
export const capabilityBytes = 16;
const capabilityPattern = /^[A-Za-z0-9_-]{22}$/;

/** Mints a fresh capability from the injected random source (seeded under SimFabric). */
export function mintCapability(random: RandomSource): Capability {
  const bytes = new Uint8Array(capabilityBytes);
  random.fillBytes(bytes);
  return Buffer.from(bytes).toString('base64url') as Capability;
}

/** True when `value` has the form of a capability. */
export function isCapability(value: unknown): value is Capability {
  return typeof value === 'string' && capabilityPattern.test(value);
}

/** Validates a capability given at a boundary; `PERMISSION_DENIED` when it is not one. */
export function validateCapability(value: unknown): Capability {
  if (!isCapability(value)) {
    throw new FosError('PERMISSION_DENIED', `${JSON.stringify(value)} is not a capability (22 base64url characters)`, {
      value,
    });
  }
  return value;
}

/** Compares two capabilities in constant time. */
export function capabilityEquals(left: Capability, right: Capability): boolean {
  const leftBytes = Buffer.from(left, 'base64url');
  const rightBytes = Buffer.from(right, 'base64url');
  return leftBytes.length === rightBytes.length && timingSafeEqual(leftBytes, rightBytes);
}

/** The hash a table keeps instead of the capability itself (SHA-256, base64url). */
export function hashCapability(capability: Capability): string {
  return createHash('sha256').update(capability).digest('base64url');
}
