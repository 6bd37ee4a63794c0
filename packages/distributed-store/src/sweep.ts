// `pnpm --filter @fos/distributed-store sim`: a long sweep of the replicated store's simulation,
// outside CI. SIM_SEEDS seeds (default 10,000) from SIM_SEED_START (default 1), split over SIM_WORKERS
// processes (default: one per core); SIM_WORKLOAD is mixed, contended or both (default: both, each
// seed runs each workload); SIM_BUG names a planted bug to run with (experiments only).
// Prints every failing seed with its reasons, and the seeds per second; exits 1 on any failure.
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { plantedBugNames, type PlantedBugs } from './simulation/planted-bugs.js';
import type { SimulationWorkload } from './simulation/simulation.js';
import { sweepSeeds } from './simulation/sweep-seeds.js';

type WorkerMessage =
  | { readonly kind: 'failure'; readonly seed: number; readonly reasons: string }
  | { readonly kind: 'done'; readonly seeds: number };

function integerFromEnv(name: string, fallback: number, minimum: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < minimum)
    throw new Error(`${name}=${text} is not an integer >= ${minimum}`);
  return value;
}

function plantedBugs(): PlantedBugs | undefined {
  const bug = process.env.SIM_BUG;
  if (bug === undefined || bug === '') return undefined;
  const known = plantedBugNames.find((name) => name === bug);
  if (known === undefined) throw new Error(`SIM_BUG=${bug} is not a planted bug (${plantedBugNames.join(', ')})`);
  return { [known]: true };
}

function workloads(): SimulationWorkload[] {
  const text = process.env.SIM_WORKLOAD ?? 'both';
  if (text === 'both' || text === '') return ['mixed', 'contended'];
  if (text !== 'mixed' && text !== 'contended') throw new Error(`SIM_WORKLOAD=${text} is not mixed, contended or both`);
  return [text];
}

/** Sweeps its share of the seeds and reports to the parent; disconnects once every report has left. */
function worker(start: number, count: number): void {
  const bugs = plantedBugs();
  const failures = sweepSeeds({
    first: start,
    count,
    workloads: workloads(),
    ...(bugs === undefined ? {} : { plantedBugs: bugs }),
  });
  for (const { seed, workload, reasons } of failures)
    process.send?.({
      kind: 'failure',
      seed,
      reasons: `workload ${workload}\n${reasons.join('\n')}`,
    } satisfies WorkerMessage);
  // Messages leave in order, so once the last one has left every failure has too.
  process.send?.({ kind: 'done', seeds: count } satisfies WorkerMessage, () => process.disconnect?.());
}

async function main(): Promise<number> {
  const seeds = integerFromEnv('SIM_SEEDS', 10_000, 1);
  const first = integerFromEnv('SIM_SEED_START', 1, 0);
  const workers = Math.min(integerFromEnv('SIM_WORKERS', availableParallelism(), 1), seeds);
  plantedBugs();
  const workloadNames = workloads().join('+');
  const startedMs = performance.now();
  const failures: Array<{ seed: number; reasons: string }> = [];
  const chunk = Math.ceil(seeds / workers);
  const script = fileURLToPath(import.meta.url);
  const runs: Array<Promise<void>> = [];
  for (let index = 0; index < workers; index++) {
    const start = first + index * chunk;
    const count = Math.min(chunk, first + seeds - start);
    if (count <= 0) break;
    runs.push(
      new Promise<void>((resolve, reject) => {
        const child = fork(script, ['--worker', String(start), String(count)], {
          stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        });
        child.on('message', (message: WorkerMessage) => {
          if (message.kind === 'failure') {
            failures.push(message);
            process.stdout.write(`FAIL seed=${message.seed}\n${message.reasons}\n`);
          }
        });
        child.on('exit', (code) =>
          code === 0
            ? resolve()
            : reject(new Error(`the worker for seeds ${start}..${start + count - 1} exited with ${String(code)}`)),
        );
      }),
    );
  }
  await Promise.all(runs);
  const seconds = (performance.now() - startedMs) / 1000;
  process.stdout.write(
    `sweep: seeds ${first}..${first + seeds - 1} (${seeds}), workload ${workloadNames}, ${workers} worker(s), ${failures.length} failing, ${seconds.toFixed(1)} s, ${(seeds / seconds).toFixed(0)} seeds/s${process.env.SIM_BUG ? `, planted bug ${process.env.SIM_BUG}` : ''}\n`,
  );
  if (failures.length > 0)
    process.stdout.write(
      `failing seeds: ${failures
        .map((failure) => failure.seed)
        .sort((left, right) => left - right)
        .join(' ')}\n`,
    );
  return failures.length > 0 ? 1 : 0;
}

// A reader that goes away (`| head`) ends the output quietly.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
});

if (process.argv[2] === '--worker') {
  try {
    worker(Number(process.argv[3]), Number(process.argv[4]));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
    process.disconnect?.();
  }
} else {
  main().then(
    (status) => (process.exitCode = status),
    (error: unknown) => {
      process.stderr.write(`sweep: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 2;
    },
  );
}
