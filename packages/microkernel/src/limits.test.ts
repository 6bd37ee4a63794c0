import { describe, expect, it } from 'vitest';
import { hasFosErrorCode } from '@fos/base';
import { defaultKernelLimits, validateKernelLimits } from './limits.js';
import { LocalFabric } from './local-fabric.js';
import { Machine } from './machine.js';

function refusal(overrides: unknown): string {
  try {
    validateKernelLimits(overrides);
    return 'accepted';
  } catch (error) {
    return hasFosErrorCode(error, 'BAD_REQUEST') ? error.message : String(error);
  }
}

describe('kernel limits', () => {
  it('fills in the defaults', () => {
    expect(validateKernelLimits()).toEqual(defaultKernelLimits);
    expect(validateKernelLimits({ queueMessagesMax: 8 })).toEqual({ ...defaultKernelLimits, queueMessagesMax: 8 });
    expect(defaultKernelLimits).toMatchObject({
      messageBytesMax: 65_536,
      queueMessagesMax: 1024,
      channelRingBytes: 262_144,
    });
  });

  it('refuses bad overrides with BAD_REQUEST naming them', () => {
    expect(refusal({ queueMessagesMax: -1 })).toMatch(/limit queueMessagesMax is invalid/);
    expect(refusal({ queueMessagesMax: 1.5 })).toMatch(/queueMessagesMax/);
    expect(refusal({ queueMesagesMax: 4 })).toMatch(/unknown limit "queueMesagesMax"/);
    expect(refusal({ channelRingBytes: 100_000 })).toMatch(/power of two/);
    expect(refusal({ channelRingBytes: 65_536 })).toMatch(/two of the largest messages/);
    expect(refusal({ channelRingBytes: 65_536, messageBytesMax: 1024 })).toBe('accepted');
  });

  it('are checked when a machine is made', () => {
    expect(() => new Machine({ fabric: new LocalFabric({ cores: 1 }), limits: { queueMessagesMax: 0 } })).toThrow(
      /BAD_REQUEST/,
    );
  });
});
