// The processes of a simulated run: the clients of the two workloads and the membership changer. Each
// is a generator over `SimulationRequest`s, so that it reads as a sequence of steps and runs without a
// promise.
import type { SeededRandom } from '@fos/sim';
import type { OperationResult } from '../replicated/core-types.js';
import type { StoreCore } from '../replicated/core.js';
import type { HistoryOperation, LogicalOperation, SimulationProcess, SimulationRequest } from './simulation.js';

/** What the processes of one run share. */
export type Workers = {
  readonly random: SeededRandom;
  readonly serving: () => Array<StoreCore<string>>;
  readonly history: HistoryOperation[];
  readonly logical: LogicalOperation[];
  readonly membership: string[];
  readonly membershipFailures: string[];
  /** The logical clock of calls and returns. */
  logicalTime: number;
  readonly operationsPerClient: number;
  readonly retries: number;
};

const hotKeys = ['h1', 'h2'];
const coldKeys = Array.from({ length: 20 }, (_, index) => `c${index}`);

function pick<T>(random: SeededRandom, items: readonly T[]): T {
  return items[random.nextInt(items.length)] as T;
}

function* sleep(ms: number): Generator<SimulationRequest, void, unknown> {
  yield { kind: 'sleep', ms };
}

function* propose(
  request: Extract<SimulationRequest, { kind: 'propose' }>,
): Generator<SimulationRequest, OperationResult<string>, unknown> {
  return (yield request) as OperationResult<string>;
}

/** One operation of `client` at `member`, recorded in the history. */
function* record(
  workers: Workers,
  client: number,
  member: StoreCore<string>,
  key: string,
  input: HistoryOperation['input'],
): Generator<SimulationRequest, HistoryOperation, unknown> {
  const call = ++workers.logicalTime;
  const result = yield* propose({
    kind: 'propose',
    member,
    operation: input.op === 'get' ? { op: 'get', key } : { ...input, key },
  });
  let output: HistoryOperation['output'];
  if (!result.ok) output = { error: result.error.code, message: result.error.message };
  else if (input.op === 'get')
    output = {
      entry: result.entry === undefined ? null : { value: result.entry.value, version: result.entry.version },
    };
  else output = { ok: true };
  const operation: HistoryOperation = {
    client,
    member: member.name,
    key,
    input,
    output,
    call,
    return: ++workers.logicalTime,
  };
  workers.history.push(operation);
  return operation;
}

/** The mixed workload: random modifications and Gets, mostly of the hot keys, each modification followed by a Get at another member. */
export function* mixedClient(workers: Workers, id: number): SimulationProcess {
  const { random } = workers;
  const versions = new Map<string, number>();
  for (let index = 0; index < workers.operationsPerClient; index++) {
    if (random.nextInt(3) === 0) yield* sleep(random.nextInt(5));
    const key = random.nextInt(10) < 7 ? pick(random, hotKeys) : pick(random, coldKeys);
    const member = pick(random, workers.serving());
    const kind = random.nextInt(10);
    const known = versions.get(key) ?? 1 + random.nextInt(2);
    const value = `c${id}.${index}`;
    const input: HistoryOperation['input'] =
      kind < 3
        ? { op: 'insert', value }
        : kind < 6
          ? { op: 'update', value, expectedVersion: known }
          : kind < 7
            ? { op: 'delete', expectedVersion: known }
            : { op: 'get' };
    const done = yield* record(workers, id, member, key, input);
    if ('entry' in done.output) versions.set(key, done.output.entry?.version ?? 1);
    if (input.op !== 'get') {
      // A Get at another member right after each modification returns.
      const after = yield* record(workers, id, pick(random, workers.serving()), key, { op: 'get' });
      if ('entry' in after.output && after.output.entry !== null) versions.set(key, after.output.entry.version);
    }
  }
}

/** The contended workload: read-modify-writes of the hot keys, each retried on CONFLICT after a backoff. */
export function* contendedClient(workers: Workers, id: number): SimulationProcess {
  const { random } = workers;
  for (let index = 0; index < workers.operationsPerClient; index++) {
    const key = pick(random, hotKeys);
    const op = random.nextInt(4) === 0 ? 'remove' : 'set';
    const value = `c${id}.${index}`;
    const call = ++workers.logicalTime;
    let outcome: LogicalOperation['outcome'] = 'exhausted';
    let attempts = 0;
    while (outcome === 'exhausted' && attempts <= workers.retries) {
      if (attempts > 0) yield* sleep(1 + random.nextInt(1 << Math.min(attempts, 5)));
      attempts++;
      const member = pick(random, workers.serving());
      const read = yield* record(workers, id, member, key, { op: 'get' });
      if (!('entry' in read.output)) continue;
      const entry = read.output.entry;
      if (op === 'remove' && entry === null) {
        outcome = 'unneeded';
        break;
      }
      const input: HistoryOperation['input'] =
        op === 'remove'
          ? { op: 'delete', expectedVersion: (entry as { version: number }).version }
          : entry === null
            ? { op: 'insert', value }
            : { op: 'update', value, expectedVersion: entry.version };
      if ('ok' in (yield* record(workers, id, member, key, input)).output) outcome = 'ok';
    }
    workers.logical.push({ client: id, key, op, call, return: ++workers.logicalTime, attempts, outcome });
  }
}

/** Joins and leaves in the middle of the traffic, one after the other; `addMember` makes a newcomer (undefined when the run is full). */
export function* changer(
  workers: Workers,
  changes: number,
  addMember: () => StoreCore<string> | undefined,
): SimulationProcess {
  const { random } = workers;
  for (let index = 0; index < changes; index++) {
    yield* sleep(1 + random.nextInt(20));
    const current = workers.serving();
    if (current.length > 1 && random.nextInt(2) === 0) {
      const leaver = pick(random, current);
      workers.membership.push(`-${leaver.name}`);
      const left = yield* propose({ kind: 'propose', member: leaver, operation: { op: 'leave' } });
      if (!left.ok) workers.membershipFailures.push(`leave ${leaver.name}: ${String(left.error)}`);
      continue;
    }
    const newcomer = addMember();
    if (newcomer === undefined) continue;
    workers.membership.push(`+${newcomer.name}`);
    const joined = yield* propose({
      kind: 'propose',
      member: newcomer,
      operation: { op: 'join', sponsor: pick(random, current).name },
    });
    if (!joined.ok) workers.membershipFailures.push(`join ${newcomer.name}: ${String(joined.error)}`);
  }
}
