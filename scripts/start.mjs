#!/usr/bin/env node
// `pnpm start` (= `fos demo`) and `pnpm fos ARGS`: builds what the `fos` command needs, then runs it.
// The build makes JavaScript only (FOS_BUILD_TYPES=0: declarations are for type checks, not for
// running, and bundling them is most of a build's time) and says in plain words what it is doing, on
// stderr as a compiler's progress is: one line per package as its build starts, one at the end. When
// the build fails, turbo runs again showing only the errors, and this exits with its status. Ctrl-C
// and SIGTERM reach `fos`.
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * What a line of `turbo run build --output-logs=hash-only` means to someone waiting for `fos`:
 * `{ building: name }`, `{ cached: name }`, `{ seconds }` (the run's time), or undefined (nothing
 * worth a word).
 */
export function readTurboLine(line) {
  const task = /^(@?[\w./-]+):build: cache (miss|hit|bypass)/.exec(line.trim());
  if (task !== null) return task[2] === 'hit' ? { cached: task[1] } : { building: task[1] };
  const time = /^Time:\s+([\d.]+)(ms|s)\b/.exec(line.trim());
  if (time !== null) return { seconds: time[2] === 'ms' ? Number(time[1]) / 1000 : Number(time[1]) };
  return undefined;
}

/** The closing line of a build: how many packages were built and how long it took. */
export function buildSummary(built, cached, seconds) {
  const packages = (count) => `${count} package${count === 1 ? '' : 's'}`;
  if (built === 0) return `fos: all ${packages(cached)} built already (${seconds.toFixed(1)} s)`;
  const already = cached === 0 ? '' : `; ${cached} built already`;
  return `fos: built ${packages(built)} in ${seconds.toFixed(1)} s${already}`;
}

const turbo = join(root, 'node_modules', '.bin', 'turbo');
const buildArgs = ['run', 'build', '--filter=@fos/system...'];
const buildEnv = { ...process.env, FOS_BUILD_TYPES: '0', TURBO_TELEMETRY_DISABLED: '1' };

function ended(child) {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function build() {
  process.stderr.write('fos: building the packages the `fos` command needs (JavaScript only)…\n');
  const child = spawn(turbo, [...buildArgs, '--output-logs=hash-only'], {
    cwd: root,
    env: buildEnv,
    // Its error lines say only that a task failed: the run after a failure shows what failed.
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let built = 0;
  let cached = 0;
  let seconds = 0;
  for await (const line of createInterface({ input: child.stdout })) {
    const meaning = readTurboLine(line);
    if (meaning?.building !== undefined) {
      built++;
      process.stderr.write(`fos:   building ${meaning.building}…\n`);
    } else if (meaning?.cached !== undefined) cached++;
    else if (meaning?.seconds !== undefined) seconds = meaning.seconds;
  }
  const { code } = await ended(child);
  if (code === 0) {
    process.stderr.write(`${buildSummary(built, cached, seconds)}\n`);
    return 0;
  }
  process.stderr.write('fos: the build failed; its errors:\n');
  const again = spawn(turbo, [...buildArgs, '--output-logs=errors-only'], {
    cwd: root,
    env: buildEnv,
    stdio: 'inherit',
  });
  const rerun = await ended(again);
  return rerun.code === 0 ? 1 : (rerun.code ?? 1);
}

async function main(args) {
  const status = await build();
  if (status !== 0) return status;
  const fos = spawn(process.execPath, [join(root, 'apps', 'system', 'dist', 'cli.js'), ...args], { stdio: 'inherit' });
  // A terminal's Ctrl-C reaches `fos` itself (same process group); a SIGTERM sent to this one is passed on.
  const forward = (signal) => fos.kill(signal);
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', forward);
  const { code, signal } = await ended(fos);
  if (signal !== null) {
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  }
  return code ?? 1;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href)
  process.exitCode = await main(process.argv.slice(2));
