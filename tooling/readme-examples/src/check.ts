// Type-checks and runs README examples written out as files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import ts from 'typescript';

/** One type error: the file, its line (from 1) and the message. */
export interface TypeError {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** The compiler options of the workspace (`@fos/tsconfig/base.json`), without output. */
function workspaceOptions(): ts.CompilerOptions {
  const path = createRequire(import.meta.url).resolve('@fos/tsconfig/base.json');
  const json = JSON.parse(readFileSync(path, 'utf8')) as { compilerOptions: Record<string, unknown> };
  const { options, errors } = ts.convertCompilerOptionsFromJson(json.compilerOptions, dirname(path));
  if (errors.length > 0) throw new Error(ts.flattenDiagnosticMessageText(errors[0]?.messageText, '\n'));
  return { ...options, noEmit: true, declaration: false, sourceMap: false };
}

/**
 * Type-checks `files` as one program under the workspace's compiler options, resolving packages from
 * each file's folder up (a user's project resolves them the same way); answers every error in them.
 */
export function typeCheck(files: readonly string[]): TypeError[] {
  const program = ts.createProgram({ rootNames: [...files], options: workspaceOptions() });
  const errors: TypeError[] = [];
  for (const diagnostic of ts.getPreEmitDiagnostics(program)) {
    const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
    if (diagnostic.file === undefined || diagnostic.start === undefined) {
      errors.push({ file: '', line: 0, message });
      continue;
    }
    const { line } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
    errors.push({ file: diagnostic.file.fileName, line: line + 1, message });
  }
  return errors;
}

/** Writes `<file>.js` next to each TypeScript file under `directory` (generated stubs too): ES modules, types erased. */
export function transpile(directory: string): void {
  for (const entry of readdirSync(directory, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.ts') || entry.endsWith('.d.ts')) continue;
    const file = join(directory, entry);
    const output = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      fileName: file,
    });
    writeFileSync(file.replace(/\.ts$/, '.js'), output.outputText);
  }
}
