import { describe, expect, it } from 'vitest';
import { extractExamples, generatedStubSources, runMarker } from './extract.js';

const readme = [
  '# A package',
  '',
  '```ts',
  '// echo-api.ts',
  'export interface EchoApi {}',
  '```',
  '',
  runMarker,
  '',
  '```typescript',
  "import { serveEchoApi } from './generated/echo-api.rpc.js';",
  '```',
  '',
  '```sh',
  'pnpm test',
  '```',
  '```ts',
  'const x = 1;',
  'console.log(x); // → 1',
  "console.log('a', x + 1); // → a 2  ",
  '```',
].join('\n');

describe('extractExamples', () => {
  it('finds each ts block with its line, its file, whether it runs and what it prints', () => {
    expect(extractExamples(readme)).toEqual([
      {
        index: 0,
        line: 4,
        file: 'echo-api.ts',
        code: '// echo-api.ts\nexport interface EchoApi {}\n',
        run: false,
        output: [],
      },
      {
        index: 1,
        line: 11,
        file: 'example-1.ts',
        code: "import { serveEchoApi } from './generated/echo-api.rpc.js';\n",
        run: true,
        output: [],
      },
      {
        index: 2,
        line: 18,
        file: 'example-2.ts',
        code: "const x = 1;\nconsole.log(x); // → 1\nconsole.log('a', x + 1); // → a 2  \n",
        run: false,
        output: ['1', 'a 2'],
      },
    ]);
  });

  it('refuses a block never closed, and two blocks of one file', () => {
    expect(() => extractExamples('```ts\nconst x = 1;\n')).toThrow('the ts block at line 1 is never closed');
    expect(() => extractExamples('```ts\n// a.ts\n```\n```ts\n// a.ts\n```\n')).toThrow(
      'two ts blocks are checked as a.ts (the second at line 5)',
    );
  });

  it('names the interface files whose stubs the examples import', () => {
    expect(generatedStubSources(extractExamples(readme))).toEqual(['echo-api.ts']);
    expect(generatedStubSources(extractExamples('```ts\nconst x = 1;\n```\n'))).toEqual([]);
  });
});
