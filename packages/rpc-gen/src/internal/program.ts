import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/**
 * The options inputs are read with: those of the workspace's base tsconfig that change how types
 * read (strict, exactOptionalPropertyTypes), so that an optional member is `T`, not `T | undefined`.
 */
export const analysisOptions: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2023.d.ts'],
  types: [],
  strict: true,
  exactOptionalPropertyTypes: true,
  noEmit: true,
  skipLibCheck: true,
};

// Parsing the default library is most of the cost of a program; its files never change while a
// process runs, so one parse serves every program this process makes (the tests make dozens).
const libraryFiles = new Map<string, ts.SourceFile>();

/** An input given as text instead of a file on disk (generateSource). */
export interface VirtualFile {
  readonly fileName: string;
  readonly text: string;
}

/** A program over `rootNames` (absolute paths); `virtual` files are served from memory. */
export function createAnalysisProgram(rootNames: readonly string[], virtual: readonly VirtualFile[] = []): ts.Program {
  const host = ts.createCompilerHost(analysisOptions, true);
  const libraryDirectory = dirname(host.getDefaultLibFileName(analysisOptions));
  const inMemory = new Map(virtual.map((file) => [resolve(file.fileName), file.text]));
  const readSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (fileName) => inMemory.has(resolve(fileName)) || fileExists(fileName);
  host.readFile = (fileName) => inMemory.get(resolve(fileName)) ?? readFile(fileName);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const text = inMemory.get(resolve(fileName));
    if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
    if (!resolve(fileName).startsWith(libraryDirectory))
      return readSourceFile(fileName, languageVersion, onError, shouldCreate);
    const cached = libraryFiles.get(fileName);
    if (cached !== undefined) return cached;
    const parsed = readSourceFile(fileName, languageVersion, onError, shouldCreate);
    if (parsed !== undefined) libraryFiles.set(fileName, parsed);
    return parsed;
  };
  return ts.createProgram({ rootNames, options: analysisOptions, host });
}
