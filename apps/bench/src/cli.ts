#!/usr/bin/env node
// `pnpm bench`: runs every benchmark, or the one named, each beside its baseline in this process, and
// writes results/<name>.json. `--hogs N` runs the benchmarks that support it (`messaging`,
// `send-by-name`) beside N CPU hogs instead: `<name>-hogged` vs `<name>-quiet` in alternating rounds.
// A bare `--` (passed through by pnpm) is ignored.
import { selectBenchmarks, usage } from './arguments.js';
import { runBenchmark } from './harness.js';

async function main(argv: readonly string[]): Promise<number> {
  const selected = selectBenchmarks(argv);
  if (typeof selected === 'string') {
    process.stderr.write(`fos-bench: ${selected}\n${usage}\n`);
    return 2;
  }
  const resultsDirectory = new URL('../results/', import.meta.url);
  for (const benchmark of selected) await runBenchmark(benchmark, { resultsDirectory });
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
