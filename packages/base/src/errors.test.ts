import { describe, expect, it } from 'vitest';
import { FosError, fosErrorCodes, hasFosErrorCode, isFosError, isFosErrorCode } from './errors.js';

describe('FosError', () => {
  it('carries its code, the offending value and details', () => {
    const error = new FosError('WOULD_BLOCK', 'mailbox m0/1/2 is full', { value: 'm0/1/2', details: { sequence: 4 } });
    expect(error.code).toBe('WOULD_BLOCK');
    expect(error.message).toBe('WOULD_BLOCK: mailbox m0/1/2 is full');
    expect(error.value).toBe('m0/1/2');
    expect(error.details.sequence).toBe(4);
    expect(error).toBeInstanceOf(Error);
  });

  it('is recognised by its brand, whichever copy of the package made it', () => {
    const foreign = Object.assign(new Error('x'), { code: 'TIMEOUT' });
    Object.defineProperty(foreign, Symbol.for('fos.error'), { value: true });
    expect(isFosError(foreign)).toBe(true);
    expect(isFosError(new Error('plain'))).toBe(false);
    expect(isFosError({ code: 'TIMEOUT' })).toBe(false);
    expect(isFosError(null)).toBe(false);
    expect(hasFosErrorCode(new FosError('CYCLE', 'a → b → a'), 'CYCLE')).toBe(true);
    expect(hasFosErrorCode(new FosError('CYCLE', 'a → b → a'), 'CONFLICT')).toBe(false);
  });

  it('has one closed list of codes', () => {
    expect(fosErrorCodes).toHaveLength(14);
    expect(isFosErrorCode('NO_SUCH_NAME')).toBe(true);
    expect(isFosErrorCode('ENOENT')).toBe(false);
  });
});
