import { FosError } from '@fos/base';
import { describe, expect, it } from 'vitest';
import { deserializeFosError, serializeFosError } from './serialized-error.js';

describe('a FosError between threads', () => {
  it('survives a trip between cores with its code, message and sequence number', () => {
    const error = new FosError('PERMISSION_DENIED', 'no', { details: { sequence: 9 } });
    const copy = deserializeFosError(structuredClone(serializeFosError(error)));
    expect(copy.code).toBe('PERMISSION_DENIED');
    expect(copy.message).toBe(error.message);
    expect(copy.details.sequence).toBe(9);
  });
});
