import { SeededRandom } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { hasFosErrorCode } from '@fos/base';
import {
  capabilityEquals,
  hashCapability,
  isCapability,
  mintCapability,
  validateCapability,
  type Capability,
} from './capability.js';

function flipOneBit(capability: Capability, bit: number): Capability {
  const bytes = Buffer.from(capability, 'base64url');
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return bytes.toString('base64url') as Capability;
}

describe('capabilities', () => {
  it('mints 128 bits as 22 base64url characters, reproducibly from a seed', () => {
    const first = mintCapability(new SeededRandom(7));
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(Buffer.from(first, 'base64url')).toHaveLength(16);
    expect(mintCapability(new SeededRandom(7))).toBe(first);
    expect(mintCapability(new SeededRandom(8))).not.toBe(first);
  });

  it('compares equal only when every bit matches', () => {
    const capability = mintCapability(new SeededRandom(1));
    expect(capabilityEquals(capability, capability)).toBe(true);
    for (let bit = 0; bit < 128; bit += 13) {
      const other = flipOneBit(capability, bit);
      expect(capabilityEquals(capability, other)).toBe(false);
      expect(hashCapability(other)).not.toBe(hashCapability(capability));
    }
  });

  it('validates its form at the boundary', () => {
    expect(isCapability('short')).toBe(false);
    expect(isCapability(42)).toBe(false);
    expect(() => validateCapability('not a capability!!!!!!')).toThrow(/PERMISSION_DENIED/);
    try {
      validateCapability('x');
    } catch (error) {
      expect(hasFosErrorCode(error, 'PERMISSION_DENIED')).toBe(true);
    }
  });
});
