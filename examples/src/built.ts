// For the tests: run a built example (`dist/<example>/main.js`) as a child process, the way its README
// says to, and answer the lines it printed. `pnpm test` builds the package first (turbo.json).
import { fileURLToPath } from 'node:url';
import { runNodeScript } from '@fos/base/testing';

/** Runs `node dist/<example>/main.js ...args` and answers its stdout, line by line; rejects, with its stderr, when it fails. */
export async function runBuiltExample(example: string, ...args: string[]): Promise<string[]> {
  const main = fileURLToPath(new URL(`../dist/${example}/main.js`, import.meta.url));
  const { status, stdout, stderr } = await runNodeScript(main, args);
  if (status !== 0) throw new Error(`${example} exited with ${status ?? 'a signal'}: ${stderr}`);
  return stdout.trimEnd().split('\n');
}
