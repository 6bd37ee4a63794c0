// `@fos/base/testing`: small helpers for tests of code built on fos, so each package's tests need not
// write them again.
import { spawn } from 'node:child_process';
import { isFosError, isFosErrorCode, type FosErrorCode } from './errors.js';

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

// Throws on every operation, except reads and `in` tests of symbol keys: test tools (fast-check) look
// for symbol-keyed methods on every value they hand out, and must not fall over before the call does.
function throwingProxy(target: object): object {
  const handler = new Proxy(
    {},
    {
      get:
        (_, trapName) =>
        (...args: unknown[]): unknown => {
          if ((trapName === 'get' || trapName === 'has') && typeof args[1] === 'symbol')
            return trapName === 'get' ? undefined : false;
          throw new Error('a proxy that throws on every operation');
        },
    },
  );
  return new Proxy(target, handler);
}

function throwingGetters(): object {
  const value = {};
  for (const key of ['name', 'capability', 'location', 'destination', 'type', 'machine', 'core', 'mailbox', 'body']) {
    Object.defineProperty(value, key, {
      enumerable: true,
      get: () => {
        throw new Error(`a getter of ${key} that throws`);
      },
    });
  }
  return value;
}

/**
 * Values a public call must answer with a documented `FosError` (or accept), never with a crash or a
 * change: every JavaScript type, the edges of numbers and strings, objects that throw when read (a
 * proxy, getters), a cyclic object, strings of a megabyte, a capability-shaped text that is not
 * canonical. Fresh values on every call. Mix them into generated arguments, e.g. with fast-check:
 * `fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()))`.
 */
export function hostileValues(): unknown[] {
  const cyclic: Record<string, unknown> = { name: '/a' };
  cyclic.self = cyclic;
  const sparse: unknown[] = [];
  sparse[3] = 1;
  return [
    ...[undefined, null, true, false, 0, -0, 1, -1, 1.5, Number.NaN, Infinity, -Infinity, 2 ** 53, 2 ** 31],
    ...[0n, -1n, 10n ** 30n, Symbol('hostile'), Symbol.iterator, () => 1, class Hostile {}],
    ...['', ' ', '/', '/*', '//', '/a/../b', '/sys/name', '/\u0000', '/é', 'a'.repeat(1 << 20)],
    `/${'a'.repeat(1 << 20)}`,
    'AAAAAAAAAAAAAAAAAAAAAB', // 22 base64url characters that decode to 16 bytes, but not canonically
    'AAAAAAAAAAAAAAAAAAAAA',
    ...[[], [null], sparse, {}, Object.create(null) as object, Object.freeze({ name: '/a' }), cyclic],
    ...[new Date(Number.NaN), new Map([[1, 2]]), new Set([1]), new Uint8Array(70_000), new Error('hostile')],
    Promise.resolve(1),
    throwingProxy({}),
    throwingProxy(() => 1),
    throwingGetters(),
    { machine: 'm', core: 0, mailbox: 1, extra: 1 },
    { machine: 'm', core: -1, mailbox: 1 },
    { machine: 'm', core: 0, mailbox: 2 ** 40 },
  ];
}

/**
 * The `FosError` codes a package's README documents: every code of the closed list written in
 * backticks in its `## Errors` section (up to the next `## ` heading). A property test checks that
 * every code it met is among them, so the README's table cannot fall behind the code.
 */
export function documentedErrorCodes(readme: string): Set<FosErrorCode> {
  const start = readme.search(/^## Errors\b/m);
  if (start < 0) return new Set();
  const rest = readme.slice(start + 3);
  const end = rest.search(/^## /m);
  const section = end < 0 ? rest : rest.slice(0, end);
  return new Set([...section.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]).filter((code) => isFosErrorCode(code)));
}
