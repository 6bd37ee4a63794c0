// A seeded simulation of a replicated store: 1 to 8 members over a SimNetwork that reorders messages
// across streams, and one of two workloads. `mixed`: clients issue random modifications and Gets on a
// few hot keys and many cold ones, a Get at another member right after each modification returns.
// `contended`: every client read-modify-writes the two hot keys and retries on CONFLICT with a backoff,
// as the name service does, so that progress can be checked: of contending modifications, one succeeds.
// The simulator steps each member's core directly: a delivery is one `step`, a fired timer one `tick`
// or one client's wake-up, and nothing waits for a turn of the event loop. One seed replays one run.
import type { MessageBody, Timer } from '@fos/base';
import { SeededRandom, SimNetwork, VirtualClock } from '@fos/sim';
import { withStoreRules } from '../internal/rules.js';
import type { OperationId, OperationResult, ProposedOperation } from '../replicated/core-types.js';
import { StoreCore } from '../replicated/core.js';
import type { MemberName, StoreMessage } from '../replicated/messages.js';
import { checkCount, checkedSimulationOptions } from './arguments.js';
import { changer, contendedClient, mixedClient, type Workers } from './clients.js';
import { plantedBugRules, type PlantedBugs } from './planted-bugs.js';

/** Deliveries and timer firings one simulated run may take before it counts as a livelock. */
export const simulationStepsMax = 2_000_000;

/** Attempts after the first that a contended client makes on `CONFLICT` (as the name service's `conflictRetriesMax`). */
export const contendedRetriesMax = 8;

/** Members one run holds at most, newcomers included (the changer stops adding past it). */
export const simulationMembersMax = 16;

/** Clients one run may have (option `clients`). */
export const simulationClientsMax = 64;

/** Operations one client may issue in a run (option `operationsPerClient`). */
export const simulationOperationsPerClientMax = 10_000;

/** Joins and leaves one run may make (option `membershipChanges`). */
export const simulationMembershipChangesMax = 64;

/** Retries a contended read-modify-write may be given (option `retries`). */
export const simulationRetriesMax = 64;

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
  readonly output:
    | { readonly ok: true }
    | { readonly error: string; readonly message: string }
    | { readonly entry: { readonly value: string; readonly version: number } | null };
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
  /** Bugs to plant in every member's rules (see {@link PlantedBugs}). */
  readonly plantedBugs?: PlantedBugs;
  /** `mixed` (default) or `contended` (see the file's header). */
  readonly workload?: SimulationWorkload;
  /** Retries of a contended read-modify-write on `CONFLICT` (default {@link contendedRetriesMax}). */
  readonly retries?: number;
};

/** What the clients of a simulated run do. */
export type SimulationWorkload = 'mixed' | 'contended';

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
  readonly members: ReadonlyArray<StoreCore<string>>;
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

/** What a simulated process asks for: time to pass, or an operation of a member's core. */
export type SimulationRequest =
  | { readonly kind: 'sleep'; readonly ms: number }
  | { readonly kind: 'propose'; readonly member: StoreCore<string>; readonly operation: ProposedOperation<string> };

/**
 * A client or the membership changer, written as a generator so that it reads as sequential code but
 * runs synchronously: each `yield` is a request, resumed with its answer (an `OperationResult`, or
 * nothing after a sleep).
 */
export type SimulationProcess = Generator<SimulationRequest, void, unknown>;

type Host = {
  readonly core: StoreCore<string>;
  readonly callbacks: Map<OperationId, (result: OperationResult<string>) => void>;
  timer: { readonly atMs: number; readonly timer: Timer } | undefined;
};

/** The members of one run over one network: each core is stepped on delivery, and its effects go out at once. */
class SimulatedFleet {
  readonly cores: Array<StoreCore<string>> = [];
  readonly #hosts = new Map<StoreCore<string>, Host>();

  constructor(
    readonly clock: VirtualClock,
    readonly network: SimNetwork<StoreMessage<string>>,
    readonly options: { readonly installChunkBytesMax: number; readonly plantedBugs: PlantedBugs | undefined },
  ) {}

  add(name: MemberName, peers: readonly MemberName[], joining: boolean): StoreCore<string> {
    const coreOptions = { name, peers, joining, installChunkBytesMax: this.options.installChunkBytesMax };
    const bugs = this.options.plantedBugs;
    const core = new StoreCore<string>(
      bugs === undefined ? coreOptions : withStoreRules(coreOptions, plantedBugRules(bugs)),
    );
    const host: Host = { core, callbacks: new Map(), timer: undefined };
    this.cores.push(core);
    this.#hosts.set(core, host);
    this.network.addEndpoint(name, (from, message) => {
      core.step(from, message, this.clock.now());
      this.#flush(host);
    });
    return core;
  }

  propose(
    core: StoreCore<string>,
    operation: ProposedOperation<string>,
    then: (result: OperationResult<string>) => void,
  ): void {
    const host = this.#hosts.get(core) as Host;
    host.callbacks.set(core.propose(operation, this.clock.now()), then);
    this.#flush(host);
  }

  /** Sends the core's messages and sets its timer before answering its callers, whose next requests may step it again. */
  #flush(host: Host): void {
    const ready = host.core.ready();
    for (const { to, message } of ready.messages) this.network.send(host.core.name, to, message);
    if (host.timer?.atMs !== ready.wakeAtMs) {
      host.timer?.timer.cancel();
      host.timer = undefined;
      if (ready.wakeAtMs !== undefined) {
        const timer = this.clock.setTimer(Math.max(0, ready.wakeAtMs - this.clock.now()), () => {
          host.timer = undefined;
          host.core.tick(this.clock.now());
          this.#flush(host);
        });
        host.timer = { atMs: ready.wakeAtMs, timer };
      }
    }
    for (const { id, result } of ready.completed) {
      const then = host.callbacks.get(id);
      host.callbacks.delete(id);
      then?.(result);
    }
  }

  /** Runs `process` to its end: every request it yields is carried out and answered, synchronously where it can be. */
  start(process: SimulationProcess, done: () => void): void {
    let running = false;
    let queued = false;
    let answer: unknown;
    const resume = (value: unknown): void => {
      answer = value;
      queued = true;
      if (running) return;
      running = true;
      while (queued) {
        queued = false;
        const next = process.next(answer);
        if (next.done === true) {
          done();
          break;
        }
        const request = next.value;
        if (request.kind === 'sleep') this.clock.setTimer(request.ms, () => resume(undefined));
        else this.propose(request.member, request.operation, resume);
      }
      running = false;
    };
    resume(undefined);
  }
}

/**
 * Runs one seed. `BAD_REQUEST` for a seed that is not a safe integer, or options out of their bounds
 * (`simulationMembersMax`, `simulationClientsMax`, `simulationOperationsPerClientMax`,
 * `simulationMembershipChangesMax`, `simulationRetriesMax`), before anything runs.
 */
export function simulateStore(seed: number, options: SimulationOptions = {}): SimulationRun {
  checkCount(seed, 'seed', Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
  options = checkedSimulationOptions(options, {
    membersMax: simulationMembersMax,
    clientsMax: simulationClientsMax,
    operationsPerClientMax: simulationOperationsPerClientMax,
    membershipChangesMax: simulationMembershipChangesMax,
    retriesMax: simulationRetriesMax,
  });
  const random = new SeededRandom(seed);
  const clock = new VirtualClock();
  const network = new SimNetwork<StoreMessage<string>>({
    random,
    clock,
    traceEntriesMax: 200,
    describe: describeStoreMessage,
  });
  // Small parts, so every join in the sweep carries its table in several install messages.
  const fleet = new SimulatedFleet(clock, network, {
    installChunkBytesMax: 8 + Math.abs(seed % 97),
    plantedBugs: options.plantedBugs,
  });
  const memberCount = options.members ?? 1 + random.nextInt(8);
  const names = Array.from({ length: memberCount }, (_, index) => memberName(index + 1));
  for (const name of names)
    fleet.add(
      name,
      names.filter((other) => other !== name),
      false,
    );
  const workers: Workers = {
    random,
    serving: () => fleet.cores.filter((core) => core.serving),
    history: [],
    logical: [],
    membership: [],
    membershipFailures: [],
    logicalTime: 0,
    operationsPerClient: options.operationsPerClient ?? 12,
    retries: options.retries ?? contendedRetriesMax,
  };
  const clientCount = options.clients ?? 1 + random.nextInt(6);
  let finished = 0;
  const client = options.workload === 'contended' ? contendedClient : mixedClient;
  for (let id = 0; id < clientCount; id++) fleet.start(client(workers, id), () => void finished++);
  let changerDone = false;
  const changes = options.membershipChanges ?? random.nextInt(4);
  let nextIndex = memberCount + 1;
  const addMember = (): StoreCore<string> | undefined =>
    fleet.cores.length < simulationMembersMax ? fleet.add(memberName(nextIndex++), [], true) : undefined;
  fleet.start(changer(workers, changes, addMember), () => (changerDone = true));
  const steps = runUntilQuiet(seed, network, clock);
  // Everything a process waits for is a message or a timer: once quiet, every process has returned.
  if (!changerDone) workers.membershipFailures.push('the membership changes never all returned');
  const { history, logical, membership, membershipFailures } = workers;
  return {
    seed,
    members: fleet.cores,
    history,
    logical,
    stuckClients: clientCount - finished,
    membershipFailures,
    membership,
    steps,
    trace: network.trace.format(30),
  };
}

/** A delivery as the trace shows it: the kind and what it is about, never a whole table. */
export function describeStoreMessage(message: StoreMessage<string>): string {
  switch (message.kind) {
    case 'voteRequest': {
      const { modification } = message;
      const detail =
        modification.op === 'insert'
          ? JSON.stringify(modification.value)
          : modification.op === 'update'
            ? `${JSON.stringify(modification.value)} v${modification.expectedVersion}`
            : `v${modification.expectedVersion}`;
      return `voteRequest ${message.request} ${modification.op} ${JSON.stringify(modification.key)} ${detail}`;
    }
    case 'vote':
      return `vote ${message.request} ${message.yes ? 'yes' : 'no'}`;
    case 'outcome':
      return `outcome ${message.request} ${JSON.stringify(message.key)} ${message.commit ? 'commit' : 'abort'}`;
    case 'membershipRequest':
      return `membershipRequest ${message.change.change} ${message.change.op} ${message.change.member} replyTo ${message.replyTo}`;
    case 'membershipDone':
      return `membershipDone ${message.change}${message.error === undefined ? '' : ` error ${message.error}`}`;
    case 'install':
      return `install ${message.change} part ${message.part} (${message.table.length} entries)${message.members === undefined ? '' : ` members ${message.members.join(',')}`}`;
    case 'members':
      return `members ${message.change} ${message.members.join(',')}${message.ack === true ? ' ack' : ''}`;
    default:
      return `${message.kind} ${message.change}`;
  }
}

function memberName(index: number): MemberName {
  return `m${String(index).padStart(2, '0')}`;
}

/** Delivers messages (a random stream each step) and, when none is deliverable, fires the next timer, until nothing is left. */
function runUntilQuiet<M extends MessageBody>(seed: number, network: SimNetwork<M>, clock: VirtualClock): number {
  let steps = 0;
  for (; network.hasWork(); steps++) {
    if (steps >= simulationStepsMax)
      throw new Error(
        `seed=${seed}: more than simulationStepsMax (${simulationStepsMax}) deliveries and timer firings (a livelock); last deliveries:\n${network.trace.format(10)}`,
      );
    // Virtual time moves only when no message can be delivered now, so timeouts never fire early.
    if (!network.step()) clock.fireNext();
  }
  return steps;
}
