import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runNodeScript } from './testing.js';

const scratch = mkdtempSync(join(tmpdir(), 'fos-base-testing-'));

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('runNodeScript', () => {
  it('answers the exit status and both outputs of a script, run with its arguments in the directory given', async () => {
    const script = join(scratch, 'echo.mjs');
    writeFileSync(
      script,
      "process.stdout.write(process.argv.slice(2).join(' ') + ' ' + process.cwd());\nprocess.stderr.write('warned');\nprocess.exitCode = 3;\n",
    );
    expect(await runNodeScript(script, ['a', 'b'], { cwd: scratch })).toEqual({
      status: 3,
      stdout: `a b ${scratch}`,
      stderr: 'warned',
    });
  });
});
