// A seeded simulation of a replicated store: 1 to 8 members over a SimNetwork that reorders messages
// across streams, clients issuing random modifications and Gets on a few hot keys and many cold ones,
// a Get at another member right after each modification returns. One seed replays one run.
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
};

/** What one simulated run produced. */
export type SimulationRun = {
  readonly seed: number;
  readonly members: readonly ReplicatedMember<string>[];
  readonly history: readonly HistoryOperation[];
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
  const clients = [...Array.from({ length: clientCount }, (_, id) => client(id)), changer().then(() => void (changerDone = true))];
  const steps = await network.runUntilQuiet(simulationStepsMax);
  // Everything the clients wait for is a message or a timer: once quiet, every client has returned.
  await Promise.race([Promise.all(clients), new Promise((resolve) => setImmediate(resolve))]);
  if (!changerDone) membershipFailures.push('the membership changes never all returned');
  return { seed, members, history, stuckClients: clientCount - finished, membershipFailures, membership, steps, trace: network.trace.format(30) };
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
