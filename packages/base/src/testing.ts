// `@fos/base/testing`: small helpers for tests of code built on fos, so each package's tests need not
// write them again.
import { spawn } from 'node:child_process';
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

/** What {@link runNodeScript} answers: the exit status (null when a signal ended it) and the output. */
export type ScriptRun = { readonly status: number | null; readonly stdout: string; readonly stderr: string };

/**
 * Runs a built Node.js script (a command's `dist/cli.js`, say) in a child process with this process's
 * Node, and answers its exit status and output once it ends. Asynchronous on purpose: a test worker
 * that blocked on the child could not answer its runner. It sets no time limit of its own; the test's
 * timeout bounds a hang.
 */
export function runNodeScript(
  script: string,
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<ScriptRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], options.cwd === undefined ? {} : { cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}
