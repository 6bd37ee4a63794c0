import type { MessageBody } from '@fos/base';
import { canonicalText } from './canonical.js';

const twoPow32 = 2 ** 32;

/**
 * FNV-1a 64 over the UTF-8 bytes of `text`, as 16 hex digits. Two 32-bit halves instead of BigInt:
 * the store hashes whole tables after every step of a model-based test, and this is about 20 times
 * faster. The prime is 2^40 + 0x1b3, so a product is `x * 0x1b3 + (x << 40)` modulo 2^64.
 */
export function fnv1a64Hex(text: string): string {
  let low = 0x84222325;
  let high = 0xcbf29ce4;
  for (const byte of Buffer.from(text, 'utf8')) {
    low = (low ^ byte) >>> 0;
    const lowProduct = low * 0x1b3; // below 2^41: exact in a double
    const carry = Math.floor(lowProduct / twoPow32);
    high = (Math.imul(high, 0x1b3) + (low << 8) + carry) >>> 0;
    low = lowProduct >>> 0;
  }
  return high.toString(16).padStart(8, '0') + low.toString(16).padStart(8, '0');
}

/** The hash of a table given as sorted `{ key, value, version }` entries: equal tables, equal hashes. */
export function tableHash(
  entries: ReadonlyArray<{ readonly key: string; readonly value: MessageBody; readonly version: number }>,
): string {
  return fnv1a64Hex(
    entries.map(({ key, value, version }) => `${JSON.stringify(key)}@${version}=${canonicalText(value)}`).join('\n'),
  );
}
