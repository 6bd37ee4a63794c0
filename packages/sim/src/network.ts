import { assert, describeValue, FosError, nextTurn, type RandomSource, type Timer } from '@fos/base';
import type { VirtualClock } from './clock.js';
import { describeMessage } from './internal/describe.js';
import {
  checkDelayMs,
  checkFunction,
  checkOptionsObject,
  checkSafeInteger,
  checkString,
  readArgument,
  refuse,
} from './internal/validate.js';
import { TraceRecorder, type SimTrace } from './trace.js';

/** Trace entries a {@link SimNetwork} keeps by default; older ones are dropped from the list but still hashed. */
export const traceEntriesMaxDefault = 100_000;

/** Messages a {@link SimNetwork} holds in flight at most by default; a send beyond it throws. */
export const inFlightMessagesMaxDefault = 1_000_000;

/** Options of {@link SimNetwork}. */
export interface SimNetworkOptions<M> {
  /** chooses the stream delivered at each step; a {@link SeededRandom} makes runs reproducible */
  random: RandomSource;
  /** the virtual time of the run; delayed streams and `runUntilQuiet` move it */
  clock: VirtualClock;
  /** text describing a message for the trace (default: JSON.stringify with bigint/Uint8Array support) */
  describe?: (message: M) => string;
  /** trace entries kept (default {@link traceEntriesMaxDefault}); older ones are dropped from the list but still hashed */
  traceEntriesMax?: number;
  /** messages in flight at most (default {@link inFlightMessagesMaxDefault}) */
  inFlightMessagesMax?: number;
}

/** Hands a message to an endpoint. A returned Promise is not awaited by the network; its rejection fails the run. */
export type DeliverFunction<M> = (from: string, message: M) => void | Promise<void>;

/** Options of {@link SimNetwork.runUntilQuiet}. */
export interface RunUntilQuietOptions {
  /** checked after every settle; returning true ends the run early (resolved, not rejected) */
  until?: () => boolean;
}

interface InFlightMessage<M> {
  readonly message: M;
  readonly deliverableAtMs: number;
  /** wakes the virtual clock at deliverableAtMs for a delayed message; cancelled when it leaves */
  readonly wakeTimer: Timer | undefined;
}

interface Stream<M> {
  /** the stream's key in the streams map */
  readonly key: string;
  readonly from: string;
  readonly to: string;
  readonly name: string;
  readonly queue: InFlightMessage<M>[];
  headIndex: number;
}

/** Queue slots consumed at the head before the array is compacted. */
const streamCompactionThreshold = 64;

/** Lets every pending promise chain run: microtasks drain completely before the next macrotask. */
function settle(): Promise<void> {
  return nextTurn();
}

/** Throws unless `value` has a method `name` of each of `methods` (a duck-typed check of an injected object). */
function checkMethods(value: unknown, what: string, methods: readonly string[]): void {
  const complete = readArgument(
    value,
    `SimNetwork: ${what}`,
    () =>
      typeof value === 'object' &&
      value !== null &&
      methods.every((name) => typeof (value as Record<string, unknown>)[name] === 'function'),
  );
  if (!complete)
    refuse(`SimNetwork: ${what} must have the methods ${methods.join(', ')}, got ${describeValue(value)}`, value);
}

/** The options a {@link SimNetwork} runs with, checked: `BAD_REQUEST` for anything a caller got wrong. */
function checkedOptions<M>(options: SimNetworkOptions<M>): SimNetworkOptions<M> & {
  traceEntriesMax: number;
  inFlightMessagesMax: number;
} {
  if (typeof options !== 'object' || options === null)
    refuse(`SimNetwork: options must be an object, got ${describeValue(options)}`, options);
  const { random, clock, describe, traceEntriesMax, inFlightMessagesMax } = readArgument(
    options,
    'SimNetwork: options',
    () => ({
      random: options.random,
      clock: options.clock,
      describe: options.describe,
      traceEntriesMax: options.traceEntriesMax,
      inFlightMessagesMax: options.inFlightMessagesMax,
    }),
  );
  checkMethods(random, 'random', ['nextInt']);
  checkMethods(clock, 'clock', ['now', 'setTimer', 'fireNext']);
  if (describe !== undefined) checkFunction(describe, 'SimNetwork: describe');
  const traceEntries = traceEntriesMax ?? traceEntriesMaxDefault;
  checkSafeInteger(traceEntries, 'SimNetwork: traceEntriesMax', 0);
  const inFlight = inFlightMessagesMax ?? inFlightMessagesMaxDefault;
  checkSafeInteger(inFlight, 'SimNetwork: inFlightMessagesMax', 1);
  return {
    random,
    clock,
    ...(describe === undefined ? {} : { describe }),
    traceEntriesMax: traceEntries,
    inFlightMessagesMax: inFlight,
  };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

/** The group index of every endpoint `groups` lists; `BAD_REQUEST` for anything but arrays of strings, or an id listed twice. */
function groupsByEndpoint(groups: unknown): Map<string, number> {
  if (!Array.isArray(groups))
    refuse(`SimNetwork.partition: groups must be an array, got ${describeValue(groups)}`, groups);
  const groupOf = new Map<string, number>();
  groups.forEach((group: unknown, groupIndex) => {
    if (!Array.isArray(group))
      refuse(`SimNetwork.partition: group ${groupIndex} must be an array, got ${describeValue(group)}`, group);
    for (const id of group as unknown[]) {
      checkString(id, `SimNetwork.partition: an id of group ${groupIndex}`);
      const earlier = groupOf.get(id);
      if (earlier !== undefined) {
        refuse(
          `SimNetwork.partition: endpoint ${describeValue(id)} is listed in groups ${earlier} and ${groupIndex}`,
          id,
        );
      }
      groupOf.set(id, groupIndex);
    }
  });
  return groupOf;
}

/**
 * A simulated network that holds every message in flight and, at each step, delivers the head of one
 * stream chosen uniformly at random: FIFO within a stream, any interleaving across streams. With a {@link SeededRandom} and a {@link VirtualClock}, one seed reproduces one run bit
 * for bit, and {@link SimNetwork.trace} hashes it. Faults: crash, pause, delay a stream, partition.
 *
 * Streams are kept in a Map in insertion order and the choice depends only on the random source, so
 * nothing else (object key order, real time) can change the interleaving.
 */
export class SimNetwork<M> {
  readonly #random: RandomSource;
  readonly #clock: VirtualClock;
  readonly #describe: (message: M) => string;
  readonly #inFlightMax: number;
  readonly #trace: TraceRecorder;
  readonly #endpoints = new Map<string, DeliverFunction<M>>();
  /** non-empty streams only, in insertion order */
  readonly #streams = new Map<string, Stream<M>>();
  readonly #crashed = new Set<string>();
  readonly #paused = new Set<string>();
  readonly #delaysMs = new Map<string, Map<string, number>>();
  #groupOf: Map<string, number> | undefined;
  #inFlightCount = 0;
  #deliveredCount = 0;
  #droppedCount = 0;
  #asyncFailure: { error: unknown } | undefined;

  /** @param options - see {@link SimNetworkOptions} */
  constructor(options: SimNetworkOptions<M>) {
    const checked = checkedOptions(options);
    this.#random = checked.random;
    this.#clock = checked.clock;
    this.#describe = checked.describe ?? describeMessage;
    this.#inFlightMax = checked.inFlightMessagesMax;
    this.#trace = new TraceRecorder(checked.traceEntriesMax);
  }

  /** Messages queued and not yet delivered or dropped. */
  get inFlight(): number {
    return this.#inFlightCount;
  }

  /** Messages handed to an endpoint so far. */
  get delivered(): number {
    return this.#deliveredCount;
  }

  /** Messages dropped so far (crash, partition, removed endpoint). */
  get dropped(): number {
    return this.#droppedCount;
  }

  /** The deliveries of this run and their hash. */
  get trace(): SimTrace {
    return this.#trace;
  }

  /** Registers endpoint `id`; messages sent to it go to `deliver`. `NAME_EXISTS` if `id` is taken. */
  addEndpoint(id: string, deliver: DeliverFunction<M>): void {
    checkString(id, 'SimNetwork.addEndpoint: id', true);
    checkFunction(deliver, 'SimNetwork.addEndpoint: deliver');
    if (this.#endpoints.has(id))
      throw new FosError('NAME_EXISTS', `SimNetwork.addEndpoint: endpoint ${describeValue(id)} exists already`, {
        value: id,
      });
    this.#endpoints.set(id, deliver);
  }

  /**
   * Unregisters endpoint `id` and drops what is in flight to it; messages it sent stay in flight.
   * Its crash and pause marks go too, so removing and adding an id again models a restart.
   */
  removeEndpoint(id: string): void {
    this.#requireEndpoint(id, 'removeEndpoint');
    this.#dropStreams((stream) => stream.to === id);
    this.#endpoints.delete(id);
    this.#crashed.delete(id);
    this.#paused.delete(id);
  }

  /**
   * Queues `message` on the FIFO stream `from -> to`, or on a finer stream when `streamKey` is given
   * (ordering then holds only within one (from, to, streamKey) stream). `from` need not be an endpoint
   * (a test driver may inject messages). Sends from or to a crashed endpoint, or across a partition,
   * are dropped silently and counted; an unknown `to` is `NO_SUCH_NAME`.
   */
  send(from: string, to: string, message: M, streamKey?: string): void {
    checkString(from, 'SimNetwork.send: from');
    checkString(to, 'SimNetwork.send: to');
    if (streamKey !== undefined) checkString(streamKey, 'SimNetwork.send: streamKey');
    if (!this.#endpoints.has(to))
      throw new FosError(
        'NO_SUCH_NAME',
        `SimNetwork.send: unknown endpoint ${describeValue(to)} (message from ${describeValue(from)})`,
        { value: to },
      );
    if (this.#crashed.has(from) || this.#crashed.has(to) || !this.#connected(from, to)) {
      this.#droppedCount++;
      return;
    }
    if (this.#inFlightCount >= this.#inFlightMax) {
      throw new FosError(
        'LIMIT_EXCEEDED',
        `SimNetwork.send: more than inFlightMessagesMax=${this.#inFlightMax} messages in flight (${describeValue(from)} -> ${describeValue(to)})`,
        { value: this.#inFlightCount },
      );
    }
    const delayMs = this.#delaysMs.get(from)?.get(to) ?? 0;
    // A delayed message needs the clock to reach its time even when nothing else is scheduled;
    // a no-op timer makes runUntilQuiet (which fires timers when idle) advance to it.
    const wakeTimer = delayMs > 0 ? this.#clock.setTimer(delayMs, () => undefined) : undefined;
    const key = JSON.stringify(streamKey === undefined ? [from, to] : [from, to, streamKey]);
    let stream = this.#streams.get(key);
    if (stream === undefined) {
      const name = streamKey === undefined ? `${from}->${to}` : `${from}->${to}#${streamKey}`;
      stream = { key, from, to, name, queue: [], headIndex: 0 };
      this.#streams.set(key, stream);
    }
    stream.queue.push({ message, deliverableAtMs: this.#clock.now() + delayMs, wakeTimer });
    this.#inFlightCount++;
  }

  /**
   * Delivers the head of one deliverable stream chosen uniformly by the random source; returns false
   * when nothing is deliverable now (paused or delayed streams are not). A Promise returned by the
   * deliver function is not awaited (deliveries are events); an exception thrown by it propagates.
   */
  step(): boolean {
    this.#throwAsyncFailure();
    const deliverable = this.#deliverableStreams(false);
    if (deliverable.length === 0) return false;
    const stream = deliverable.length === 1 ? deliverable[0]! : deliverable[this.#random.nextInt(deliverable.length)]!;
    const inFlight = this.#shift(stream);
    inFlight.wakeTimer?.cancel();
    this.#inFlightCount--;
    this.#deliveredCount++;
    const deliver = this.#endpoints.get(stream.to);
    assert(deliver !== undefined, `SimNetwork: stream ${stream.name} does not outlive its endpoint`);
    this.#trace.record({
      step: this.#deliveredCount,
      timeMs: this.#clock.now(),
      from: stream.from,
      to: stream.to,
      stream: stream.name,
      description: this.#describe(inFlight.message),
    });
    const result: unknown = deliver(stream.from, inFlight.message);
    if (isPromiseLike(result)) {
      result.then(undefined, (error: unknown) => {
        this.#asyncFailure ??= { error };
      });
    }
    return true;
  }

  /**
   * Runs the simulation: deliver one message, then let every pending promise chain run (one
   * macrotask turn); when nothing is deliverable, fire the next virtual timer and settle again.
   * Resolves with the number of deliveries plus timer firings when nothing is deliverable and no timer
   * is pending (messages held by a pause may remain), or when `until` returns true. Rejects when more
   * than `stepsMax` would be needed, or with the rejection of an async deliver function.
   */
  async runUntilQuiet(stepsMax: number, options: RunUntilQuietOptions = {}): Promise<number> {
    checkSafeInteger(stepsMax, 'SimNetwork.runUntilQuiet: stepsMax', 0);
    checkOptionsObject(options, 'SimNetwork.runUntilQuiet: options');
    const until = readArgument(options, 'SimNetwork.runUntilQuiet: options', () => options.until);
    if (until !== undefined) checkFunction(until, 'SimNetwork.runUntilQuiet: until');
    let steps = 0;
    for (;;) {
      await settle();
      this.#throwAsyncFailure();
      if (until?.() === true) return steps;
      if (!this.hasWork()) return steps;
      if (steps >= stepsMax) {
        throw new FosError(
          'LIMIT_EXCEEDED',
          `SimNetwork.runUntilQuiet: more than stepsMax=${stepsMax} deliveries and timer firings and still not quiet ` +
            `(livelock, or stepsMax too small); last deliveries:\n${this.#trace.format(10)}`,
          { value: stepsMax },
        );
      }
      // Virtual time moves only when no message can be delivered now, so timeouts never fire early.
      if (!this.step()) this.#clock.fireNext();
      steps++;
    }
  }

  /** Whether a message is deliverable now or a timer is pending. */
  hasWork(): boolean {
    return this.#deliverableStreams(true).length > 0 || this.#clock.pendingTimers > 0;
  }

  /** Endpoint `id` neither sends nor receives any more; messages in flight to and from it are dropped. */
  crash(id: string): void {
    this.#requireEndpoint(id, 'crash');
    this.#crashed.add(id);
    this.#paused.delete(id);
    this.#dropStreams((stream) => stream.from === id || stream.to === id);
  }

  /** Holds messages to and from endpoint `id` (not delivered, not dropped) until {@link resume}. */
  pause(id: string): void {
    this.#requireEndpoint(id, 'pause');
    if (!this.#crashed.has(id)) this.#paused.add(id);
  }

  /** Releases the messages held by {@link pause}, in their original stream order. */
  resume(id: string): void {
    this.#requireEndpoint(id, 'resume');
    this.#paused.delete(id);
  }

  /**
   * Messages sent on `from -> to` (any streamKey) from now on become deliverable only at send time +
   * `delayMs` of virtual time; 0 clears the delay. Messages already in flight keep their time.
   */
  delayStream(from: string, to: string, delayMs: number): void {
    checkString(from, 'SimNetwork.delayStream: from');
    checkString(to, 'SimNetwork.delayStream: to');
    checkDelayMs(delayMs, 'SimNetwork.delayStream');
    let delaysFrom = this.#delaysMs.get(from);
    if (delayMs === 0) {
      delaysFrom?.delete(to);
      return;
    }
    if (delaysFrom === undefined) {
      delaysFrom = new Map();
      this.#delaysMs.set(from, delaysFrom);
    }
    delaysFrom.set(to, delayMs);
  }

  /**
   * Splits the network: messages between endpoints of different groups are dropped, those in flight
   * too. Endpoints not listed form one more group together. Replaces any earlier partition.
   * `BAD_REQUEST` (and nothing changes) unless `groups` is an array of arrays of strings, each id in one group.
   */
  partition(groups: string[][]): void {
    const groupOf = readArgument(groups, 'SimNetwork.partition: groups', () => groupsByEndpoint(groups));
    this.#groupOf = groupOf;
    this.#dropStreams((stream) => !this.#connected(stream.from, stream.to));
  }

  /** Ends the partition: every endpoint can reach every other again (messages dropped stay dropped). */
  heal(): void {
    this.#groupOf = undefined;
  }

  /** Whether endpoint `id` has crashed (false for unknown ids). */
  isCrashed(id: string): boolean {
    return this.#crashed.has(id);
  }

  #requireEndpoint(id: string, operation: string): void {
    if (!this.#endpoints.has(id)) {
      if (typeof id !== 'string') checkString(id, `SimNetwork.${operation}: id`);
      throw new FosError('NO_SUCH_NAME', `SimNetwork.${operation}: unknown endpoint ${describeValue(id)}`, {
        value: id,
      });
    }
  }

  #connected(from: string, to: string): boolean {
    if (this.#groupOf === undefined) return true;
    // -1: the group of every endpoint not listed
    return (this.#groupOf.get(from) ?? -1) === (this.#groupOf.get(to) ?? -1);
  }

  #deliverableStreams(firstOnly: boolean): Stream<M>[] {
    const nowMs = this.#clock.now();
    const deliverable: Stream<M>[] = [];
    for (const stream of this.#streams.values()) {
      if (stream.queue[stream.headIndex]!.deliverableAtMs > nowMs) continue;
      if (this.#paused.size > 0 && (this.#paused.has(stream.from) || this.#paused.has(stream.to))) continue;
      deliverable.push(stream);
      if (firstOnly) break;
    }
    return deliverable;
  }

  #shift(stream: Stream<M>): InFlightMessage<M> {
    const head = stream.queue[stream.headIndex]!;
    stream.headIndex++;
    if (stream.headIndex === stream.queue.length) {
      // Empty streams leave the map so that it never grows with streams that once carried a message.
      this.#streams.delete(stream.key);
    } else if (stream.headIndex >= streamCompactionThreshold && stream.headIndex * 2 >= stream.queue.length) {
      stream.queue.splice(0, stream.headIndex);
      stream.headIndex = 0;
    }
    return head;
  }

  #dropStreams(shouldDrop: (stream: Stream<M>) => boolean): void {
    for (const stream of this.#streams.values()) {
      if (!shouldDrop(stream)) continue;
      for (let index = stream.headIndex; index < stream.queue.length; index++) stream.queue[index]!.wakeTimer?.cancel();
      const count = stream.queue.length - stream.headIndex;
      this.#inFlightCount -= count;
      this.#droppedCount += count;
      this.#streams.delete(stream.key);
    }
  }

  #throwAsyncFailure(): void {
    const failure = this.#asyncFailure;
    if (failure === undefined) return;
    this.#asyncFailure = undefined;
    throw failure.error;
  }
}
