import { describe, expect, it } from 'vitest';
import { Fnv1a64, fnv1a32 } from './hash.js';

function referenceFnv1a64(bytes: Uint8Array): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}

describe('FNV-1a', () => {
  it('64-bit matches the published vectors and a BigInt reference', () => {
    const hashOf = (text: string): string => {
      const hash = new Fnv1a64();
      hash.updateText(text);
      return hash.digestHex();
    };
    expect(hashOf('')).toBe('cbf29ce484222325');
    expect(hashOf('a')).toBe('af63dc4c8601ec8c');
    for (const text of [
      'foobar',
      'a->b: {"x":1}',
      'ünïcødé ✓',
      'ascii then ü',
      'a😀b',
      '\u007f\u0080',
      'x'.repeat(1_000),
    ]) {
      expect(hashOf(text)).toBe(referenceFnv1a64(new TextEncoder().encode(text)));
    }
  });

  it('32-bit matches the published vectors', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
  });
});
