import { existsSync } from 'node:fs';
import { basename, extname, isAbsolute, join, relative, resolve, sep } from 'node:path';
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
  const inputs = (typeof options.input === 'string' ? [options.input] : options.input).map((input) => resolve(input));
  if (inputs.length === 0) throw new RpcGenError('no input files');
  if (inputs.length > inputFilesMax) throw new RpcGenError(`more than inputFilesMax (${inputFilesMax}) input files`);
  const outDirectory = resolve(options.outDir);
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
    path: join(options.outDir, `${name}.rpc.ts`),
    contents: generateFrom(program, input, jsSpecifier(outDirectory, input)),
  }));
}

/** Generates the stubs of one input given as text (its imports resolve relative to `fileName`). */
export function generateSource(
  fileName: string,
  sourceText: string,
  options: GenerateSourceOptions = {},
): GeneratedFile {
  const name = stem(fileName);
  const absolute = resolve(fileName);
  const program = createAnalysisProgram([absolute], [{ fileName: absolute, text: sourceText }]);
  return { path: `${name}.rpc.ts`, contents: generateFrom(program, absolute, options.importPath ?? `./${name}.js`) };
}

/** The input's generated file paths that differ from what is on disk: `missing` or `stale`. */
export function staleFiles(
  files: readonly GeneratedFile[],
  read: (path: string) => string | undefined,
): { path: string; state: 'missing' | 'stale' }[] {
  const outdated: { path: string; state: 'missing' | 'stale' }[] = [];
  for (const file of files) {
    const current = read(file.path);
    if (current === undefined) outdated.push({ path: file.path, state: 'missing' });
    else if (current !== file.contents) outdated.push({ path: file.path, state: 'stale' });
  }
  return outdated;
}
