import { createHash } from 'node:crypto';
import { SeededRandom } from '@fos/sim';
import { describe, expect, it } from 'vitest';
import { CryptoRandom, hasFosErrorCode } from '@fos/base';
import { codeOf, codeOfCall } from '@fos/base/testing';
import {
  cachedCapabilityHashes,
  capabilityEquals,
  capabilityHashesCachedMax,
  hashCapability,
  hashCheckedCapability,
  isCapability,
  mintCapability,
  validateCapability,
  type Capability,
} from './capability.js';
import { namedMailbox, processOn, testMachine } from './internal/testing.js';

function flipOneBit(capability: Capability, bit: number): Capability {
  const bytes = Buffer.from(capability, 'base64url');
  bytes[bit >> 3]! ^= 1 << (bit & 7);
  return bytes.toString('base64url') as Capability;
}

const base64url = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * The 15 texts that decode to the same 16 bytes as `capability` but are not it: the last character
 * carries 2 bits of the last byte and 4 unused bits, set here to each non-zero value.
 */
function twinsOf(capability: Capability): Capability[] {
  const last = base64url.indexOf(capability.slice(-1));
  expect(last & 15).toBe(0);
  return Array.from(
    { length: 15 },
    (_, index) => `${capability.slice(0, -1)}${base64url[last | (index + 1)]}` as Capability,
  );
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

  it('mints only canonical text: the last character is A, Q, g or w (100,000 seeded and 1,000 cryptographic draws)', () => {
    const seeded = new SeededRandom(11);
    const crypto = new CryptoRandom();
    const lasts = new Set<string>();
    const notCanonical: string[] = [];
    for (let draw = 0; draw < 101_000; draw++) {
      const capability = mintCapability(draw < 100_000 ? seeded : crypto);
      if (!isCapability(capability)) notCanonical.push(capability);
      lasts.add(capability.slice(-1));
    }
    expect(notCanonical).toEqual([]);
    expect([...lasts].sort()).toEqual(['A', 'Q', 'g', 'w']);
  });

  it('refuses the 15 non-canonical twins of a capability: not a capability, not equal to it', () => {
    const capability = mintCapability(new SeededRandom(4));
    const twins = twinsOf(capability);
    expect(new Set(twins.map((twin) => Buffer.from(twin, 'base64url').toString('hex')))).toEqual(
      new Set([Buffer.from(capability, 'base64url').toString('hex')]),
    );
    for (const twin of twins) {
      expect(isCapability(twin)).toBe(false);
      expect(codeOfCall(() => validateCapability(twin))).toBe('PERMISSION_DENIED');
      expect(codeOfCall(() => hashCapability(twin))).toBe('PERMISSION_DENIED');
      expect(capabilityEquals(capability, twin)).toBe(false);
      expect(capabilityEquals(twin, twin)).toBe(false);
    }
    expect(capabilityEquals(capability, capability)).toBe(true);
  });
});

describe.each(['local', 'sim'] as const)('non-canonical capabilities in the kernel on %s fabric', (kind) => {
  it('refuses every twin wherever a capability is taken, and the capability itself still works', async () => {
    const { machine } = testMachine(kind, { cores: 3, seed: 21 });
    try {
      const owner = await processOn(machine, 1, 'owner');
      const client = await processOn(machine, 2, 'client');
      const server = await namedMailbox(owner.kernel, '/twin/server');
      const successor = await namedMailbox(client.kernel, '/twin/successor');
      const { kernel } = client;
      const codes = new Set<string>();
      for (const twin of twinsOf(server.capability)) {
        codes.add(await codeOf(kernel.ukSend('/twin/server', server.location, twin, 'x')));
        codes.add(await codeOf(kernel.createChannel('/twin/server', server.location, twin)));
        codes.add(await codeOf(owner.kernel.removeCapability(server.location, twin)));
        codes.add(await codeOf(owner.kernel.ukNameServiceRegister(server.location, machine.kernelCapability, twin)));
      }
      for (const twin of twinsOf(successor.capability))
        codes.add(await codeOf(owner.kernel.moveMailbox(server.location, successor.location, twin)));
      for (const twin of twinsOf(machine.kernelCapability)) {
        codes.add(await codeOf(owner.kernel.ukNameServiceRegister(server.location, twin, server.capability)));
        codes.add(await codeOf(owner.kernel.ukNameServiceUnregister(server.location, twin)));
        codes.add(await codeOf(kernel.ukUncheckedSend(twin, server.location, 'x')));
        codes.add(await codeOf(kernel.ukAddAlias(twin, server.location, '/twin/alias')));
        codes.add(await codeOf(kernel.ukRemoveAlias(twin, server.location, '/twin/server')));
      }
      expect([...codes]).toEqual(['PERMISSION_DENIED']);
      // Nothing changed: the capability, its name and the mailbox are as they were.
      expect(await owner.kernel.mailboxNames(server.location)).toEqual(['/twin/server']);
      await kernel.ukSend('/twin/server', server.location, server.capability, 'canonical');
      expect((await owner.kernel.receive(server.location)).body).toBe('canonical');
    } finally {
      await machine.shutdown();
    }
  });
});

describe('the hashes a thread remembers', () => {
  const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64url');

  it('answers the SHA-256 of the text, remembered or not, and remembers at most capabilityHashesCachedMax', () => {
    const random = new SeededRandom(7);
    const capabilities = Array.from({ length: capabilityHashesCachedMax + 300 }, () => mintCapability(random));
    for (const capability of capabilities) expect(hashCheckedCapability(capability)).toBe(sha256(capability));
    expect(cachedCapabilityHashes()).toBe(capabilityHashesCachedMax);
    // Remembered (the latest) and forgotten (the first) alike.
    for (const capability of [capabilities.at(-1)!, capabilities[0]!])
      expect(hashCheckedCapability(capability)).toBe(sha256(capability));
    expect(cachedCapabilityHashes()).toBe(capabilityHashesCachedMax);
  });
});
