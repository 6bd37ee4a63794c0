import { FosError } from '@fos/base';

/** Destinations one indirect name holds at most; one more is `LIMIT_EXCEEDED`. */
export const destinationsPerNameMax = 1024;
/** Indirect names that may list one name as a destination, at most; one more is `LIMIT_EXCEEDED`. */
export const referrersPerNameMax = 1024;
/**
 * Indirect names on the longest chain from any name to a direct one, at most: libfos stops a
 * resolution after as many hops, so a longer chain is refused with `CYCLE`.
 */
export const indirectionHopsMax = 16;
/** Names one operation may visit while following the name graph; more is `LIMIT_EXCEEDED`. */
export const graphNamesVisitedMax = 4096;
/** Times an operation is rewound and retried after a store `CONFLICT` before it answers `CONFLICT`. */
export const conflictRetriesMax = 8;
/** Random names `registerTemporary` tries before it answers `LIMIT_EXCEEDED`. */
export const temporaryNameAttemptsMax = 16;
/** The time to live of every Lookup result, in ms (how long a name cache may keep it). */
export const lookupTtlMs = 10_000;
/** How long Lookup waits for an entry's load balancer before it falls back to the default policy, in ms. */
export const loadBalancerTimeoutMs = 100;

/** Entries one `list` answers at most (the rest is reported as truncated); keeps the answer within a message. */
export const listNamesMax = 256;

/** The smallest and largest weight of a destination, and the weight given when none is. */
export const destinationWeightMin = 1;
export const destinationWeightMax = 1000;
export const destinationWeightDefault = 1;

/** The limits of one name server; each defaults to the constant of the same name. */
export interface NameServiceLimits {
  readonly destinationsPerNameMax: number;
  readonly referrersPerNameMax: number;
  readonly indirectionHopsMax: number;
  readonly graphNamesVisitedMax: number;
  readonly conflictRetriesMax: number;
  readonly temporaryNameAttemptsMax: number;
  readonly lookupTtlMs: number;
  readonly loadBalancerTimeoutMs: number;
}

/** The default {@link NameServiceLimits}. */
export const defaultNameServiceLimits: NameServiceLimits = Object.freeze({
  destinationsPerNameMax,
  referrersPerNameMax,
  indirectionHopsMax,
  graphNamesVisitedMax,
  conflictRetriesMax,
  temporaryNameAttemptsMax,
  lookupTtlMs,
  loadBalancerTimeoutMs,
});

/** Fills in defaults and checks every limit: `BAD_REQUEST` names the offending one. */
export function resolveNameServiceLimits(limits: Partial<NameServiceLimits> = {}): NameServiceLimits {
  const resolved: NameServiceLimits = { ...defaultNameServiceLimits, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    const minimum = key === 'conflictRetriesMax' || key === 'lookupTtlMs' ? 0 : 1;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum) {
      throw new FosError(
        'BAD_REQUEST',
        `name-service limit ${key} = ${String(value)} is not an integer >= ${minimum}`,
        { value },
      );
    }
  }
  return Object.freeze(resolved);
}
