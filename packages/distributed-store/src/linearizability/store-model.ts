import { describeValue, encodeBodyTransient, FosError, isFosError, type MessageBody } from '@fos/base';
import { checkRecord, readArgument, refuse } from '../internal/arguments.js';
import { canonicalText } from '../internal/canonical.js';
import type { Model, Operation, StepResult } from './model.js';

/**
 * The input of one store operation, as the simulator records it: the method of {@link Store} and its
 * arguments. `key` splits a history into one part per key (the keys are independent).
 */
export type StoreInput =
  | { readonly op: 'insert'; readonly key: string; readonly value: unknown }
  | { readonly op: 'update'; readonly key: string; readonly value: unknown; readonly expectedVersion: number }
  | { readonly op: 'delete'; readonly key: string; readonly expectedVersion: number }
  | { readonly op: 'get'; readonly key: string };

/** The answer of an insert, update or delete: done, or rejected with `CONFLICT` (and then without effect). */
export type StoreModificationOutput = { readonly ok: true } | { readonly ok: false; readonly code: 'CONFLICT' };

/** The answer of a get: the entry with its version, or undefined when the key is absent. */
export type StoreGetOutput = { readonly value: unknown; readonly version: number } | undefined;

/**
 * The output of an operation whose outcome is not known (it answered `TIMEOUT`, or never answered):
 * it must be recorded with `return: Number.POSITIVE_INFINITY`. Its effect may or may not have happened.
 */
export interface StoreUnknownOutput {
  readonly unknown: true;
}

/** The output of one store operation. */
export type StoreOutput = StoreModificationOutput | StoreGetOutput | StoreUnknownOutput;

/** The state of one key: absent, or an entry at a version. */
export type StoreState = { readonly value: unknown; readonly version: number } | undefined;

/** One operation of a store history. */
export type StoreOperation = Operation<StoreInput, StoreOutput>;

/** Options of {@link createStoreModel}. */
export interface StoreModelOptions {
  /**
   * When true, a modification may answer `CONFLICT` even though its precondition held (a replicated
   * commit aborted for another reason: wait-die, a lost member) — it must still have had no effect.
   * Default false: a `CONFLICT` must be explained by a failed precondition at its linearization point,
   * exactly as {@link LocalStore} does.
   */
  readonly conflictsMayBeSpurious?: boolean;
}

// Canonical texts of object values, computed once: recorded values must not change afterwards.
const canonicalTexts = new WeakMap<object, string>();

function canonical(value: unknown): string {
  if (typeof value !== 'object' || value === null) return canonicalText(value as MessageBody);
  let text = canonicalTexts.get(value);
  if (text === undefined) {
    text = canonicalText(value as MessageBody);
    canonicalTexts.set(value, text);
  }
  return text;
}

function isUnknown(output: unknown): output is StoreUnknownOutput {
  return typeof output === 'object' && output !== null && (output as { unknown?: unknown }).unknown === true;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1;
}

function badOperation(index: number, operation: unknown, why: string): FosError {
  return new FosError('BAD_REQUEST', `store operation ${index}: ${why}`, { value: operation });
}

/** Why `value` cannot be a value of the store (the codec's words), or undefined when it can. */
function valueProblem(value: unknown, what: string): string | undefined {
  try {
    encodeBodyTransient(value, Number.MAX_SAFE_INTEGER);
    return undefined;
  } catch (error) {
    return `${what} is not a message body (${isFosError(error) ? error.message : describeValue(error)})`;
  }
}

/** Why `input` is not a store input, or undefined. */
function inputProblem(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return `the input ${describeValue(input)} is not an object`;
  const { op, key, expectedVersion } = input as { op?: unknown; key?: unknown; expectedVersion?: unknown };
  if (typeof key !== 'string' || key.length === 0) return `key ${describeValue(key)} is not a non-empty string`;
  if (op !== 'insert' && op !== 'update' && op !== 'delete' && op !== 'get')
    return `op ${describeValue(op)} is not insert, update, delete or get`;
  if ((op === 'update' || op === 'delete') && !isPositiveInteger(expectedVersion))
    return `expectedVersion ${describeValue(expectedVersion)} is not a positive integer`;
  if (op === 'insert' || op === 'update')
    return 'value' in input
      ? valueProblem((input as { value?: unknown }).value, `the ${op}'s value`)
      : `an ${op} has no value`;
  return undefined;
}

/** Why `state` is not a state of one key, or undefined. */
function stateProblem(state: unknown): string | undefined {
  if (state === undefined) return undefined;
  if (
    typeof state !== 'object' ||
    state === null ||
    !('value' in state) ||
    !isPositiveInteger((state as { version?: unknown }).version)
  )
    return `a state ${describeValue(state)} is neither undefined nor { value, version }`;
  return valueProblem((state as { value?: unknown }).value, 'the value of a state');
}

/** Why `output` is not an output of an operation `op`, or undefined (an unknown outcome is one of every op). */
function outputProblem(output: unknown, op: unknown): string | undefined {
  if (isUnknown(output)) return undefined;
  if (op === 'get') {
    const problem = stateProblem(output);
    return problem === undefined
      ? undefined
      : `a get's output ${describeValue(output)} is neither undefined nor { value, version }`;
  }
  if (typeof output === 'object' && output !== null) {
    const { ok, code } = output as { ok?: unknown; code?: unknown };
    if (ok === true || (ok === false && code === 'CONFLICT')) return undefined;
  }
  return `a modification's output ${describeValue(output)} is neither { ok: true } nor { ok: false, code: 'CONFLICT' }`;
}

function validateStoreOperation(operation: StoreOperation, index: number): void {
  const input = operation.input as unknown;
  const problem = inputProblem(input) ?? outputProblem(operation.output, (input as { op: unknown }).op);
  if (problem !== undefined) throw badOperation(index, operation, problem);
  if (isUnknown(operation.output) && operation.return !== Number.POSITIVE_INFINITY) {
    throw badOperation(
      index,
      operation,
      'an unknown outcome must be recorded with return: Number.POSITIVE_INFINITY (its effect may come at any later time)',
    );
  }
}

/**
 * What a method of the model throws when it threw: the checker hands the methods only what `partition`
 * checked, so they check nothing on their way; when one throws, `problem` looks at its arguments, and a
 * caller's malformed argument is `BAD_REQUEST` naming it (anything else is rethrown as it was).
 */
function refusal(method: string, error: unknown, problem: () => string | undefined): unknown {
  if (isFosError(error)) return error;
  let why: string | undefined;
  try {
    why = problem();
  } catch {
    why = 'an argument throws when read';
  }
  return why === undefined ? error : new FosError('BAD_REQUEST', `storeModel.${method}: ${why}`);
}

function operationsProblem(operations: unknown): string | undefined {
  if (!Array.isArray(operations)) return `the operations ${describeValue(operations)} are not an array`;
  for (const operation of operations as unknown[])
    if (typeof operation !== 'object' || operation === null)
      return `an operation ${describeValue(operation)} is not an object`;
  for (const { input, output } of operations as Array<{ input?: unknown; output?: unknown }>) {
    const why = inputProblem(input) ?? outputProblem(output, (input as { op: unknown }).op);
    if (why !== undefined) return why;
  }
  return undefined;
}

function describeState(state: StoreState): string {
  return state === undefined ? 'absent' : `v${state.version} ${canonical(state.value)}`;
}

function describeOutput(output: StoreOutput, op: StoreInput['op']): string {
  if (isUnknown(output)) return 'unknown (no response)';
  if (op === 'get') return describeState(output as StoreGetOutput);
  return (output as StoreModificationOutput).ok ? 'ok' : 'CONFLICT';
}

function describeInput(input: StoreInput): string {
  const key = JSON.stringify(input.key);
  switch (input.op) {
    case 'insert':
      return `insert(${key}, ${canonical(input.value)})`;
    case 'update':
      return `update(${key}, ${canonical(input.value)}, v${input.expectedVersion})`;
    case 'delete':
      return `delete(${key}, v${input.expectedVersion})`;
    case 'get':
      return `get(${key})`;
  }
}

type StoreModel = Model<StoreState, StoreInput, StoreOutput>;
type StoreStep = StoreModel['step'];

/** The step of the model: `spurious` lets a `CONFLICT` be answered while the precondition held. */
function storeStep(spurious: boolean): StoreStep {
  const modify = (
    state: StoreState,
    holds: boolean,
    after: () => StoreState,
    output: StoreOutput,
  ): StepResult<StoreState> => {
    if (isUnknown(output)) return { ok: true, state: holds ? after() : state };
    if ((output as StoreModificationOutput).ok) return holds ? { ok: true, state: after() } : { ok: false, state };
    return { ok: !holds || spurious, state };
  };
  return (state, input, output) => {
    switch (input.op) {
      case 'insert':
        return modify(state, state === undefined, () => ({ value: input.value, version: 1 }), output);
      case 'update':
        return modify(
          state,
          state?.version === input.expectedVersion,
          () => ({ value: input.value, version: input.expectedVersion + 1 }),
          output,
        );
      case 'delete':
        return modify(state, state?.version === input.expectedVersion, () => undefined, output);
      case 'get': {
        if (isUnknown(output)) return { ok: true, state };
        const seen = output as StoreGetOutput;
        if (seen === undefined || state === undefined) return { ok: seen === state, state };
        return { ok: seen.version === state.version && canonical(seen.value) === canonical(state.value), state };
      }
      default:
        throw new FosError('BAD_REQUEST', `storeModel.step: ${inputProblem(input) ?? 'an unknown op'}`);
    }
  };
}

function equalStates(a: StoreState, b: StoreState): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.version === b.version && canonical(a.value) === canonical(b.value);
}

/** One part per key, every operation checked (`BAD_REQUEST` for a malformed one). */
function partitionByKey(operations: readonly StoreOperation[]): StoreOperation[][] {
  const byKey = new Map<string, StoreOperation[]>();
  operations.forEach((operation, index) => {
    validateStoreOperation(operation, index);
    const part = byKey.get(operation.input.key);
    if (part === undefined) byKey.set(operation.input.key, [operation]);
    else part.push(operation);
  });
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as StoreOperation[]);
}

/**
 * Builds the model of one key of the store, with the semantics of {@link LocalStore}: insert succeeds
 * only when the key is absent and sets version 1; update and delete succeed only when the entry is at
 * exactly the expected version (update sets version expected+1, delete removes the entry); a failed
 * precondition answers `CONFLICT` and changes nothing; a key deleted and inserted again starts again at
 * version 1. Values are compared by canonical JSON (sorted properties). An operation with an unknown
 * outcome ({@link StoreUnknownOutput}) takes effect when it is linearized and its precondition holds,
 * and is left out when its effect never happened.
 *
 * `partition` splits a history by key and checks every operation (`BAD_REQUEST` for a malformed one);
 * every method answers `BAD_REQUEST` for arguments it cannot read. `BAD_REQUEST` for bad options.
 *
 * @param options - see {@link StoreModelOptions}
 */
export function createStoreModel(options: StoreModelOptions = {}): StoreModel {
  checkRecord(options, 'the options of a store model');
  const spurious = readArgument(options, 'the options of a store model', () => options.conflictsMayBeSpurious) ?? false;
  if (typeof spurious !== 'boolean')
    refuse(`conflictsMayBeSpurious ${describeValue(spurious)} is not a boolean`, spurious);
  const step = storeStep(spurious);
  // Each method answers BAD_REQUEST for arguments a caller got wrong (see `refusal`); the checker's own
  // calls pay for the try only.
  return {
    init: () => undefined,
    step(state, input, output) {
      try {
        return step(state, input, output);
      } catch (error) {
        throw refusal(
          'step',
          error,
          () => stateProblem(state) ?? inputProblem(input) ?? outputProblem(output, input.op),
        );
      }
    },
    equal(a, b) {
      try {
        return equalStates(a, b);
      } catch (error) {
        throw refusal('equal', error, () => stateProblem(a) ?? stateProblem(b));
      }
    },
    hash(state) {
      try {
        return state === undefined ? '-' : `${state.version}:${canonical(state.value)}`;
      } catch (error) {
        throw refusal('hash', error, () => stateProblem(state));
      }
    },
    partition(operations) {
      try {
        return partitionByKey(operations);
      } catch (error) {
        throw refusal('partition', error, () => operationsProblem(operations));
      }
    },
    partitionKey(operations) {
      try {
        return operations[0]?.input.key ?? '';
      } catch (error) {
        throw refusal('partitionKey', error, () => operationsProblem(operations));
      }
    },
    describeOperation(input, output) {
      try {
        return `${describeInput(input)} → ${describeOutput(output, input.op)}`;
      } catch (error) {
        throw refusal('describeOperation', error, () => inputProblem(input) ?? outputProblem(output, input.op));
      }
    },
    describeState(state) {
      try {
        return describeState(state);
      } catch (error) {
        throw refusal('describeState', error, () => stateProblem(state));
      }
    },
  };
}

/** The model of one key of the store, with strict {@link LocalStore} semantics (see {@link createStoreModel}). */
export const storeModel: Model<StoreState, StoreInput, StoreOutput> = createStoreModel();
