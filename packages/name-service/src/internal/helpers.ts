import { timingSafeEqual } from 'node:crypto';
import type { RandomSource } from '@fos/base';
import type { NameEntry } from '../entry.js';

/** Compares two capability hashes in constant time. */
export function hashesEqual(left: string, right: string): boolean {
  const leftBytes = Buffer.from(left, 'base64url');
  const rightBytes = Buffer.from(right, 'base64url');
  return leftBytes.length === rightBytes.length && timingSafeEqual(leftBytes, rightBytes);
}

/** JSON with sorted keys: equal entries give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record)
      .filter((key) => record[key] !== undefined)
      .sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** True when two entries hold the same fields. */
export function sameEntry(left: NameEntry, right: NameEntry): boolean {
  return canonicalJson(left) === canonicalJson(right);
}

const base32Alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
/** Characters of a temporary name's last segment: 16 base32 characters, 80 random bits. */
export const temporaryNameCharacters = 16;

/** A meaningless name under `/tmp/*`: `/tmp/` and 16 base32 characters from the injected source. */
export function temporaryName(random: RandomSource): string {
  const bytes = new Uint8Array((temporaryNameCharacters * 5) / 8);
  random.fillBytes(bytes);
  let text = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      text += base32Alphabet[(buffer >>> (bits - 5)) & 31] ?? '';
      bits -= 5;
    }
  }
  return `/tmp/${text}`;
}

/** The entry with its referrers replaced (the field left out when there are none). */
export function withReferrers(entry: NameEntry, referrers: readonly string[]): NameEntry {
  const { referrers: _old, ...rest } = entry;
  return referrers.length === 0 ? rest : { ...rest, referrers };
}
