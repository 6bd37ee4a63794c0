import { runNodeScript, type ScriptRun } from '@fos/base/testing';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './internal/cli.js';

// Runs the built command (turbo builds before testing this package).
const packageDirectory = join(import.meta.dirname, '..');
const cli = join(packageDirectory, 'dist', 'cli.js');
const scratch = mkdtempSync(join(tmpdir(), 'fos-rpcgen-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

function run(...args: string[]): Promise<ScriptRun> {
  return runNodeScript(cli, args, { cwd: packageDirectory });
}

/** What bounds a hang of one test that runs the command several times (never its speed). */
const cliTestTimeoutMs = 180_000;

describe('fos-rpcgen', { timeout: cliTestTimeoutMs }, () => {
  it('--check exits 0 when the committed golden file is up to date (the check-generated script)', async () => {
    const result = await run('src/fixtures/sample-api.ts', '--out', 'src/fixtures/generated', '--check');
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
  });

  it('writes missing files, then --check passes; a stale file makes --check exit 1 and list it, writing nothing', async () => {
    const input = join(scratch, 'sample-api.ts');
    copyFileSync(join(packageDirectory, 'src/fixtures/sample-api.ts'), input);
    copyFileSync(join(packageDirectory, 'src/fixtures/shared-types.ts'), join(scratch, 'shared-types.ts'));
    const outDir = join(scratch, 'generated');
    const generated = join(outDir, 'sample-api.rpc.ts');

    const missing = await run(input, '--out', outDir, '--check');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain(`missing: ${generated}`);

    expect((await run('--', input, '--out', outDir)).status).toBe(0);
    expect(readFileSync(generated, 'utf8')).toContain(
      'export function createSampleApiClient(transport: RpcTransport): SampleApi',
    );
    expect((await run(input, '--out', outDir, '--check')).status).toBe(0);

    writeFileSync(generated, `${readFileSync(generated, 'utf8')}// edited\n`);
    const stale = await run(input, '--out', outDir, '--check');
    expect(stale.status).toBe(1);
    expect(stale.stderr).toContain(`stale: ${generated}`);
    expect(readFileSync(generated, 'utf8')).toContain('// edited');
  });

  it('prints a generator error as file:line:column and exits 1', async () => {
    const input = join(scratch, 'bad-api.ts');
    writeFileSync(input, 'export interface BadApi {\n  f(table: Map<string, number>): Promise<void>;\n}\n');
    const result = await run(input, '--out', scratch);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/bad-api\.ts:2:12: unsupported type 'Map<string, number>'/);
  });

  it('exits 2 on usage errors', async () => {
    expect((await run('src/fixtures/sample-api.ts', '--out')).status).toBe(2);
    const unknown = await run('src/fixtures/sample-api.ts', '--out', scratch, '--frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('unknown option --frobnicate');
  });

  it('exits 1 naming a file it cannot write (an --out that is a file), instead of crashing', () => {
    const input = join(scratch, 'sample-api.ts');
    copyFileSync(join(packageDirectory, 'src/fixtures/sample-api.ts'), input);
    copyFileSync(join(packageDirectory, 'src/fixtures/shared-types.ts'), join(scratch, 'shared-types.ts'));
    const notADirectory = join(scratch, 'a-file');
    writeFileSync(notADirectory, 'not a directory');
    const lines: string[] = [];
    const output = { out: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    expect(runCli([input, '--out', notADirectory], output)).toBe(1);
    expect(lines.join('\n')).toMatch(/^fos-rpcgen: cannot write .*a-file\/sample-api\.rpc\.ts: /);
  });

  it('answers usage errors in-process without generating: no input, no --out, --help', () => {
    const lines: string[] = [];
    const output = { out: (line: string) => lines.push(line), error: (line: string) => lines.push(line) };
    expect(runCli([], output)).toBe(2);
    expect(runCli(['api.ts'], output)).toBe(2);
    expect(runCli(['--help'], output)).toBe(0);
    expect(lines.join('\n')).toContain('usage: fos-rpcgen <api.ts...> --out <dir> [--check]');
  });
});
