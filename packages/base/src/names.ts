import { describeValue } from './describe.js';
import { FosError } from './errors.js';
import { nameCharactersMax, nameDepthMax, nameSegmentCharactersMax } from './limits.js';

/** The sub-domain `registerTemporary` draws meaningless names from (thesis 4.3). */
export const temporaryDomain = '/tmp/*';
/** The name of the name service: never stored and never a mailbox name; reached through `ukNameServiceLookup` (§5.2). */
export const nameServiceName = '/sys/name';
/** The root of the name space. */
export const rootDomain = '/*';

const segmentPattern = /^[A-Za-z0-9_.-]+$/;

/** A name split into its parts. */
export interface ParsedName {
  /** The name as written. */
  readonly text: string;
  /** The path segments, without the trailing `*` of a sub-domain. */
  readonly segments: readonly string[];
  /** True for a sub-domain such as `/sys/fs/*` (or the root `/*`). */
  readonly isSubdomain: boolean;
}

function invalid(text: unknown, why: string): FosError {
  return new FosError('INVALID_NAME', `${describeValue(text)} ${why}`, { value: text });
}

/**
 * Parses and validates a name or a sub-domain (docs/rules.md, "Names"): an absolute path of segments of
 * `[A-Za-z0-9_-]` and dots, each 1..64 characters and never `.` or `..`, at most 16 deep and 255
 * characters long; a trailing `/*` makes it a sub-domain. Throws `INVALID_NAME` otherwise.
 */
export function parseName(text: unknown): ParsedName {
  if (typeof text !== 'string') throw invalid(text, 'is not a string');
  if (text.length > nameCharactersMax) throw invalid(text, `is longer than nameCharactersMax (${nameCharactersMax})`);
  if (!text.startsWith('/')) throw invalid(text, 'is not absolute (must start with "/")');
  if (text === rootDomain) return { text, segments: [], isSubdomain: true };
  const isSubdomain = text.endsWith('/*');
  const body = isSubdomain ? text.slice(1, -2) : text.slice(1);
  const segments = body.split('/');
  if (segments.length > nameDepthMax) throw invalid(text, `is deeper than nameDepthMax (${nameDepthMax})`);
  for (const segment of segments) {
    if (segment.length === 0) throw invalid(text, 'has an empty segment');
    if (segment.length > nameSegmentCharactersMax) {
      throw invalid(text, `has a segment longer than nameSegmentCharactersMax (${nameSegmentCharactersMax})`);
    }
    if (segment === '.' || segment === '..') throw invalid(text, `has a "${segment}" segment`);
    if (!segmentPattern.test(segment))
      throw invalid(text, `has a segment with a character outside [A-Za-z0-9_.-]: "${segment}"`);
  }
  return { text, segments, isSubdomain };
}

/** Validates a name that must denote one destination (not a sub-domain); returns it. */
export function validateName(text: unknown): string {
  const parsed = parseName(text);
  if (parsed.isSubdomain) throw invalid(text, 'is a sub-domain, not a name');
  return parsed.text;
}

/** Validates a sub-domain such as `/sys/*`; returns it. */
export function validateSubdomain(text: unknown): string {
  const parsed = parseName(text);
  if (!parsed.isSubdomain) throw invalid(text, 'is not a sub-domain (must end with "/*")');
  return parsed.text;
}

/**
 * True when `name` (a name or a sub-domain) lies strictly under the sub-domain `domain`: `/sys/fs`
 * and `/sys/fs/*` are under `/sys/*`; `/sys/*` itself, a parent or a sibling is not.
 */
export function isUnderSubdomain(domain: string, name: string): boolean {
  const parsedDomain = parseName(domain);
  if (!parsedDomain.isSubdomain) return false;
  const parsedName = parseName(name);
  // Equal depth means the domain itself (`/sys/*`) or the name it hangs from (`/sys`): neither is under it.
  if (parsedName.segments.length <= parsedDomain.segments.length) return false;
  return parsedDomain.segments.every((segment, index) => parsedName.segments[index] === segment);
}

/** The closest enclosing sub-domain of a name: `/sys/fs/1` → `/sys/fs/*`, `/sys` → `/*`. */
export function parentDomain(name: string): string {
  const parsed = parseName(name);
  if (parsed.segments.length === 0) throw invalid(name, 'is the root and has no parent');
  const segments = parsed.segments.slice(0, -1);
  return segments.length === 0 ? rootDomain : `/${segments.join('/')}/*`;
}

const fnvOffsetBasis = 0xcbf29ce484222325n;
const fnvPrime = 0x100000001b3n;
const mask64 = 0xffffffffffffffffn;

/**
 * The alias of a name (thesis §2.2 footnote 2): its FNV-1a 64-bit hash over the UTF-8 bytes. Tables
 * are keyed by the full name, so a collision costs time, never correctness. `INVALID_NAME` for a
 * value that is not a string.
 */
export function aliasOf(name: string): bigint {
  if (typeof name !== 'string') throw invalid(name, 'is not a string');
  let hash = fnvOffsetBasis;
  for (const byte of Buffer.from(name, 'utf8')) {
    hash ^= BigInt(byte);
    hash = (hash * fnvPrime) & mask64;
  }
  return hash;
}
