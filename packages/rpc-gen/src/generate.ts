import { existsSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { describeValue, isFosError } from '@fos/base';
import ts from 'typescript';
import { RpcGenError, type RpcGenLocation } from './errors.js';
import { inputFilesMax } from './limits.js';
import { analyzeFile } from './internal/analyze.js';
import { emitModule } from './internal/emit.js';
import { createAnalysisProgram } from './internal/program.js';

/** One file fos-rpcgen generates: where it goes and what it holds. */
export interface GeneratedFile {
  /** `<outDir>/<basename>.rpc.ts` (for {@link generateSource}, just `<basename>.rpc.ts`). */
  readonly path: string;
  readonly contents: string;
}

/** What {@link generate} reads and where its files go. */
export interface GenerateOptions {
  /** Interface files (`.ts` or `.mts`). */
  readonly input: string | readonly string[];
  /** The directory the generated files are meant for (import paths are relative to it). */
  readonly outDir: string;
}

/** How {@link generateSource} refers to its input from the generated module. */
export interface GenerateSourceOptions {
  /** The module specifier of the input in the generated file; `./<basename>.js` by default. */
  readonly importPath?: string;
}

// Arguments are checked before anything is read: a refusal is an RpcGenError (`BAD_REQUEST`) naming the
// value, and an outside object (options, a list of files) is read once, inside a try, so that a proxy
// or a getter that throws is refused the same way.

function readArgument<T>(value: unknown, what: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (isFosError(error)) throw error;
    throw new RpcGenError(`${what} cannot be read: ${describeValue(value)}`);
  }
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new RpcGenError(`${what} ${describeValue(value)} is not a string`);
  return value;
}

function checkedGenerateOptions(options: unknown): { inputs: string[]; outDir: string } {
  if (typeof options !== 'object' || options === null)
    throw new RpcGenError(`the options ${describeValue(options)} are not an object`);
  return readArgument(options, 'the options', () => {
    const { input, outDir } = options as { input?: unknown; outDir?: unknown };
    if (typeof input !== 'string' && !Array.isArray(input))
      throw new RpcGenError(`input ${describeValue(input)} is neither a path nor a list of paths`);
    const inputs = typeof input === 'string' ? [input] : [...(input as unknown[])];
    if (inputs.length > inputFilesMax) throw new RpcGenError(`more than inputFilesMax (${inputFilesMax}) input files`);
    return { inputs: inputs.map((path) => checkText(path, 'an input path')), outDir: checkText(outDir, 'outDir') };
  });
}

function displayPath(fileName: string): string {
  const fromHere = relative(process.cwd(), fileName);
  return fromHere.startsWith('..') || isAbsolute(fromHere) ? fileName : fromHere;
}

function locate(node: ts.Node, position?: number): RpcGenLocation {
  const sourceFile = node.getSourceFile();
  const start = position ?? (ts.isSourceFile(node) ? 0 : node.getStart(sourceFile));
  const { line, character } = sourceFile.getLineAndCharacterOfPosition(start);
  return { file: displayPath(sourceFile.fileName), line: line + 1, column: character + 1 };
}

function stem(fileName: string): string {
  const extension = extname(fileName);
  if (extension !== '.ts' && extension !== '.mts')
    throw new RpcGenError(`${fileName}: an input must be a .ts or .mts file`);
  if (fileName.endsWith('.d.ts') || fileName.endsWith('.d.mts'))
    throw new RpcGenError(`${fileName}: a declaration file cannot be imported for its interfaces; use a .ts file`);
  return basename(fileName, extension);
}

function jsSpecifier(fromDirectory: string, file: string): string {
  const path = relative(fromDirectory, file)
    .split(sep)
    .join('/')
    .replace(/\.ts$/, '.js')
    .replace(/\.mts$/, '.mjs');
  return path.startsWith('.') ? path : `./${path}`;
}

function generateFrom(program: ts.Program, fileName: string, importPath: string): string {
  const sourceFile = program.getSourceFile(fileName);
  if (sourceFile === undefined) throw new RpcGenError(`${displayPath(fileName)}: cannot read the file`);
  const model = analyzeFile(program, sourceFile, locate);
  return emitModule(model, basename(fileName), importPath);
}

/**
 * Generates `<outDir>/<basename>.rpc.ts` for each input: ordinals, `@throws` tables, argument schemas,
 * a client, a server and a local linkage per API interface. Writes nothing; throws
 * {@link RpcGenError} for input it refuses.
 */
export function generate(options: GenerateOptions): GeneratedFile[] {
  const checked = checkedGenerateOptions(options);
  const inputs = checked.inputs.map((input) => resolve(input));
  if (inputs.length === 0) throw new RpcGenError('no input files');
  const outDirectory = resolve(checked.outDir);
  const stems = new Map<string, string>();
  for (const input of inputs) {
    const name = stem(input);
    if (!existsSync(input)) throw new RpcGenError(`${displayPath(input)}: no such file`);
    const other = stems.get(name);
    if (other !== undefined && other !== input)
      throw new RpcGenError(`${displayPath(other)} and ${displayPath(input)} would both generate ${name}.rpc.ts`);
    stems.set(name, input);
  }
  const program = createAnalysisProgram([...stems.values()]);
  return [...stems].map(([name, input]) => ({
    path: join(checked.outDir, `${name}.rpc.ts`),
    contents: generateFrom(program, input, jsSpecifier(outDirectory, input)),
  }));
}

/** Generates the stubs of one input given as text (its imports resolve relative to `fileName`). */
export function generateSource(
  fileName: string,
  sourceText: string,
  options: GenerateSourceOptions = {},
): GeneratedFile {
  checkText(fileName, 'fileName');
  checkText(sourceText, 'the source text');
  if (typeof options !== 'object' || options === null)
    throw new RpcGenError(`the options ${describeValue(options)} are not an object`);
  const importPath = readArgument(options, 'the options', () => options.importPath);
  if (importPath !== undefined) checkText(importPath, 'importPath');
  const name = stem(fileName);
  const absolute = resolve(fileName);
  const program = createAnalysisProgram([absolute], [{ fileName: absolute, text: sourceText }]);
  return { path: `${name}.rpc.ts`, contents: generateFrom(program, absolute, importPath ?? `./${name}.js`) };
}

/**
 * The input's generated file paths that differ from what is on disk: `missing` or `stale`. `read`
 * answers a file's text, or undefined when there is none (anything else is an `RpcGenError`); what it
 * throws is not caught.
 */
export function staleFiles(
  files: readonly GeneratedFile[],
  read: (path: string) => string | undefined,
): { path: string; state: 'missing' | 'stale' }[] {
  if (!Array.isArray(files)) throw new RpcGenError(`files ${describeValue(files)} is not a list of generated files`);
  if (typeof read !== 'function') throw new RpcGenError(`read ${describeValue(read)} is not a function`);
  const checked = readArgument(files, 'the files', () =>
    [...(files as unknown[])].map((file) => {
      if (typeof file !== 'object' || file === null)
        throw new RpcGenError(`a generated file ${describeValue(file)} is not { path, contents }`);
      const { path, contents } = file as { path?: unknown; contents?: unknown };
      return {
        path: checkText(path, "a generated file's path"),
        contents: checkText(contents, "a generated file's contents"),
      };
    }),
  );
  const outdated: { path: string; state: 'missing' | 'stale' }[] = [];
  for (const file of checked) {
    const current: unknown = read(file.path);
    if (current !== undefined && typeof current !== 'string')
      throw new RpcGenError(
        `read(${describeValue(file.path)}) answered ${describeValue(current)}, not a text or undefined`,
      );
    if (current === undefined) outdated.push({ path: file.path, state: 'missing' });
    else if (current !== file.contents) outdated.push({ path: file.path, state: 'stale' });
  }
  return outdated;
}
