// For the tests: run a built example (`dist/<example>/main.js`) as a child process, the way its README
// says to, and answer the lines it printed. `pnpm test` builds the package first (turbo.json).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What a test gives a child at most: it bounds a hang, never a speed. */
const exampleTimeoutMs = 100_000;

/** Runs `node dist/<example>/main.js ...args` and answers its stdout, line by line. */
export async function runBuiltExample(example: string, ...args: string[]): Promise<string[]> {
  const main = fileURLToPath(new URL(`../dist/${example}/main.js`, import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [main, ...args], { timeout: exampleTimeoutMs });
  return stdout.trimEnd().split('\n');
}
