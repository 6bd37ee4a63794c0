// A seeded simulation of a replicated store: 1 to 8 members over a SimNetwork that reorders messages
// across streams, and one of two workloads. `mixed`: clients issue random modifications and Gets on a
// few hot keys and many cold ones, a Get at another member right after each modification returns.
// `contended`: every client read-modify-writes the two hot keys and retries on CONFLICT with a backoff,
// as the name service does, so that progress can be checked: of contending modifications, one succeeds.
// One seed replays one run.
import { isFosError } from '@fos/microkernel';
import { SeededRandom, SimNetwork, VirtualClock } from '@fos/sim';
import { checkOperations, createStoreModel, type StoreOperation } from '../linearizability/index.js';
import { ReplicatedMember, type PlantedBugs } from './member.js';
import type { MemberName, StoreMessage } from './messages.js';

/** Deliveries and timer firings one simulated run may take before it counts as a livelock. */
export const simulationStepsMax = 2_000_000;

/** One operation as a client saw it: what it asked, what it got, and when (logical time). */
export type HistoryOperation = {
  readonly client: number;
  readonly member: MemberName;
  readonly key: string;
  readonly input:
    | { readonly op: 'insert'; readonly value: string }
    | { readonly op: 'update'; readonly value: string; readonly expectedVersion: number }
    | { readonly op: 'delete'; readonly expectedVersion: number }
    | { readonly op: 'get' };
  /** `ok` or an error code for a modification; the entry (or null) for a Get. */
  readonly output: { readonly ok: true } | { readonly error: string; readonly message: string } | { readonly entry: { readonly value: string; readonly version: number } | null };
  readonly call: number;
  readonly return: number;
};

/** Options of {@link simulateStore}. */
export type SimulationOptions = {
  /** Members (default: 1..8, drawn from the seed). */
  readonly members?: number;
  /** Clients (default: 1..6, drawn from the seed). */
  readonly clients?: number;
  /** Operations per client (default 12). */
  readonly operationsPerClient?: number;
  /** Joins and leaves in the middle of the traffic (default: 0..3, drawn from the seed). */
  readonly membershipChanges?: number;
  readonly plantedBugs?: PlantedBugs;
  /** `mixed` (default) or `contended` (see the file's header). */
  readonly workload?: SimulationWorkload;
  /** Retries of a contended read-modify-write on `CONFLICT` (default {@link contendedRetriesMax}). */
  readonly retries?: number;
};

/** What the clients of a simulated run do. */
export type SimulationWorkload = 'mixed' | 'contended';

/** Attempts after the first that a contended client makes on `CONFLICT` (as the name service's `conflictRetriesMax`). */
export const contendedRetriesMax = 8;

/**
 * One read-modify-write of the contended workload, over all its attempts (logical time, as the
 * history's): `ok` once an attempt committed, `unneeded` when it found nothing to remove, `exhausted`
 * when every attempt met `CONFLICT` (or a member that left).
 */
export type LogicalOperation = {
  readonly client: number;
  readonly key: string;
  readonly op: 'set' | 'remove';
  readonly call: number;
  readonly return: number;
  readonly attempts: number;
  readonly outcome: 'ok' | 'unneeded' | 'exhausted';
};

/** What one simulated run produced. */
export type SimulationRun = {
  readonly seed: number;
  readonly members: readonly ReplicatedMember<string>[];
  readonly history: readonly HistoryOperation[];
  /** The contended workload's read-modify-writes (empty for `mixed`). */
  readonly logical: readonly LogicalOperation[];
  /** Clients whose operations never all returned (a deadlock or livelock). */
  readonly stuckClients: number;
  /** Membership changes that never returned, or failed. */
  readonly membershipFailures: readonly string[];
  /** What happened to the membership, in order (`+m09`, `-m03`). */
  readonly membership: readonly string[];
  readonly steps: number;
  /** The last deliveries, for a failing seed's report. */
  readonly trace: string;
};

const hotKeys = ['h1', 'h2'];
const coldKeys = Array.from({ length: 20 }, (_, index) => `c${index}`);

/** Runs one seed. */
export async function simulateStore(seed: number, options: SimulationOptions = {}): Promise<SimulationRun> {
  const random = new SeededRandom(seed);
  const clock = new VirtualClock();
  const network = new SimNetwork<StoreMessage<string>>({ random, clock, traceEntriesMax: 200 });
  const memberCount = options.members ?? 1 + random.nextInt(8);
  const nameOf = (index: number) => `m${String(index).padStart(2, '0')}`;
  const names = Array.from({ length: memberCount }, (_, index) => nameOf(index + 1));
  const members: ReplicatedMember<string>[] = [];
  const addMember = (name: string, peers: readonly string[], joining: boolean): ReplicatedMember<string> => {
    const member = new ReplicatedMember<string>({
      name,
      peers,
      clock,
      joining,
      // Small parts, so every join in the sweep carries its table in several install messages.
      installChunkBytesMax: 8 + (seed % 97),
      transport: { send: (to, message) => network.send(name, to, message) },
      ...(options.plantedBugs === undefined ? {} : { plantedBugs: options.plantedBugs }),
    });
    members.push(member);
    network.addEndpoint(name, (from, message) => member.receive(from, message));
    return member;
  };
  for (const name of names) addMember(name, names.filter((other) => other !== name), false);
  const serving = () => members.filter((member) => member.serving);
  const history: HistoryOperation[] = [];
  let tick = 0;
  const clientCount = options.clients ?? 1 + random.nextInt(6);
  const operations = options.operationsPerClient ?? 12;
  let finished = 0;
  const pick = <T>(items: readonly T[]): T => items[random.nextInt(items.length)] as T;
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimer(ms, resolve));

  const record = async (client: number, member: ReplicatedMember<string>, key: string, input: HistoryOperation['input']): Promise<HistoryOperation> => {
    const call = ++tick;
    let output: HistoryOperation['output'];
    try {
      if (input.op === 'get') {
        const entry = await member.get(key);
        output = { entry: entry === undefined ? null : { value: entry.value, version: entry.version } };
      } else {
        if (input.op === 'insert') await member.insert(key, input.value);
        else if (input.op === 'update') await member.update(key, input.value, input.expectedVersion);
        else await member.delete(key, input.expectedVersion);
        output = { ok: true };
      }
    } catch (error) {
      if (!isFosError(error)) throw error;
      output = { error: error.code, message: error.message };
    }
    const operation: HistoryOperation = { client, member: member.name, key, input, output, call, return: ++tick };
    history.push(operation);
    return operation;
  };

  const client = async (id: number): Promise<void> => {
    const versions = new Map<string, number>();
    for (let index = 0; index < operations; index++) {
      if (random.nextInt(3) === 0) await sleep(random.nextInt(5));
      const key = random.nextInt(10) < 7 ? pick(hotKeys) : pick(coldKeys);
      const member = pick(serving());
      const kind = random.nextInt(10);
      const known = versions.get(key) ?? 1 + random.nextInt(2);
      const value = `c${id}.${index}`;
      const input: HistoryOperation['input'] =
        kind < 3 ? { op: 'insert', value } : kind < 6 ? { op: 'update', value, expectedVersion: known } : kind < 7 ? { op: 'delete', expectedVersion: known } : { op: 'get' };
      const done = await record(id, member, key, input);
      if ('entry' in done.output) versions.set(key, done.output.entry?.version ?? 1);
      if (input.op !== 'get') {
        // A Get at another member right after each modification returns.
        const after = await record(id, pick(serving()), key, { op: 'get' });
        if ('entry' in after.output && after.output.entry !== null) versions.set(key, after.output.entry.version);
      }
    }
    finished++;
  };

  const logical: LogicalOperation[] = [];
  const retries = options.retries ?? contendedRetriesMax;
  /** The contended workload: read-modify-writes of the hot keys, each retried on CONFLICT after a backoff. */
  const contendedClient = async (id: number): Promise<void> => {
    for (let index = 0; index < operations; index++) {
      const key = pick(hotKeys);
      const op = random.nextInt(4) === 0 ? 'remove' : 'set';
      const value = `c${id}.${index}`;
      const call = ++tick;
      let outcome: LogicalOperation['outcome'] = 'exhausted';
      let attempts = 0;
      while (outcome === 'exhausted' && attempts <= retries) {
        if (attempts > 0) await sleep(1 + random.nextInt(1 << Math.min(attempts, 5)));
        attempts++;
        const member = pick(serving());
        const read = await record(id, member, key, { op: 'get' });
        if (!('entry' in read.output)) continue;
        const entry = read.output.entry;
        if (op === 'remove' && entry === null) {
          outcome = 'unneeded';
          break;
        }
        const input: HistoryOperation['input'] =
          op === 'remove' ? { op: 'delete', expectedVersion: (entry as { version: number }).version } : entry === null ? { op: 'insert', value } : { op: 'update', value, expectedVersion: entry.version };
        if ('ok' in (await record(id, member, key, input)).output) outcome = 'ok';
      }
      logical.push({ client: id, key, op, call, return: ++tick, attempts, outcome });
    }
    finished++;
  };

  const membership: string[] = [];
  const membershipFailures: string[] = [];
  let nextIndex = memberCount + 1;
  const changes = options.membershipChanges ?? random.nextInt(4);
  const changer = async (): Promise<void> => {
    for (let index = 0; index < changes; index++) {
      await sleep(1 + random.nextInt(20));
      const current = serving();
      if (current.length > 1 && random.nextInt(2) === 0) {
        const leaver = pick(current);
        membership.push(`-${leaver.name}`);
        await leaver.leave().catch((error: unknown) => void membershipFailures.push(`leave ${leaver.name}: ${String(error)}`));
      } else if (members.length < 16) {
        const newcomer = addMember(nameOf(nextIndex++), [], true);
        membership.push(`+${newcomer.name}`);
        await newcomer.join(pick(current).name).catch((error: unknown) => void membershipFailures.push(`join ${newcomer.name}: ${String(error)}`));
      }
    }
  };
  let changerDone = false;
  const run = options.workload === 'contended' ? contendedClient : client;
  const clients = [...Array.from({ length: clientCount }, (_, id) => run(id)), changer().then(() => void (changerDone = true))];
  const steps = await network.runUntilQuiet(simulationStepsMax);
  // Everything the clients wait for is a message or a timer: once quiet, every client has returned.
  await Promise.race([Promise.all(clients), new Promise((resolve) => setImmediate(resolve))]);
  if (!changerDone) membershipFailures.push('the membership changes never all returned');
  return { seed, members, history, logical, stuckClients: clientCount - finished, membershipFailures, membership, steps, trace: network.trace.format(30) };
}

/** The model of one key of the replicated store: a `CONFLICT` may be a refusal by wait-die, but has no effect. */
const replicatedStoreModel = createStoreModel({ conflictsMayBeSpurious: true });

/**
 * The history as the linearizability checker takes it: operations that never started (`SHUTDOWN` at a
 * member that had left) and Gets that answered `TIMEOUT` (no effect, no answer) are left out.
 */
export function checkerOperations(history: readonly HistoryOperation[]): StoreOperation[] {
  const operations: StoreOperation[] = [];
  for (const operation of history) {
    const { input, output, key } = operation;
    if ('error' in output && output.error !== 'CONFLICT') continue;
    const base = { client: operation.client, call: operation.call, return: operation.return };
    if (input.op === 'get') {
      if (!('entry' in output)) continue;
      operations.push({ ...base, input: { op: 'get', key }, output: output.entry === null ? undefined : { value: output.entry.value, version: output.entry.version } });
      continue;
    }
    const result = 'ok' in output ? ({ ok: true } as const) : ({ ok: false, code: 'CONFLICT' } as const);
    operations.push({ ...base, input: { ...input, key }, output: result });
  }
  return operations;
}

/** The reasons a run is wrong, empty when it is right. */
export function runFailures(run: SimulationRun): string[] {
  const failures: string[] = [];
  const verdict = checkOperations(replicatedStoreModel, checkerOperations(run.history));
  if (verdict.result !== 'ok') failures.push(`the history is ${verdict.result === 'illegal' ? 'not linearizable' : 'too hard to check (unknown)'}:\n${verdict.explanation ?? ''}`);
  failures.push(...progressFailures(run.logical));
  if (run.stuckClients > 0) failures.push(`${run.stuckClients} client(s) never got all their answers`);
  failures.push(...run.membershipFailures);
  const serving = run.members.filter((member) => member.serving);
  const tables = serving.map((member) => JSON.stringify(member.snapshot()));
  if (new Set(tables).size > 1) failures.push(`replicas differ:\n${serving.map((member, index) => `  ${member.name}: ${tables[index]}`).join('\n')}`);
  const names = JSON.stringify(serving.map((member) => member.name).sort());
  for (const member of serving) if (JSON.stringify([member.name, ...member.peers].sort()) !== names) failures.push(`${member.name} knows ${JSON.stringify(member.peers)}, the serving members are ${names}`);
  for (const member of run.members) if (!member.quiet) failures.push(`${member.name} is not quiet (an arbiter held, a vote, outcome or membership reply awaited, or a sleeper)`);
  return failures;
}

/**
 * No livelock: read-modify-writes of one key that overlap in time (directly or through others) form a
 * group of contenders, and in every group at least one commits. `unneeded` ones made no modification
 * and are left out.
 */
export function progressFailures(logical: readonly LogicalOperation[]): string[] {
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
        const who = group.map((operation) => `client ${operation.client} ${operation.op} [${operation.call}, ${operation.return}] ${operation.attempts} attempt(s)`).join('; ');
        failures.push(`no progress on ${JSON.stringify(key)}: ${group.length} contending read-modify-write(s), none committed: ${who}`);
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
