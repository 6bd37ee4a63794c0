import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isRpcGenError } from '../errors.js';
import { generate, staleFiles } from '../generate.js';

/** Where the command writes. */
export interface CliOutput {
  out(line: string): void;
  error(line: string): void;
}

export const usage = 'usage: fos-rpcgen <api.ts...> --out <dir> [--check]';

interface Arguments {
  readonly inputs: string[];
  readonly outDir: string;
  readonly check: boolean;
}

function parse(argv: readonly string[]): Arguments | string {
  const inputs: string[] = [];
  let outDir: string | undefined;
  let check = false;
  for (let index = 0; index < argv.length; index += 1) {
    const argument = argv[index] ?? '';
    if (argument === '--') continue;
    if (argument === '--check') check = true;
    else if (argument === '--out') {
      outDir = argv[index + 1];
      index += 1;
      if (outDir === undefined || outDir.startsWith('--')) return '--out needs a directory';
    } else if (argument.startsWith('--out=')) outDir = argument.slice('--out='.length);
    else if (argument.startsWith('-')) return `unknown option ${argument}`;
    else inputs.push(argument);
  }
  if (inputs.length === 0) return 'no input files';
  if (outDir === undefined || outDir === '') return 'no --out directory';
  return { inputs, outDir, check };
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Runs `fos-rpcgen` and answers its exit code: 0 done (or up to date), 1 a generator error or (with
 * `--check`) stale files, 2 a usage error.
 */
export function runCli(argv: readonly string[], output: CliOutput): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    output.out(usage);
    return 0;
  }
  const parsed = parse(argv);
  if (typeof parsed === 'string') {
    output.error(`fos-rpcgen: ${parsed}\n${usage}`);
    return 2;
  }
  let files;
  try {
    files = generate({ input: parsed.inputs, outDir: parsed.outDir });
  } catch (error) {
    if (!isRpcGenError(error)) throw error;
    // The place and the reason, without the code every refusal of the generator carries.
    output.error(`fos-rpcgen: ${error.message.replace(/^BAD_REQUEST: /, '')}`);
    return 1;
  }
  const outdated = staleFiles(files, readIfPresent);
  if (parsed.check) {
    for (const file of outdated) output.error(`${file.state}: ${file.path}`);
    if (outdated.length > 0) {
      output.error(`fos-rpcgen: ${outdated.length} generated file(s) out of date; run fos-rpcgen without --check`);
      return 1;
    }
    output.out(`fos-rpcgen: ${files.length} generated file(s) up to date`);
    return 0;
  }
  const outdatedPaths = new Set(outdated.map((file) => file.path));
  for (const file of files.filter((candidate) => outdatedPaths.has(candidate.path))) {
    try {
      mkdirSync(dirname(file.path), { recursive: true });
      writeFileSync(file.path, file.contents);
    } catch (error) {
      // An --out that is a file, or a directory it may not write: a refusal, not a crash.
      output.error(`fos-rpcgen: cannot write ${file.path}: ${error instanceof Error ? error.message : String(error)}`);
      return 1;
    }
    output.out(`wrote ${file.path}`);
  }
  return 0;
}
