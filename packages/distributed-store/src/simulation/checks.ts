// The checks of a simulated run: the history is linearizable per key, every read-modify-write group
// made progress, every client returned, and the serving members agree on the table and on the members.
import { describeValue } from '@fos/base';
import { checkOperations, createStoreModel, type StoreOperation } from '../linearizability/index.js';
import { checkHistory, checkLogical, checkRun } from './arguments.js';
import type { HistoryOperation, LogicalOperation, SimulationRun } from './simulation.js';

/** The model of one key of the replicated store: a `CONFLICT` may be a refusal by wait-die, but has no effect. */
const replicatedStoreModel = createStoreModel({ conflictsMayBeSpurious: true });

/**
 * The history as the linearizability checker takes it: operations that never started (`SHUTDOWN` at a
 * member that had left) and Gets that answered `TIMEOUT` (no effect, no answer) are left out.
 */
export function checkerOperations(history: readonly HistoryOperation[]): StoreOperation[] {
  checkHistory(history);
  const operations: StoreOperation[] = [];
  for (const operation of history) {
    const { input, output, key } = operation;
    if ('error' in output && output.error !== 'CONFLICT') continue;
    const base = { client: operation.client, call: operation.call, return: operation.return };
    if (input.op === 'get') {
      if (!('entry' in output)) continue;
      operations.push({
        ...base,
        input: { op: 'get', key },
        output: output.entry === null ? undefined : { value: output.entry.value, version: output.entry.version },
      });
      continue;
    }
    const result = 'ok' in output ? ({ ok: true } as const) : ({ ok: false, code: 'CONFLICT' } as const);
    operations.push({ ...base, input: { ...input, key }, output: result });
  }
  return operations;
}

/** The reasons a run is wrong, empty when it is right. `BAD_REQUEST` for anything but a run `simulateStore` made. */
export function runFailures(run: SimulationRun): string[] {
  checkRun(run);
  const failures: string[] = [];
  const verdict = checkOperations(replicatedStoreModel, checkerOperations(run.history));
  if (verdict.result !== 'ok')
    failures.push(
      `the history is ${verdict.result === 'illegal' ? 'not linearizable' : 'too hard to check (unknown)'}:\n${verdict.explanation ?? ''}`,
    );
  failures.push(...progressFailures(run.logical));
  if (run.stuckClients > 0) failures.push(`${run.stuckClients} client(s) never got all their answers`);
  failures.push(...run.membershipFailures);
  const serving = run.members.filter((member) => member.serving);
  const tables = serving.map((member) => JSON.stringify(member.snapshot()));
  if (new Set(tables).size > 1)
    failures.push(
      `replicas differ:\n${serving.map((member, index) => `  ${member.name}: ${tables[index]}`).join('\n')}`,
    );
  const names = JSON.stringify(serving.map((member) => member.name).sort());
  for (const member of serving)
    if (JSON.stringify([member.name, ...member.peers].sort()) !== names)
      failures.push(`${member.name} knows ${JSON.stringify(member.peers)}, the serving members are ${names}`);
  for (const member of run.members)
    if (!member.quiet)
      failures.push(
        `${member.name} is not quiet (an operation pending, an arbiter held, a vote, outcome or membership reply awaited, or a sleeper)`,
      );
  return failures;
}

/**
 * No livelock: read-modify-writes of one key that overlap in time (directly or through others) form a
 * group of contenders, and in every group at least one commits. `unneeded` ones made no modification
 * and are left out.
 */
export function progressFailures(logical: readonly LogicalOperation[]): string[] {
  checkLogical(logical);
  const failures: string[] = [];
  const byKey = new Map<string, LogicalOperation[]>();
  for (const operation of logical) {
    if (operation.outcome === 'unneeded') continue;
    byKey.set(operation.key, [...(byKey.get(operation.key) ?? []), operation]);
  }
  for (const [key, operations] of byKey) {
    operations.sort((left, right) => left.call - right.call);
    let group: LogicalOperation[] = [];
    let groupEnd = -1;
    const close = () => {
      if (group.length > 0 && !group.some((operation) => operation.outcome === 'ok')) {
        const who = group
          .map(
            (operation) =>
              `client ${operation.client} ${operation.op} [${operation.call}, ${operation.return}] ${operation.attempts} attempt(s)`,
          )
          .join('; ');
        failures.push(
          `no progress on ${describeValue(key)}: ${group.length} contending read-modify-write(s), none committed: ${who}`,
        );
      }
    };
    for (const operation of operations) {
      if (operation.call > groupEnd) {
        close();
        group = [];
      }
      group.push(operation);
      groupEnd = Math.max(groupEnd, operation.return);
    }
    close();
  }
  return failures;
}
