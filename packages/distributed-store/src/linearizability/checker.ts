import { describeValue, FosError } from '@fos/base';
import { checkFunction, checkRecord, readArgument } from '../internal/arguments.js';
import {
  explanationOperationsMax,
  historyOperationsMax,
  linearizabilityCacheBytesMax,
  linearizabilityStepsMax,
} from './limits.js';
import type { Model, Operation } from './model.js';

/** Options of {@link checkOperations}. */
export interface CheckOptions {
  /** Search steps at most, all partitions together; default {@link linearizabilityStepsMax}. */
  readonly stepsMax?: number;
}

/**
 * The verdict of {@link checkOperations}: `'ok'` (linearizable), `'illegal'` (not linearizable), or
 * `'unknown'` (the step bound was hit before the search could decide).
 */
export type CheckVerdict = 'ok' | 'illegal' | 'unknown';

/** The part of a history that is not linearizable (or that the search gave up on), for debugging. */
export interface PartitionReport<I, O> {
  /** Index of the part among those the model's `partition` made (0 without one). */
  readonly index: number;
  /** The part's name from the model's `partitionKey` (the key, for the store model). */
  readonly key?: string;
  /** The part's operations, sorted by call time. */
  readonly operations: readonly Operation<I, O>[];
  /** The longest sequence of the part's operations the search could linearize, in linearization order. */
  readonly linearizedPrefix: readonly Operation<I, O>[];
  /**
   * The operations that were pending after that prefix (invoked before the earliest response still
   * to come): for `'illegal'`, none of them can be linearized next, from the prefix's state.
   */
  readonly candidates: readonly Operation<I, O>[];
  /** Every operation of the part that is not in the prefix, sorted by call time. */
  readonly unplaced: readonly Operation<I, O>[];
}

/** The answer of {@link checkOperations}. */
export interface CheckResult<I, O> {
  /** The verdict. */
  readonly result: CheckVerdict;
  /** Search steps taken, all partitions together. */
  readonly steps: number;
  /** Parts the history was split into. */
  readonly partitions: number;
  /** For `'illegal'` and `'unknown'`: the first part that is not linearizable, or that was left undecided. */
  readonly partition?: PartitionReport<I, O>;
  /** For `'illegal'` and `'unknown'`: a readable account of {@link CheckResult.partition}. */
  readonly explanation?: string;
}

/** One event of the doubly linked list the search walks: the call or the return of an operation. */
interface Entry {
  /** Index of the operation in its part; -1 for the list's head. */
  readonly op: number;
  readonly isCall: boolean;
  prev: Entry | null;
  next: Entry | null;
  /** For a call: its return entry, or null when the operation was never answered. */
  match: Entry | null;
}

interface Frame<S> {
  /** The call entry lifted. */
  readonly entry: Entry;
  /** The model state before the operation. */
  readonly before: S;
}

interface SearchOutcome {
  readonly verdict: CheckVerdict;
  readonly steps: number;
  /** Indexes (in the part) of the longest linearized prefix, in order. */
  readonly prefix: readonly number[];
}

function badRequest(message: string, value: unknown): FosError {
  return new FosError('BAD_REQUEST', message, { value });
}

function validateOperations<I, O>(operations: readonly Operation<I, O>[]): void {
  if (!Array.isArray(operations))
    throw badRequest(`a history is an array of operations, not ${describeValue(operations)}`, operations);
  if (operations.length > historyOperationsMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `a history of ${operations.length} operations exceeds historyOperationsMax (${historyOperationsMax}); check it in windows`,
      { value: operations.length },
    );
  }
  operations.forEach((operation: unknown, index) => {
    if (typeof operation !== 'object' || operation === null)
      throw badRequest(`operation ${index} is not an object`, operation);
    const { call, return: ret, client } = operation as { call?: unknown; return?: unknown; client?: unknown };
    // Named in every explanation of a history: only what prints as itself.
    if (typeof client !== 'string' && typeof client !== 'number')
      throw badRequest(`operation ${index}: client ${describeValue(client)} is not a string or a number`, operation);
    if (typeof call !== 'number' || !Number.isFinite(call)) {
      throw badRequest(`operation ${index}: call time ${describeValue(call)} is not a finite number`, operation);
    }
    if (typeof ret !== 'number' || Number.isNaN(ret)) {
      throw badRequest(`operation ${index}: return time ${describeValue(ret)} is not a number`, operation);
    }
    if (ret < call)
      throw badRequest(`operation ${index}: return time ${ret} is before its call time ${call}`, operation);
  });
}

/**
 * Builds the doubly linked list of an operation part's calls and returns, sorted by time; at equal
 * times calls come before returns (operations that touch are concurrent), then by operation index.
 * Unanswered operations (infinite return) have no return entry: nothing forces them to be placed.
 */
function buildList<I, O>(operations: readonly Operation<I, O>[]): Entry {
  const entries: Entry[] = [];
  operations.forEach((operation, op) => {
    const call: Entry = { op, isCall: true, prev: null, next: null, match: null };
    entries.push(call);
    if (operation.return !== Number.POSITIVE_INFINITY) {
      const ret: Entry = { op, isCall: false, prev: null, next: null, match: null };
      call.match = ret;
      entries.push(ret);
    }
  });
  const time = (entry: Entry): number => {
    const operation = operations[entry.op] as Operation<I, O>;
    return entry.isCall ? operation.call : operation.return;
  };
  entries.sort((a, b) => time(a) - time(b) || (a.isCall === b.isCall ? 0 : a.isCall ? -1 : 1) || a.op - b.op);
  const head: Entry = { op: -1, isCall: false, prev: null, next: null, match: null };
  let last = head;
  for (const entry of entries) {
    last.next = entry;
    entry.prev = last;
    last = entry;
  }
  return head;
}

/** Takes an entry out of the list; it keeps its own links, so that {@link relink} can put it back. */
function unlink(entry: Entry): void {
  (entry.prev as Entry).next = entry.next;
  if (entry.next !== null) entry.next.prev = entry.prev;
}

/** Puts an entry back where it was; entries must be put back in the reverse order they were taken out. */
function relink(entry: Entry): void {
  (entry.prev as Entry).next = entry;
  if (entry.next !== null) entry.next.prev = entry;
}

/** Lifts an operation (its call, then its return) out of the list. */
function lift(call: Entry): void {
  unlink(call);
  if (call.match !== null) unlink(call.match);
}

/** Undoes {@link lift}. */
function unlift(call: Entry): void {
  if (call.match !== null) relink(call.match);
  relink(call);
}

/**
 * The memo of the search (Lowe): the (set of linearized operations, model state) configurations
 * already explored. A configuration fixes what is left to do, so one that was explored before and
 * is met again can only fail again.
 *
 * The set is a bitset, answered operations first (in call order), then unanswered ones. Its key is
 * short: the number `low` of leading answered operations that are all linearized, then only the words
 * from there to the last linearized answered operation (a window as wide as the history's
 * concurrency), then the words of the unanswered operations. So a long, mostly sequential history
 * costs a few characters per configuration, not one bit per operation.
 */
class Memo<S, I, O> {
  readonly #model: Model<S, I, O>;
  readonly #words: Uint16Array;
  /** Bit of each operation (answered operations first). */
  readonly #bit: Int32Array;
  /** Answered operations; their bits are 0 .. answered-1. */
  readonly #answered: number;
  /** Every answered operation below this bit is linearized; the one at it is not (or it is `answered`). */
  #low = 0;
  /** Word of the highest linearized answered operation (-1 when none). */
  #top = -1;
  readonly #seen = new Map<string, S[]>();
  #bytes = 0;

  constructor(model: Model<S, I, O>, operations: readonly Operation<I, O>[]) {
    this.#model = model;
    this.#bit = new Int32Array(operations.length);
    let answered = 0;
    operations.forEach((operation, op) => {
      if (operation.return !== Number.POSITIVE_INFINITY) {
        this.#bit[op] = answered;
        answered += 1;
      }
    });
    let unanswered = answered;
    operations.forEach((operation, op) => {
      if (operation.return === Number.POSITIVE_INFINITY) {
        this.#bit[op] = unanswered;
        unanswered += 1;
      }
    });
    this.#answered = answered;
    this.#words = new Uint16Array(
      Math.ceil(Math.max(answered, 1) / 16) + Math.ceil((operations.length - answered) / 16),
    );
  }

  #has(bit: number): boolean {
    return (((this.#words[bit >>> 4] ?? 0) >>> (bit & 15)) & 1) === 1;
  }

  /** The word of an unanswered operation's bit: they start on a word of their own. */
  #word(bit: number): number {
    return bit < this.#answered
      ? bit >>> 4
      : Math.ceil(Math.max(this.#answered, 1) / 16) + ((bit - this.#answered) >>> 4);
  }

  #shift(bit: number): number {
    return bit < this.#answered ? bit & 15 : (bit - this.#answered) & 15;
  }

  set(op: number): void {
    const bit = this.#bit[op] ?? 0;
    const word = this.#word(bit);
    this.#words[word] = (this.#words[word] ?? 0) | (1 << this.#shift(bit));
    if (bit >= this.#answered) return;
    if (word > this.#top) this.#top = word;
    while (this.#low < this.#answered && this.#has(this.#low)) this.#low += 1;
  }

  clear(op: number): void {
    const bit = this.#bit[op] ?? 0;
    const word = this.#word(bit);
    this.#words[word] = (this.#words[word] ?? 0) & ~(1 << this.#shift(bit));
    if (bit >= this.#answered) return;
    if (bit < this.#low) this.#low = bit;
    while (this.#top >= 0 && this.#words[this.#top] === 0) this.#top -= 1;
  }

  /** True when (current set, state) is new, and remembers it (while the memo has room). */
  addIfNew(state: S): boolean {
    // The window's length is written out so that no two sets share a key (the state's hash follows).
    const from = this.#low >>> 4;
    const to = Math.max(from, this.#top + 1);
    let key = `${this.#low}:${to - from}:`;
    key += this.#text(from, to);
    key += this.#text(Math.ceil(Math.max(this.#answered, 1) / 16), this.#words.length);
    if (this.#model.hash !== undefined) key += this.#model.hash(state);
    const states = this.#seen.get(key);
    if (states !== undefined) {
      for (const seen of states) if (this.#model.equal(seen, state)) return false;
    }
    if (this.#bytes < linearizabilityCacheBytesMax) {
      if (states === undefined) {
        this.#seen.set(key, [state]);
        this.#bytes += 2 * key.length + 96;
      } else {
        states.push(state);
        this.#bytes += 16;
      }
    }
    return true;
  }

  #text(from: number, to: number): string {
    let text = '';
    for (let start = from; start < to; start += 4096)
      text += String.fromCharCode(...this.#words.subarray(start, Math.min(to, start + 4096)));
    return text;
  }
}

/**
 * Wing & Gong's depth-first search with Lowe's memo, on one part of a history: walk the list from
 * its head; at a call, try to linearize the operation now (the model step must accept its output)
 * and, when that configuration is new, lift the operation out of the list and start again from the
 * head; at a return, the operation it belongs to should have been linearized already, so undo the
 * last lift and try the next entry after it. Reaching the end of the list with only unanswered calls
 * left means those are left out: their effect never happened.
 */
function search<S, I, O>(model: Model<S, I, O>, operations: readonly Operation<I, O>[], budget: number): SearchOutcome {
  const head = buildList(operations);
  const memo = new Memo(model, operations);
  const stack: Frame<S>[] = [];
  const prefix: number[] = [];
  let state = model.init();
  // stack[0 .. stable) has not changed since the prefix was last recorded.
  let stable = 0;
  let steps = 0;
  let entry = head.next;
  const outcome = (verdict: CheckVerdict): SearchOutcome => ({ verdict, steps, prefix });
  while (head.next !== null) {
    if (steps >= budget) return outcome('unknown');
    steps += 1;
    if (entry === null) break;
    if (entry.isCall) {
      const operation = operations[entry.op] as Operation<I, O>;
      const next = model.step(state, operation.input, operation.output);
      if (next.ok) {
        memo.set(entry.op);
        if (memo.addIfNew(next.state)) {
          stack.push({ entry, before: state });
          state = next.state;
          lift(entry);
          if (stack.length > prefix.length) {
            for (let depth = stable; depth < stack.length; depth += 1)
              prefix[depth] = (stack[depth] as Frame<S>).entry.op;
            stable = stack.length;
          }
          entry = head.next;
          continue;
        }
        memo.clear(entry.op);
      }
      entry = entry.next;
    } else {
      const frame = stack.pop();
      if (frame === undefined) return outcome('illegal');
      if (stack.length < stable) stable = stack.length;
      state = frame.before;
      memo.clear(frame.entry.op);
      unlift(frame.entry);
      entry = frame.entry.next;
    }
  }
  return outcome('ok');
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return describeValue(value);
  }
}

const modelMethods = ['init', 'step', 'equal'] as const;
const optionalModelMethods = ['hash', 'partition', 'partitionKey', 'describeOperation', 'describeState'] as const;

/** A model has `init`, `step` and `equal`, and its optional methods are functions: `BAD_REQUEST` otherwise. */
function checkModel(model: unknown): void {
  readArgument(model, 'a model', () => {
    checkRecord(model, 'a model');
    for (const name of modelMethods) checkFunction(model[name], `the model's ${name}`);
    for (const name of optionalModelMethods)
      if (model[name] !== undefined) checkFunction(model[name], `the model's ${name}`);
  });
}

function timeText(time: number): string {
  return time === Number.POSITIVE_INFINITY ? '∞' : String(time);
}

function describeReport<S, I, O>(
  model: Model<S, I, O>,
  report: PartitionReport<I, O>,
  verdict: CheckVerdict,
  steps: number,
): string {
  const describeOperation = (operation: Operation<I, O>): string =>
    `client ${String(operation.client)} [${operation.call}, ${timeText(operation.return)}] ${
      model.describeOperation === undefined
        ? `${jsonText(operation.input)} → ${jsonText(operation.output)}`
        : model.describeOperation(operation.input, operation.output)
    }`;
  const describeState = (state: S): string =>
    model.describeState === undefined ? jsonText(state) : model.describeState(state);
  const where = report.key === undefined ? `part ${report.index} of the history` : `key ${JSON.stringify(report.key)}`;
  const lines: string[] = [];
  if (verdict === 'illegal') {
    lines.push(`${where}: not linearizable (${report.operations.length} operations).`);
  } else {
    lines.push(
      `${where}: undecided: the search gave up after ${steps} steps (${report.operations.length} operations).`,
    );
  }
  lines.push(
    `Longest linearizable prefix found: ${report.linearizedPrefix.length} of ${report.operations.length} operations${report.linearizedPrefix.length === 0 ? '.' : ':'}`,
  );
  let state = model.init();
  const shownFrom = Math.max(0, report.linearizedPrefix.length - explanationOperationsMax);
  if (shownFrom > 0) lines.push(`  … ${shownFrom} earlier operations`);
  report.linearizedPrefix.forEach((operation, index) => {
    state = model.step(state, operation.input, operation.output).state;
    if (index >= shownFrom) lines.push(`  ${index + 1}. ${describeOperation(operation)}  ⇒ ${describeState(state)}`);
  });
  lines.push(`State after the prefix: ${describeState(state)}`);
  const list = (title: string, operations: readonly Operation<I, O>[]): void => {
    lines.push(`${title} (${operations.length}):`);
    for (const operation of operations.slice(0, explanationOperationsMax))
      lines.push(`  - ${describeOperation(operation)}`);
    if (operations.length > explanationOperationsMax)
      lines.push(`  … ${operations.length - explanationOperationsMax} more`);
  };
  if (verdict === 'illegal') {
    list('None of these pending operations can be linearized next from that state', report.candidates);
  } else {
    list('Pending operations after the prefix', report.candidates);
  }
  list('Operations not placed', report.unplaced);
  return lines.join('\n');
}

function buildReport<I, O>(
  index: number,
  key: string | undefined,
  operations: readonly Operation<I, O>[],
  outcome: SearchOutcome,
): PartitionReport<I, O> {
  const placed = new Set(outcome.prefix);
  const unplaced = operations.filter((_, op) => !placed.has(op));
  let earliestReturn = Number.POSITIVE_INFINITY;
  for (const operation of unplaced) earliestReturn = Math.min(earliestReturn, operation.return);
  const candidates = unplaced.filter((operation) => operation.call <= earliestReturn);
  return {
    index,
    ...(key === undefined ? {} : { key }),
    operations,
    linearizedPrefix: outcome.prefix.map((op) => operations[op] as Operation<I, O>),
    candidates,
    unplaced,
  };
}

function byCallThenReturn<I, O>(a: Operation<I, O>, b: Operation<I, O>): number {
  if (a.call !== b.call) return a.call - b.call;
  if (a.return === b.return) return 0;
  return a.return < b.return ? -1 : 1;
}

/**
 * Decides whether a history of operations on a concurrent object is linearizable with respect to
 * `model` (a port of the algorithm of Anish Athalye's Porcupine: Wing & Gong's search with Lowe's
 * memo, over the parts made by the model's `partition`, each checked on its own).
 *
 * An operation whose `return` is `Number.POSITIVE_INFINITY` was never answered: it may be linearized
 * at any point after its call, or left out. The search is bounded in steps, not time: when the bound
 * is hit, the answer is `'unknown'`.
 *
 * @param model - the sequential specification
 * @param operations - the history, in any order
 * @param options - see {@link CheckOptions}
 * @returns the verdict; for `'illegal'` (and `'unknown'`), the part at fault and an explanation
 * @throws FosError `BAD_REQUEST` for a malformed model, operation (a call time that is not finite, a
 *   return before the call; one that throws when read) or option; `LIMIT_EXCEEDED` for more than
 *   {@link historyOperationsMax} operations. What the model's own methods throw is not wrapped.
 */
export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  operations: readonly Operation<I, O>[],
  options: CheckOptions = {},
): CheckResult<I, O> {
  checkModel(model);
  checkRecord(options, 'the options of a check');
  const stepsMax = readArgument(options, 'the options of a check', () => options.stepsMax) ?? linearizabilityStepsMax;
  if (typeof stepsMax !== 'number' || !Number.isSafeInteger(stepsMax) || stepsMax < 0)
    throw badRequest(`stepsMax ${describeValue(stepsMax)} is not a non-negative integer`, stepsMax);
  readArgument(operations, 'a history', () => validateOperations(operations));
  const parts = model.partition === undefined ? [operations.slice()] : model.partition(operations);
  let steps = 0;
  for (const [index, part] of parts.entries()) {
    if (part.length === 0) continue;
    const sorted = part.slice().sort(byCallThenReturn);
    const outcome = search(model, sorted, stepsMax - steps);
    steps += outcome.steps;
    if (outcome.verdict === 'ok') continue;
    const report = buildReport(index, model.partitionKey?.(sorted), sorted, outcome);
    return {
      result: outcome.verdict,
      steps,
      partitions: parts.length,
      partition: report,
      explanation: describeReport(model, report, outcome.verdict, steps),
    };
  }
  return { result: 'ok', steps, partitions: parts.length };
}
