// `pnpm test:busy`: the whole test suite on a busy machine. Starts CPU-bound child processes (two by
// default, `node scripts/test-busy.mjs N` for N), runs `pnpm test` with turbo's cache off (a cached
// result would prove nothing), always stops the hogs, and exits with the tests' status. A test that
// fails only here measured a speed: its timeout must bound a hang, never how fast the machine is.
import { spawn } from 'node:child_process';

const hogCount = process.argv[2] === undefined ? 2 : Number(process.argv[2]);
if (!Number.isInteger(hogCount) || hogCount < 0 || hogCount > 64) {
  console.error(`test:busy: the hog count ${JSON.stringify(process.argv[2])} is not a whole number in 0..64`);
  process.exit(2);
}

// A hog spins; every few million rounds it checks that this script still runs, so a hog whose
// parent was killed outright ends by itself.
const hogSource = `const parent = ${process.pid};
for (let round = 1; ; round++) if ((round & 0xffffff) === 0 && process.ppid !== parent) process.exit(0);`;
const hogs = Array.from({ length: hogCount }, () => spawn(process.execPath, ['-e', hogSource], { stdio: 'ignore' }));
const stopHogs = () => {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
};
process.on('exit', stopHogs);

console.log(
  `test:busy: ${hogCount} CPU-bound processes beside pnpm test (pids ${hogs.map((hog) => hog.pid).join(', ')})`,
);
const tests = spawn('pnpm', ['test'], { stdio: 'inherit', env: { ...process.env, TURBO_FORCE: 'true' } });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    tests.kill(signal);
    stopHogs();
    process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1));
  });
}
tests.on('error', (error) => {
  console.error(`test:busy: could not start pnpm test: ${error.message}`);
  stopHogs();
  process.exit(1);
});
tests.on('exit', (code, signal) => {
  stopHogs();
  console.log(`test:busy: pnpm test ended (${signal ?? `status ${code}`}) beside ${hogCount} CPU-bound processes`);
  process.exit(code ?? 1);
});
