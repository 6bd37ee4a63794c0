import { describe, expect, it } from 'vitest';
import { hasFosErrorCode } from './errors.js';
import { codeOfCall } from './testing.js';
import { aliasOf, isUnderSubdomain, parentDomain, parseName, validateName, validateSubdomain } from './names.js';

describe('names', () => {
  it('parses names and sub-domains', () => {
    expect(parseName('/sys/fs/1')).toEqual({ text: '/sys/fs/1', segments: ['sys', 'fs', '1'], isSubdomain: false });
    expect(parseName('/sys/fs/*')).toEqual({ text: '/sys/fs/*', segments: ['sys', 'fs'], isSubdomain: true });
    expect(parseName('/*')).toEqual({ text: '/*', segments: [], isSubdomain: true });
    expect(validateName('/a.b_c-d/E9')).toBe('/a.b_c-d/E9');
  });

  it.each([
    ['relative', 'sys/fs'],
    ['empty', ''],
    ['empty segment', '/sys//fs'],
    ['trailing slash', '/sys/'],
    ['dot segment', '/sys/./fs'],
    ['dot-dot segment', '/sys/../fs'],
    ['bad character', '/sys/f s'],
    ['star inside', '/sys/*/fs'],
    ['segment too long', `/${'a'.repeat(65)}`],
    ['too deep', '/a'.repeat(17)],
    ['too long', `/${'abcdefgh/'.repeat(28)}x`],
  ])('refuses a %s name with INVALID_NAME', (_why, text) => {
    expect(codeOfCall(() => parseName(text))).toBe('INVALID_NAME');
  });

  it('accepts the limits exactly', () => {
    expect(() => parseName(`/${'a'.repeat(64)}`)).not.toThrow();
    expect(() => parseName('/a'.repeat(16))).not.toThrow();
  });

  it('names the offending value', () => {
    try {
      validateName('/bad name');
      expect.unreachable();
    } catch (error) {
      expect(hasFosErrorCode(error, 'INVALID_NAME') && error.value).toBe('/bad name');
      expect(String(error)).toContain('/bad name');
    }
  });

  it('keeps names and sub-domains apart', () => {
    expect(codeOfCall(() => validateName('/sys/*'))).toBe('INVALID_NAME');
    expect(codeOfCall(() => validateSubdomain('/sys'))).toBe('INVALID_NAME');
  });

  it('knows what lies under a sub-domain', () => {
    expect(isUnderSubdomain('/sys/*', '/sys/fs')).toBe(true);
    expect(isUnderSubdomain('/sys/*', '/sys/fs/*')).toBe(true);
    expect(isUnderSubdomain('/sys/*', '/sys/fs/1')).toBe(true);
    expect(isUnderSubdomain('/sys/*', '/sys/*')).toBe(false);
    expect(isUnderSubdomain('/sys/*', '/sys')).toBe(false);
    expect(isUnderSubdomain('/sys/*', '/system/x')).toBe(false);
    expect(isUnderSubdomain('/sys/fs/*', '/sys/net')).toBe(false);
    expect(isUnderSubdomain('/*', '/anything')).toBe(true);
    expect(isUnderSubdomain('/sys/fs', '/sys/fs/1')).toBe(false);
  });

  it('finds the parent domain', () => {
    expect(parentDomain('/sys/fs/1')).toBe('/sys/fs/*');
    expect(parentDomain('/sys/fs/*')).toBe('/sys/*');
    expect(parentDomain('/sys')).toBe('/*');
    expect(codeOfCall(() => parentDomain('/*'))).toBe('INVALID_NAME');
  });

  it('computes FNV-1a 64 aliases', () => {
    // Published FNV-1a 64-bit test vectors.
    expect(aliasOf('')).toBe(0xcbf29ce484222325n);
    expect(aliasOf('a')).toBe(0xaf63dc4c8601ec8cn);
    expect(aliasOf('foobar')).toBe(0x85944171f73967e8n);
    expect(aliasOf('/sys/fs')).not.toBe(aliasOf('/sys/fs/1'));
  });
});
