// Every README's TypeScript examples, as a reader copies them: each block is written out as a file of
// its own (a README's blocks share a folder, so one may import another by the name its first line
// gives), stubs that a block imports from `./generated/` are generated with fos-rpcgen, all of them are
// type-checked as one program against the built packages, and the blocks marked
// `<!-- example: run -->` are run with Node and must exit 0, printing what their `// → ` comments say
// (line by line, in order) when they have any. A README that drifts from its package fails here.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runNodeScript } from '@fos/base/testing';
import { transpile, typeCheck, type TypeError } from './check.js';
import { extractExamples, generatedStubSources, type ReadmeExample } from './extract.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const scratch = fileURLToPath(new URL('../.vitest/examples/', import.meta.url));
const rpcgen = fileURLToPath(new URL('../node_modules/@fos/rpc-gen/dist/cli.js', import.meta.url));

interface Readme {
  /** `packages/fs/README.md`. */
  readonly path: string;
  readonly folder: string;
  readonly examples: ReadmeExample[];
}

function readmes(): Readme[] {
  const found: Readme[] = [];
  const paths = ['README.md'];
  for (const group of ['packages', 'apps'])
    for (const name of readdirSync(join(root, group)).sort())
      if (existsSync(join(root, group, name, 'README.md'))) paths.push(`${group}/${name}/README.md`);
  for (const path of paths) {
    const examples = extractExamples(readFileSync(join(root, path), 'utf8'));
    if (examples.length === 0) continue;
    found.push({
      path,
      folder: join(scratch, path.replace(/\/?README\.md$/, '').replace(/\//g, '-') || 'root'),
      examples,
    });
  }
  return found;
}

/** Standard output as lines, trailing spaces and the last line's end dropped (as `// → ` comments read). */
function printedLines(stdout: string): string[] {
  const lines = stdout.split('\n').map((line) => line.trimEnd());
  if (lines.at(-1) === '') lines.pop();
  return lines;
}

const all = readmes();
const errorsByReadme = new Map<string, string[]>();

beforeAll(() => {
  rmSync(scratch, { recursive: true, force: true });
  const files: string[] = [];
  const owner = new Map<string, { readme: Readme; example: ReadmeExample }>();
  for (const readme of all) {
    mkdirSync(readme.folder, { recursive: true });
    writeFileSync(join(readme.folder, 'package.json'), '{ "type": "module" }\n');
    for (const example of readme.examples) {
      const file = join(readme.folder, example.file);
      writeFileSync(file, example.code);
      files.push(file);
      owner.set(file, { readme, example });
    }
    for (const source of generatedStubSources(readme.examples))
      execFileSync(process.execPath, [rpcgen, source, '--out', 'generated'], { cwd: readme.folder });
  }
  for (const readme of all) errorsByReadme.set(readme.path, []);
  const place = (error: TypeError): [string, string] => {
    const found = owner.get(error.file);
    if (found === undefined)
      return [all[0]!.path, `${relative(scratch, error.file) || '(program)'}:${error.line}: ${error.message}`];
    return [found.readme.path, `${found.readme.path}:${found.example.line + error.line - 1}: ${error.message}`];
  };
  for (const error of typeCheck(files)) {
    const [path, text] = place(error);
    errorsByReadme.get(path)!.push(text);
  }
  // Every folder once, for the blocks that run (a block may import another of its README).
  for (const readme of all) if (readme.examples.some((example) => example.run)) transpile(readme.folder);
});

describe('README examples', () => {
  it('are found in the READMEs of the packages', () => {
    expect(all.map((readme) => readme.path)).toContain('packages/microkernel/README.md');
    expect(all.flatMap((readme) => readme.examples).length).toBeGreaterThan(10);
  });

  it('say what they print only in blocks that run', () => {
    const unchecked = all.flatMap((readme) =>
      readme.examples
        .filter((example) => !example.run && example.output.length > 0)
        .map((example) => `${readme.path}:${example.line}`),
    );
    expect(unchecked, 'a block with `// → ` comments needs `<!-- example: run -->`').toEqual([]);
  });

  it.each(all.map((readme) => [readme.path]))('%s: every TypeScript block type-checks', (path) => {
    expect(errorsByReadme.get(path)).toEqual([]);
  });

  const runnable = all.flatMap((readme) =>
    readme.examples
      .filter((example) => example.run)
      .map((example) => [`${readme.path}:${example.line}`, readme, example] as const),
  );
  it.each(runnable)('%s runs, exits 0 and prints what its comments say', async (_where, readme, example) => {
    const end = await runNodeScript(example.file.replace(/\.ts$/, '.js'), [], { cwd: readme.folder });
    expect(end, end.stderr).toMatchObject({ status: 0 });
    if (example.output.length > 0) expect(printedLines(end.stdout)).toEqual(example.output);
  });
});
