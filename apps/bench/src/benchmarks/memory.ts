// `pnpm bench memory`: what fos keeps in memory per idle process, per mailbox and per name of the
// name table (one member, and each member of a fleet of 3), each beside a plain-JavaScript baseline
// holding the same things. Every figure comes from a child process of its own (memory-child.ts).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { formatResultLine, machineInfo, type BenchmarkSuite, type RunOptions } from '../harness.js';
import type { MemoryKind, MemoryMeasurement } from '../memory-child.js';

/** Settings of {@link memory}. */
export interface MemorySettings {
  /** Idle processes (and baseline objects with a port) per measurement. */
  readonly processes: number;
  /** Mailboxes (and baseline mailbox objects) per measurement. */
  readonly mailboxes: number;
  /** Sizes of the name table measured, at one member and in a fleet. */
  readonly names: readonly number[];
  /** The V8 old-space limit of each child, in MiB (a fleet of 3 with 1 M names holds about 2 GiB). */
  readonly childHeapMiB: number;
  /** The built child module (default: `dist/memory-child.js` of this package). */
  readonly childModule?: string | URL;
}

/** The defaults: about two to three minutes on a 2-core machine, most of it filling 1 M names. */
export const memoryDefaults: MemorySettings = Object.freeze({
  processes: 2_000,
  mailboxes: 2_000,
  names: Object.freeze([100_000, 1_000_000]),
  childHeapMiB: 8_192,
});

/** The goals of issue 14, checked in the table (never asserted: a benchmark reports). */
export const memoryGoals = Object.freeze({
  /** JS heap per idle process beyond the machine's fixed base, bytes. */
  processHeapBytes: 16 * 1024,
  /** JS heap per member for 1 M names, bytes. */
  memberHeapBytesFor1M: 512 * 1024 * 1024,
});

/** Members of the measured fleet. */
export const fleetMembers = 3;

/** One row of `results/memory.json`: a fos figure beside its baseline, per thing. */
export interface MemoryRow {
  readonly name: string;
  readonly baselineName: string;
  readonly unit: string;
  readonly count: number;
  /** JS heap per thing (after a full collection), bytes; in a fleet, per member. */
  readonly heapBytes: number;
  readonly baselineHeapBytes: number;
  /** `heapBytes / baselineHeapBytes`: above 1, fos keeps more than the baseline. */
  readonly ratio: number;
  /** RSS growth per thing, bytes (noisier: the allocator keeps pages). */
  readonly rssBytes: number;
  readonly baselineRssBytes: number;
  /** The JS heap before the things were built (the fixed base), bytes. */
  readonly baseHeapBytes: number;
  /** For name tables: heap of the whole table at one member, MiB. */
  readonly tableMiBPerMember?: number;
  readonly measured: MemoryMeasurement;
  readonly baseline: MemoryMeasurement;
}

/** The built module of `src/memory-child.ts`: beside the running command, or in `dist/` from the sources. */
export function defaultChildModule(): URL {
  const here = import.meta.url;
  return here.endsWith('.ts') ? new URL('../../dist/memory-child.js', here) : new URL('./memory-child.js', here);
}

/** Runs one child: `node --expose-gc memory-child.js <kind> <count>`, and reads its JSON line. */
export function measureInChild(
  kind: MemoryKind,
  count: number,
  settings: Pick<MemorySettings, 'childHeapMiB' | 'childModule'>,
): Promise<MemoryMeasurement> {
  const module = settings.childModule ?? defaultChildModule();
  const path = typeof module === 'string' ? module : fileURLToPath(module);
  const args = ['--expose-gc', `--max-old-space-size=${settings.childHeapMiB}`, path, kind, String(count)];
  return new Promise((resolve, reject) => {
    execFile(process.execPath, args, { maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`memory child ${kind} ${count} failed: ${error.message} ${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout.trim()) as MemoryMeasurement);
    });
  });
}

/** `memory`: a suite of memory pairs (smaller is better), one `RESULT` line each, the table to `results/memory.json`. */
export function memory(
  overrides: Partial<MemorySettings> = {},
): BenchmarkSuite & { readonly settings: MemorySettings } {
  const settings: MemorySettings = { ...memoryDefaults, ...overrides };
  return { name: 'memory', settings, run: (options) => runMemory(settings, options) };
}

interface Pair {
  readonly name: string;
  readonly baselineName: string;
  readonly unit: string;
  readonly kind: MemoryKind;
  readonly baselineKind: MemoryKind;
  readonly count: number;
  /** What one measurement's heap growth is divided by besides the count (the members of a fleet). */
  readonly members: number;
}

function pairs(settings: MemorySettings): Pair[] {
  const one = { members: 1 };
  const table = (count: number): string => (count >= 1_000_000 ? `${count / 1_000_000}m` : `${count / 1_000}k`);
  return [
    {
      ...one,
      name: 'memory-process',
      baselineName: 'object-with-port',
      unit: 'B/process',
      kind: 'process',
      baselineKind: 'object-with-port',
      count: settings.processes,
    },
    {
      ...one,
      name: 'memory-mailbox',
      baselineName: 'plain-mailbox',
      unit: 'B/mailbox',
      kind: 'mailbox',
      baselineKind: 'plain-mailbox',
      count: settings.mailboxes,
    },
    ...settings.names.flatMap((count): Pair[] => [
      {
        ...one,
        name: `memory-names-${table(count)}`,
        baselineName: `map-${table(count)}`,
        unit: 'B/name',
        kind: 'names',
        baselineKind: 'names-map',
        count,
      },
      {
        name: `memory-fleet-names-${table(count)}`,
        baselineName: `map-${table(count)}`,
        unit: 'B/name',
        kind: 'names-fleet',
        baselineKind: 'names-map',
        count,
        members: fleetMembers,
      },
    ]),
  ];
}

async function runMemory(
  settings: MemorySettings,
  options: Omit<RunOptions, 'resultsDirectory'>,
): Promise<Record<string, unknown>> {
  const print = options.print ?? ((line: string) => process.stdout.write(`${line}\n`));
  const rows: MemoryRow[] = [];
  const baselines = new Map<string, MemoryMeasurement>();
  const machine = options.machine ?? machineInfo();
  print(`memory: children on Node ${machine.node}, ${machine.platform}, ${machine.cpus} CPUs (${machine.model})`);
  for (const pair of pairs(settings)) {
    print(`${pair.name} vs ${pair.baselineName}: count=${pair.count} members=${pair.members}`);
    const measured = await measureInChild(pair.kind, pair.count, settings);
    // The Map of a table size serves the one-member and the fleet rows alike.
    const key = `${pair.baselineKind}:${pair.count}`;
    const baseline = baselines.get(key) ?? (await measureInChild(pair.baselineKind, pair.count, settings));
    baselines.set(key, baseline);
    const row = memoryRow(pair, measured, baseline);
    rows.push(row);
    print(
      `  heap ${Math.round(row.heapBytes)} vs ${Math.round(row.baselineHeapBytes)} ${pair.unit}, rss ${Math.round(row.rssBytes)} vs ${Math.round(row.baselineRssBytes)} ${pair.unit}` +
        (row.tableMiBPerMember === undefined ? '' : `, ${row.tableMiBPerMember.toFixed(1)} MiB per member`) +
        `, built in ${Math.round(measured.buildMs)} ms`,
    );
    print(formatResultLine({ ...row, value: row.heapBytes }));
  }
  return { settings, goals: memoryGoals, fleetMembers, rows, goalsMet: goalsMet(rows) };
}

/** The row of one pair: per thing, and per member in a fleet. */
export function memoryRow(pair: Pair, measured: MemoryMeasurement, baseline: MemoryMeasurement): MemoryRow {
  const heapBytes = measured.perItem.heapBytes / pair.members;
  return {
    name: pair.name,
    baselineName: pair.baselineName,
    unit: pair.unit,
    count: pair.count,
    heapBytes,
    baselineHeapBytes: baseline.perItem.heapBytes,
    ratio: heapBytes / baseline.perItem.heapBytes,
    rssBytes: measured.perItem.rssBytes / pair.members,
    baselineRssBytes: baseline.perItem.rssBytes,
    baseHeapBytes: measured.before.heapBytes,
    ...(pair.unit === 'B/name' ? { tableMiBPerMember: (heapBytes * pair.count) / 2 ** 20 } : {}),
    measured,
    baseline,
  };
}

/** Each goal, and whether the measured rows meet it (undefined where the row was not measured). */
function goalsMet(rows: readonly MemoryRow[]): Record<string, boolean | undefined> {
  const row = (name: string): MemoryRow | undefined => rows.find((candidate) => candidate.name === name);
  const process = row('memory-process');
  const oneMember = row('memory-names-1m');
  const fleet = row('memory-fleet-names-1m');
  const fits = (found: MemoryRow | undefined): boolean | undefined =>
    found === undefined ? undefined : found.heapBytes * found.count <= memoryGoals.memberHeapBytesFor1M;
  return {
    processHeapAtMost16KiB: process === undefined ? undefined : process.heapBytes <= memoryGoals.processHeapBytes,
    oneMember1MAtMost512MiB: fits(oneMember),
    fleetMember1MAtMost512MiB: fits(fleet),
  };
}
