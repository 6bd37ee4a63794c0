import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOfCall } from '@fos/base/testing';
import { mailboxLocationSchema, validateLocation } from './location.js';

describe('validateLocation', () => {
  it('agrees with the schema on every value: the same location, or BAD_REQUEST where the schema refuses', () => {
    const number = fc.oneof(
      fc.integer({ min: -3, max: 5 }),
      fc.double(),
      fc.constantFrom(2 ** 53, 2 ** 53 - 1, -0, Number.NaN),
      fc.string({ maxLength: 2 }),
    );
    const candidate = fc.oneof(
      fc.record(
        { machine: fc.oneof(fc.string({ maxLength: 70 }), fc.integer()), core: number, mailbox: number },
        { requiredKeys: [] },
      ),
      fc.record({ machine: fc.constant('m0'), core: number, mailbox: number, extra: fc.anything() }),
      fc.anything(),
    );
    fc.assert(
      fc.property(candidate, (value) => {
        const parsed = mailboxLocationSchema.safeParse(value);
        if (parsed.success) expect(validateLocation(value)).toEqual(parsed.data);
        else expect(codeOfCall(() => validateLocation(value))).toBe('BAD_REQUEST');
      }),
      { numRuns: 5_000 },
    );
    expect(codeOfCall(() => validateLocation({ machine: 'm0', core: 1, mailbox: 0 }))).toBe('BAD_REQUEST');
  });
});
