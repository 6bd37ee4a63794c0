#!/usr/bin/env node
// `pnpm bench`: runs every benchmark, or the one named, each beside its baseline in this process, and
// writes results/<name>.json; then the suites (`peers`, `memory`: several results in one file).
// `--hogs N` runs the benchmarks that support it (`messaging`, `send-by-name`) beside N CPU hogs
// instead: `<name>-hogged` vs `<name>-quiet` in alternating rounds.
// A bare `--` (passed through by pnpm) is ignored.
import { benchHelp, selectBenchmarks, usage } from './arguments.js';
import { allSuites } from './benchmarks/index.js';
import { runBenchmark, runSuite } from './harness.js';

async function main(argv: readonly string[]): Promise<number> {
  const args = argv.filter((arg) => arg !== '--');
  const resultsDirectory = new URL('../results/', import.meta.url);
  const suites = allSuites();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(benchHelp(suites.map(({ name }) => name)));
    return 0;
  }
  const suite = args.length === 1 ? suites.find(({ name }) => name === args[0]) : undefined;
  if (suite !== undefined) {
    await runSuite(suite, { resultsDirectory });
    return 0;
  }
  const selected = selectBenchmarks(argv);
  if (typeof selected === 'string') {
    process.stderr.write(
      `fos-bench: ${selected}\nsuites:\n${suites.map(({ name }) => `  ${name}`).join('\n')}\n${usage}\n`,
    );
    return 2;
  }
  for (const benchmark of selected) await runBenchmark(benchmark, { resultsDirectory });
  if (args.length === 0) for (const each of suites) await runSuite(each, { resultsDirectory });
  return 0;
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`fos-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
