// Runs every TypeScript example of the README as it is written there, against this package's sources,
// and checks what each prints against its `// → ` comments (in order).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { format } from 'node:util';
import * as base from '@fos/base';
import ts from 'typescript';
import { describe, expect, it, vi } from 'vitest';
import * as library from './index.js';

const modules: Record<string, object> = { '@fos/base': base, '@fos/sim': library };

const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const examples = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string);

/** The example as the body of an async function: imports become reads of the modules above. */
function runnable(source: string): string {
  const javascript = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
  }).outputText;
  return javascript.replace(/import\s*\{([^}]*)\}\s*from\s*'([^']+)';/g, (_, names: string, specifier: string) => {
    expect(Object.keys(modules), `the README imports ${specifier}`).toContain(specifier);
    const bindings = names
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name.length > 0)
      .map((name) => name.replace(/\s+as\s+/, ': '));
    return `const { ${bindings.join(', ')} } = modules[${JSON.stringify(specifier)}];`;
  });
}

const AsyncFunction = (
  Object.getPrototypeOf(async () => undefined) as {
    constructor: new (...parameters: string[]) => (modules: Record<string, object>) => Promise<void>;
  }
).constructor;

describe('the README', () => {
  it('has the examples this test runs', () => {
    expect(examples.length).toBeGreaterThanOrEqual(2);
  });

  it.each(examples.map((source, index) => [index + 1, source] as const))(
    'runs example %i and prints what its comments say',
    async (_, source) => {
      const expected = [...source.matchAll(/\/\/ → (.*)$/gm)].map((match) => match[1] as string);
      const printed: string[] = [];
      const log = vi
        .spyOn(console, 'log')
        .mockImplementation((...values: unknown[]) => void printed.push(format(...values)));
      // A failing seed's line goes to the error output: not what the example's comments show.
      const errorOutput = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        await new AsyncFunction('modules', runnable(source))(modules);
      } finally {
        log.mockRestore();
        errorOutput.mockRestore();
      }
      expect(printed).toEqual(expected);
    },
  );
});
