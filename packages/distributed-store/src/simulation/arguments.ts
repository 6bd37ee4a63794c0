// The checks of what a test hands the simulation and its checks: options, planted bugs, and the runs and
// histories the checks read. Each reads an outside value once, inside a try (a getter or a proxy that
// throws is `BAD_REQUEST`), and refuses with `BAD_REQUEST` naming the value before anything runs.
import { describeValue } from '@fos/base';
import { seedCountMax } from '@fos/sim';
import { checkMemberName, checkRecord, readArgument, refuse } from '../internal/arguments.js';
import { plantedBugNames, type PlantedBugs } from './planted-bugs.js';
import type { HistoryOperation, LogicalOperation, SimulationRun, SimulationWorkload } from './simulation.js';

/** A safe integer in [minimum, maximum], or `BAD_REQUEST` naming `what` and the bound. */
export function checkCount(value: unknown, what: string, minimum: number, maximum: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < minimum || value > maximum)
    refuse(`${what} ${describeValue(value)} is not an integer in [${minimum}, ${maximum}]`, value);
  return value;
}

function checkWorkload(value: unknown): SimulationWorkload {
  if (value !== 'mixed' && value !== 'contended')
    refuse(`workload ${describeValue(value)} is not mixed or contended`, value);
  return value;
}

/** Planted bugs: an object whose fields, each a planted bug's name, are booleans. */
export function checkedPlantedBugs(bugs: unknown): PlantedBugs {
  return readArgument(bugs, 'the planted bugs', () => {
    checkRecord(bugs, 'the planted bugs');
    const checked: Record<string, boolean> = {};
    for (const name of Object.keys(bugs)) {
      const known = plantedBugNames.find((bug) => bug === name);
      if (known === undefined)
        refuse(`${describeValue(name)} is not a planted bug (${plantedBugNames.join(', ')})`, name);
      const value = bugs[name];
      if (value === undefined) continue;
      if (typeof value !== 'boolean') refuse(`planted bug ${name} ${describeValue(value)} is not a boolean`, value);
      checked[known] = value;
    }
    return checked;
  });
}

/** The bounds of a simulation's options (see `simulateStore`). */
export type SimulationBounds = {
  readonly membersMax: number;
  readonly clientsMax: number;
  readonly operationsPerClientMax: number;
  readonly membershipChangesMax: number;
  readonly retriesMax: number;
};

/** The options of `simulateStore`, checked: each absent field stays absent. */
export function checkedSimulationOptions(options: unknown, bounds: SimulationBounds): Record<string, unknown> {
  return readArgument(options, 'the options of a simulation', () => {
    checkRecord(options, 'the options of a simulation');
    const { members, clients, operationsPerClient, membershipChanges, plantedBugs, workload, retries } = options;
    const checked: Record<string, unknown> = {};
    if (members !== undefined) checked.members = checkCount(members, 'members', 1, bounds.membersMax);
    if (clients !== undefined) checked.clients = checkCount(clients, 'clients', 0, bounds.clientsMax);
    if (operationsPerClient !== undefined)
      checked.operationsPerClient = checkCount(
        operationsPerClient,
        'operationsPerClient',
        0,
        bounds.operationsPerClientMax,
      );
    if (membershipChanges !== undefined)
      checked.membershipChanges = checkCount(membershipChanges, 'membershipChanges', 0, bounds.membershipChangesMax);
    if (plantedBugs !== undefined) checked.plantedBugs = checkedPlantedBugs(plantedBugs);
    if (workload !== undefined) checked.workload = checkWorkload(workload);
    if (retries !== undefined) checked.retries = checkCount(retries, 'retries', 0, bounds.retriesMax);
    return checked;
  });
}

/** The options of `sweepSeeds`, checked. */
export function checkedSweepOptions(options: unknown): {
  first: number;
  count: number;
  workloads: SimulationWorkload[];
  plantedBugs: PlantedBugs | undefined;
} {
  return readArgument(options, 'the options of a sweep', () => {
    checkRecord(options, 'the options of a sweep');
    const count = checkCount(options.count, 'count', 0, seedCountMax);
    const first = checkCount(options.first, 'first', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - count);
    const { workloads } = options;
    if (!Array.isArray(workloads)) refuse(`workloads ${describeValue(workloads)} is not an array`, workloads);
    return {
      first,
      count,
      workloads: [...(workloads as unknown[])].map(checkWorkload),
      plantedBugs: options.plantedBugs === undefined ? undefined : checkedPlantedBugs(options.plantedBugs),
    };
  });
}

function checkFiniteNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || Number.isNaN(value))
    refuse(`${what} ${describeValue(value)} is not a number`, value);
  return value;
}

function checkString(value: unknown, what: string): string {
  if (typeof value !== 'string') refuse(`${what} ${describeValue(value)} is not a string`, value);
  return value;
}

function checkHistoryInput(input: unknown): void {
  checkRecord(input, 'an operation input');
  const { op } = input;
  if (op !== 'insert' && op !== 'update' && op !== 'delete' && op !== 'get')
    refuse(`an operation's op ${describeValue(op)} is not insert, update, delete or get`, op);
  if (op === 'insert' || op === 'update') checkString(input.value, 'a value');
  if (op === 'update' || op === 'delete')
    checkCount(input.expectedVersion, 'an expected version', 1, Number.MAX_SAFE_INTEGER);
}

function checkHistoryOutput(output: unknown): void {
  checkRecord(output, 'an operation output');
  if (output.ok === true) return;
  if ('error' in output) {
    checkString(output.error, 'an error code');
    checkString(output.message, 'an error message');
    return;
  }
  if (!('entry' in output))
    refuse(`an operation output ${describeValue(output)} is neither ok, an error nor an entry`, output);
  const { entry } = output;
  if (entry === null) return;
  checkRecord(entry, 'an entry');
  checkString(entry.value, 'an entry value');
  checkCount(entry.version, 'an entry version', 1, Number.MAX_SAFE_INTEGER);
}

/** A simulation's history, as `checkerOperations` reads it. */
export function checkHistory(history: unknown): readonly HistoryOperation[] {
  return readArgument(history, 'a history', () => {
    if (!Array.isArray(history)) refuse(`a history ${describeValue(history)} is not an array`, history);
    for (const operation of history as unknown[]) {
      checkRecord(operation, 'a history operation');
      checkFiniteNumber(operation.client, 'a client');
      checkString(operation.key, 'a key');
      checkHistoryInput(operation.input);
      checkHistoryOutput(operation.output);
      checkFiniteNumber(operation.call, 'a call time');
      checkFiniteNumber(operation.return, 'a return time');
    }
    return history as readonly HistoryOperation[];
  });
}

/** A contended run's read-modify-writes, as `progressFailures` reads them. */
export function checkLogical(logical: unknown): readonly LogicalOperation[] {
  return readArgument(logical, 'the read-modify-writes', () => {
    if (!Array.isArray(logical)) refuse(`the read-modify-writes ${describeValue(logical)} are not an array`, logical);
    for (const operation of logical as unknown[]) {
      checkRecord(operation, 'a read-modify-write');
      checkFiniteNumber(operation.client, 'a client');
      checkString(operation.key, 'a key');
      checkString(operation.op, 'an op');
      checkFiniteNumber(operation.call, 'a call time');
      checkFiniteNumber(operation.return, 'a return time');
      checkFiniteNumber(operation.attempts, 'attempts');
      const { outcome } = operation;
      if (outcome !== 'ok' && outcome !== 'unneeded' && outcome !== 'exhausted')
        refuse(`an outcome ${describeValue(outcome)} is not ok, unneeded or exhausted`, outcome);
    }
    return logical as readonly LogicalOperation[];
  });
}

/** A simulated run, as `runFailures` reads it: its members are asked their name, peers, state and table. */
export function checkRun(run: unknown): SimulationRun {
  return readArgument(run, 'a simulated run', () => {
    checkRecord(run, 'a simulated run');
    checkHistory(run.history);
    checkLogical(run.logical);
    checkFiniteNumber(run.stuckClients, 'stuckClients');
    const { members, membershipFailures } = run;
    if (
      !Array.isArray(membershipFailures) ||
      !(membershipFailures as unknown[]).every((line) => typeof line === 'string')
    )
      refuse(`membershipFailures ${describeValue(membershipFailures)} is not an array of strings`, membershipFailures);
    if (!Array.isArray(members)) refuse(`members ${describeValue(members)} is not an array`, members);
    for (const member of members as unknown[]) {
      checkRecord(member, 'a member');
      checkMemberName(member.name);
      if (!Array.isArray(member.peers)) refuse(`the peers of ${String(member.name)} are not an array`, member.peers);
      if (
        typeof member.serving !== 'boolean' ||
        typeof member.quiet !== 'boolean' ||
        typeof member.snapshot !== 'function'
      )
        refuse(`member ${String(member.name)} is not a store member (serving, quiet, snapshot())`, member);
    }
    return run as SimulationRun;
  });
}
