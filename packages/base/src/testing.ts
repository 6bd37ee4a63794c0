// `@fos/base/testing`: small helpers for tests of code built on fos, so each package's tests need not
// write them again.
import { isFosError } from './errors.js';

function codeOfError(error: unknown): string {
  return isFosError(error) ? error.code : `not a FosError: ${String(error)}`;
}

/** The `FosError` code a promise rejects with; `'resolved'` when it resolves, `'not a FosError: …'` for any other error. */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return codeOfError(error);
  }
}

/** The `FosError` code a call throws; `'returned'` when it returns, `'not a FosError: …'` for any other error. */
export function codeOfCall(call: () => unknown): string {
  try {
    call();
    return 'returned';
  } catch (error) {
    return codeOfError(error);
  }
}
