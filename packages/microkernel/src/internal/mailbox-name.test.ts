import { describe, expect, it } from 'vitest';
import { codeOfCall } from '@fos/base/testing';
import { validateMailboxName } from './mailbox-name.js';

describe('mailbox names', () => {
  it('are plain names, never the name service name nor a sub-domain', () => {
    expect(validateMailboxName('/tmp/x1')).toBe('/tmp/x1');
    expect(codeOfCall(() => validateMailboxName('/sys/name'))).toBe('INVALID_NAME');
    expect(codeOfCall(() => validateMailboxName('/sys/*'))).toBe('INVALID_NAME');
  });
});
