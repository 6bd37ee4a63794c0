import { FosError, type MessageBody } from '@fos/base';
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

function validateStoreOperation(operation: StoreOperation, index: number): void {
  const input = operation.input as unknown;
  if (typeof input !== 'object' || input === null) throw badOperation(index, operation, 'the input is not an object');
  const { op, key, expectedVersion } = input as { op?: unknown; key?: unknown; expectedVersion?: unknown };
  if (typeof key !== 'string' || key.length === 0)
    throw badOperation(index, operation, `key ${jsonText(key)} is not a non-empty string`);
  if (op !== 'insert' && op !== 'update' && op !== 'delete' && op !== 'get') {
    throw badOperation(index, operation, `op ${jsonText(op)} is not insert, update, delete or get`);
  }
  if ((op === 'insert' || op === 'update') && !('value' in input))
    throw badOperation(index, operation, `an ${op} has no value`);
  if ((op === 'update' || op === 'delete') && !isPositiveInteger(expectedVersion)) {
    throw badOperation(index, operation, `expectedVersion ${jsonText(expectedVersion)} is not a positive integer`);
  }
  const output = operation.output as unknown;
  if (isUnknown(output)) {
    if (operation.return !== Number.POSITIVE_INFINITY) {
      throw badOperation(
        index,
        operation,
        'an unknown outcome must be recorded with return: Number.POSITIVE_INFINITY (its effect may come at any later time)',
      );
    }
    return;
  }
  if (op === 'get') {
    if (output === undefined) return;
    if (
      typeof output === 'object' &&
      output !== null &&
      'value' in output &&
      isPositiveInteger((output as { version?: unknown }).version)
    )
      return;
    throw badOperation(
      index,
      operation,
      `a get's output ${jsonText(output)} is neither undefined nor { value, version }`,
    );
  }
  if (typeof output === 'object' && output !== null) {
    const { ok, code } = output as { ok?: unknown; code?: unknown };
    if (ok === true || (ok === false && code === 'CONFLICT')) return;
  }
  throw badOperation(
    index,
    operation,
    `a modification's output ${jsonText(output)} is neither { ok: true } nor { ok: false, code: 'CONFLICT' }`,
  );
}

function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
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

/**
 * Builds the model of one key of the store, with the semantics of {@link LocalStore}: insert succeeds
 * only when the key is absent and sets version 1; update and delete succeed only when the entry is at
 * exactly the expected version (update sets version expected+1, delete removes the entry); a failed
 * precondition answers `CONFLICT` and changes nothing; a key deleted and inserted again starts again at
 * version 1. Values are compared by canonical JSON (sorted properties). An operation with an unknown
 * outcome ({@link StoreUnknownOutput}) takes effect when it is linearized and its precondition holds,
 * and is left out when its effect never happened.
 *
 * `partition` splits a history by key and checks every operation (`BAD_REQUEST` for a malformed one).
 *
 * @param options - see {@link StoreModelOptions}
 */
export function createStoreModel(options: StoreModelOptions = {}): Model<StoreState, StoreInput, StoreOutput> {
  const spurious = options.conflictsMayBeSpurious ?? false;
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
  return {
    init: () => undefined,
    step(state, input, output) {
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
      }
    },
    equal(a, b) {
      if (a === undefined || b === undefined) return a === b;
      return a.version === b.version && canonical(a.value) === canonical(b.value);
    },
    hash: (state) => (state === undefined ? '-' : `${state.version}:${canonical(state.value)}`),
    partition(operations) {
      const byKey = new Map<string, StoreOperation[]>();
      operations.forEach((operation, index) => {
        validateStoreOperation(operation, index);
        const part = byKey.get(operation.input.key);
        if (part === undefined) byKey.set(operation.input.key, [operation]);
        else part.push(operation);
      });
      return [...byKey.keys()].sort().map((key) => byKey.get(key) as StoreOperation[]);
    },
    partitionKey: (operations) => operations[0]?.input.key ?? '',
    describeOperation: (input, output) => `${describeInput(input)} → ${describeOutput(output, input.op)}`,
    describeState,
  };
}

/** The model of one key of the store, with strict {@link LocalStore} semantics (see {@link createStoreModel}). */
export const storeModel: Model<StoreState, StoreInput, StoreOutput> = createStoreModel();
