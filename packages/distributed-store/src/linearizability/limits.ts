/**
 * Operations one history may hold at most (all keys together); a longer history is
 * `LIMIT_EXCEEDED`. A simulation that records more should check its history in windows.
 */
export const historyOperationsMax = 100_000;

/**
 * Search steps one {@link checkOperations} call may take by default (all partitions together): one
 * step is one look at an entry of the history (a try to linearize a call, or a backtrack). When the
 * bound is hit the answer is `'unknown'`: the checker could not decide within it. Override with the
 * `stepsMax` option. Steps, not milliseconds, so that an answer never depends on the machine.
 */
export const linearizabilityStepsMax = 5_000_000;

/**
 * Estimated bytes of the search's memo (the set of (linearized operations, model state) pairs already
 * explored) at most. The memo only prunes the search, so once it is full the search goes on without
 * remembering more: slower, never wrong, still bounded by the step bound.
 */
export const linearizabilityCacheBytesMax = 256 * 1024 * 1024;

/** Operations an explanation lists at most per section (prefix, candidates, unplaced); the rest are counted. */
export const explanationOperationsMax = 40;
