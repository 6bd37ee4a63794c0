#!/usr/bin/env node
// `pnpm bench`: runs every benchmark, or the one named, each beside its baseline
// in this process, and writes results/<name>.json. A bare `--` (passed through by pnpm) is ignored.
import { allBenchmarks, allSuites } from './benchmarks/index.js';
import { runBenchmark, runSuite } from './harness.js';

async function main(argv: readonly string[]): Promise<number> {
  const args = argv.filter((arg) => arg !== '--');
  const benchmarks = allBenchmarks();
  const suites = allSuites();
  const names = [...benchmarks, ...suites].map((benchmark) => benchmark.name);
  if (args.length > 1 || args[0]?.startsWith('-') === true || (args[0] !== undefined && !names.includes(args[0]))) {
    process.stderr.write(
      `fos-bench: ${args.length > 1 ? `one benchmark name at most, got ${args.join(' ')}` : `unknown benchmark ${JSON.stringify(args[0])}`}\nusage: node apps/bench/dist/cli.js [name]\nbenchmarks:\n${names.map((name) => `  ${name}`).join('\n')}\n`,
    );
    return 2;
  }
  const wanted = (name: string): boolean => args[0] === undefined || name === args[0];
  const resultsDirectory = new URL('../results/', import.meta.url);
  for (const benchmark of benchmarks.filter(({ name }) => wanted(name)))
    await runBenchmark(benchmark, { resultsDirectory });
  for (const suite of suites.filter(({ name }) => wanted(name))) await runSuite(suite, { resultsDirectory });
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
