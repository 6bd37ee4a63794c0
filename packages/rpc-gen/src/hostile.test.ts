// Any JavaScript value through the public calls of rpc-gen, the command's arguments, and the argument
// checks of the code it generates: each answers success or a FosError whose code the README documents.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeValue, isFosError, type FosErrorCode } from '@fos/base';
import { documentedErrorCodes, hostileValues } from '@fos/base/testing';
import { dispatchRpc, loopbackTransport } from '@fos/dispatcher';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { SampleApi } from './fixtures/sample-api.js';
import { createSampleApiClient, sampleApiOrdinals, serveSampleApi } from './fixtures/generated/sample-api.rpc.js';
import { generate, generateSource, isRpcGenError, RpcGenError, staleFiles } from './index.js';
import { runCli } from './internal/cli.js';

const anyValue = fc.oneof(fc.anything(), fc.constantFrom(...hostileValues()));
/** Mostly a well-formed value, sometimes a hostile one: most calls then get past their first checks. */
const either = (...valid: unknown[]): fc.Arbitrary<unknown> =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 3 }, { arbitrary: anyValue, weight: 1 });
const notAString = anyValue.filter((value) => typeof value !== 'string');
const notAFunction = anyValue.filter((value) => typeof value !== 'function');

const packageDirectory = join(import.meta.dirname, '..');
const fixtures = join(packageDirectory, 'src', 'fixtures');
const scratch = mkdtempSync(join(tmpdir(), 'fos-rpcgen-hostile-'));
const scratchInput = join(scratch, 'sample-api.ts');
copyFileSync(join(fixtures, 'sample-api.ts'), scratchInput);
copyFileSync(join(fixtures, 'shared-types.ts'), join(scratch, 'shared-types.ts'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const echoSource = 'export interface EchoApi {\n  echo(text: string): Promise<string>;\n}\n';
/** Every method answers at once (the point is what reaches it, not what it does). */
const quietImpl = new Proxy({} as SampleApi, { get: () => async () => null });
const methodNames = Object.keys(sampleApiOrdinals) as Array<keyof SampleApi>;

/** The public calls, with well-formed or hostile arguments, and the codes each may answer. */
const calls: ReadonlyArray<{
  name: string;
  codes: readonly FosErrorCode[];
  args: fc.Arbitrary<unknown[]>;
  call: (args: unknown[]) => unknown;
  runs: number;
}> = [
  {
    name: 'generateSource',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      either(join(scratch, 'echo-api.ts'), 'api.js', 'api.d.ts'),
      fc.oneof({ arbitrary: fc.constant(echoSource), weight: 1 }, { arbitrary: notAString, weight: 12 }),
      either(undefined, { importPath: './echo-api.js' }),
    ),
    call: ([fileName, source, options]) => generateSource(fileName as string, source as string, options as never),
    runs: 800,
  },
  {
    name: 'generateSource(text)',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(
        fc.constantFrom('export {}', 'export interface A { f(): Promise<Map<string, 1>>; }'),
        fc.string({ maxLength: 40 }),
      ),
    ),
    call: ([source]) => generateSource(join(scratch, 'text.ts'), source as string),
    runs: 40,
  },
  {
    name: 'generate',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(
        fc.record({
          input: fc.oneof(
            {
              arbitrary: fc.constantFrom(join(scratch, 'missing.ts'), [join(scratch, 'missing.ts')], [], 'x.js'),
              weight: 6,
            },
            { arbitrary: fc.constant(scratchInput), weight: 1 },
            { arbitrary: anyValue, weight: 3 },
          ),
          outDir: either(join(scratch, 'out')),
        }),
        anyValue,
      ),
    ),
    call: ([options]) => generate(options as never),
    runs: 800,
  },
  {
    name: 'staleFiles',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(fc.array(fc.record({ path: either('a.rpc.ts'), contents: either('text') }), { maxLength: 3 }), anyValue),
      fc.oneof(
        fc.constantFrom(
          () => undefined,
          () => 'text',
          () => 5,
        ),
        notAFunction,
      ),
    ),
    call: ([files, read]) => staleFiles(files as never, read as never),
    runs: 2_000,
  },
  {
    name: 'new RpcGenError',
    codes: [],
    args: fc.tuple(anyValue, either(undefined, { file: 'a.ts', line: 1, column: 2 })),
    call: ([message, location]) => {
      const error = new RpcGenError(message as string, location as never);
      expect(isFosError(error) && error.code).toBe('BAD_REQUEST');
      expect(isRpcGenError(error)).toBe(true);
    },
    runs: 1_500,
  },
  {
    name: 'isRpcGenError',
    codes: [],
    args: fc.tuple(anyValue),
    call: ([value]) => expect(isRpcGenError(value)).toBe(false),
    runs: 1_500,
  },
  {
    name: 'generated server: dispatchRpc(serveSampleApi(impl), body)',
    codes: ['BAD_REQUEST'],
    args: fc.tuple(
      fc.oneof(
        fc.record({
          rpc: either(...Object.values(sampleApiOrdinals), 7),
          args: fc.oneof(
            fc.dictionary(fc.constantFrom('text', 'times', 'a', 'b', 'name', 'bytes', 'at', 'event'), anyValue),
            anyValue,
          ),
        }),
        anyValue,
      ),
    ),
    call: ([body]) => dispatchRpc(serveSampleApi(quietImpl), body),
    runs: 2_000,
  },
  {
    name: 'generated client over loopbackTransport',
    codes: ['BAD_REQUEST', 'MESSAGE_TOO_LARGE'],
    args: fc.tuple(fc.constantFrom(...methodNames), fc.array(anyValue, { maxLength: 4 })),
    call: ([method, args]) => {
      const client = createSampleApiClient(loopbackTransport(serveSampleApi(quietImpl)));
      return (client[method as keyof SampleApi] as (...values: unknown[]) => Promise<unknown>)(...(args as unknown[]));
    },
    runs: 2_000,
  },
];

const cliTokens = fc.oneof(
  {
    arbitrary: fc.constantFrom(
      '--out',
      '--out=',
      `--out=${join(scratch, 'out')}`,
      '-h',
      '--',
      '--frobnicate',
      'missing.ts',
      'a.d.ts',
      'x.js',
    ),
    weight: 6,
  },
  { arbitrary: fc.constant(scratchInput), weight: 1 },
  { arbitrary: fc.string({ maxLength: 20 }), weight: 3 },
);

describe('any JavaScript value through the public calls of @fos/rpc-gen', () => {
  it('every call answers success or a documented FosError', async () => {
    const documented = documentedErrorCodes(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    const met = new Set<FosErrorCode>();
    let callCount = 0;
    for (const { name, codes, args, call, runs } of calls) {
      await fc.assert(
        fc.asyncProperty(args, async (values) => {
          callCount++;
          try {
            await call(values);
          } catch (error) {
            if (!isFosError(error) || !codes.includes(error.code))
              throw new Error(
                `${name}(${values.map((value) => describeValue(value)).join(', ')}) threw ${String(error)}`,
              );
            // A compiler message names types as written: the generator's own bound is ten described values.
            expect(error.message.length).toBeLessThan(2_200);
            met.add(error.code);
          }
        }),
        { numRuns: runs },
      );
    }
    expect(callCount).toBeGreaterThanOrEqual(10_000);
    expect([...met].filter((code) => !documented.has(code))).toEqual([]);
    expect([...met].sort()).toEqual(['BAD_REQUEST', 'MESSAGE_TOO_LARGE']);
  }, 120_000);

  it('the command answers any arguments with an exit status and lines, never an exception (--check: it writes nothing)', () => {
    fc.assert(
      fc.property(fc.array(cliTokens, { maxLength: 6 }), fc.nat(6), fc.boolean(), (tokens, at, shaped) => {
        // Half the runs are a well-formed command with one argument swapped for another, so that some
        // reach the generator; the rest are any tokens at all.
        const argv = shaped
          ? [scratchInput, '--out', join(scratch, 'out'), '--check'].map((token, index) =>
              index === at % 3 && tokens[0] !== undefined ? tokens[0] : token,
            )
          : [...tokens.slice(0, at), '--check', ...tokens.slice(at)];
        const lines: string[] = [];
        const status = runCli(argv, { out: (line) => lines.push(line), error: (line) => lines.push(line) });
        expect([0, 1, 2]).toContain(status);
        if (status !== 0) expect(lines.join('\n')).toMatch(/^fos-rpcgen: |^missing: |^stale: /);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
