// The arguments of `pnpm bench`: a benchmark name at most, and `--hogs N` (or `--hogs=N`), which runs
// the benchmarks that support it beside N CPU hogs instead.
import { allBenchmarks, hoggableBenchmarks } from './benchmarks/index.js';
import type { Benchmark } from './harness.js';
import { besideHogs, checkHogCount, hogsMax } from './hogs.js';

/** How to call the command. */
export const usage = `usage: node apps/bench/dist/cli.js [name] [--hogs N]   (N in 0..${hogsMax}; with --hogs: messaging, send-by-name)`;

/** What `--help` prints: the usage, what a run does, and every benchmark and suite (`suites`: their names). */
export function benchHelp(suites: readonly string[]): string {
  const benchmarks = allBenchmarks().map(({ name, baselineName }) => `  ${name} (vs ${baselineName})`);
  return `${usage}

Runs each benchmark beside its baseline in this process (alternating rounds, medians), writes
results/<name>.json and prints one line per benchmark, last:
  RESULT <name> <value> <unit> ratio=<r> vs <baseline>
(after a "goal ...: met" or "not met" line where the benchmark states a goal for its ratio).

benchmarks:
${benchmarks.join('\n')}
suites (several results in one file):
${suites.map((name) => `  ${name}`).join('\n')}
`;
}

/** The benchmarks the arguments ask for, or the reason they are wrong. */
export function selectBenchmarks(argv: readonly string[]): Benchmark[] | string {
  const args = argv.filter((arg) => arg !== '--');
  let hogs: number | undefined;
  const names: string[] = [];
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const inline = /^--hogs=(.*)$/.exec(arg);
    if (arg === '--hogs' || inline !== null) {
      const text = inline === null ? args[++index] : inline[1];
      if (hogs !== undefined) return 'one --hogs at most';
      if (text === undefined || !/^\d+$/.test(text)) return `--hogs needs a whole number, got ${JSON.stringify(text)}`;
      try {
        hogs = checkHogCount(Number(text));
      } catch (error) {
        return (error as Error).message;
      }
    } else if (arg.startsWith('-')) return `unknown option ${JSON.stringify(arg)}`;
    else names.push(arg);
  }
  if (names.length > 1) return `one benchmark name at most, got ${names.join(' ')}`;
  const candidates = hogs === undefined ? allBenchmarks() : hoggableBenchmarks();
  const name = names[0];
  const selected = name === undefined ? candidates : candidates.filter((benchmark) => benchmark.name === name);
  if (selected.length === 0)
    return `${hogs === undefined ? 'unknown benchmark' : 'no hogged form of'} ${JSON.stringify(name)}\nbenchmarks${hogs === undefined ? '' : ' with --hogs'}:\n${candidates.map((benchmark) => `  ${benchmark.name}`).join('\n')}`;
  return hogs === undefined ? selected : selected.map((benchmark) => besideHogs(benchmark, hogs));
}
