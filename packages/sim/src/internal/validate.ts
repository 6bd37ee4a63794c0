// Boundary checks shared by the modules of this package. They throw RangeError with the offending
// value in the message, because this package sits below every other fos package and cannot use FosError.

/** Throws unless `delayMs` is a finite number >= 0. */
export function checkDelayMs(delayMs: number, where: string): void {
  if (typeof delayMs !== 'number' || !Number.isFinite(delayMs) || delayMs < 0) {
    throw new RangeError(`${where}: delayMs must be a finite number >= 0, got ${String(delayMs)}`);
  }
}

/** Throws unless `value` is a safe integer in [minimum, maximum]. */
export function checkSafeInteger(
  value: number,
  name: string,
  minimum: number,
  maximum = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isSafeInteger(value) || value < minimum || value > maximum) {
    throw new RangeError(`${name} must be an integer in [${minimum}, ${maximum}], got ${String(value)}`);
  }
}
