/**
 * One operation of a history: what a client asked (`input`), what it was answered (`output`), and
 * when, on the simulator's virtual clock, it was invoked (`call`) and answered (`return`).
 *
 * Intervals are closed: an operation answered at `t` and another invoked at `t` are concurrent.
 * `return` is `Number.POSITIVE_INFINITY` for an operation whose answer never came: the checker may
 * then linearize it at any point after its call, or leave it out (its effect may never have happened).
 */
export interface Operation<I, O> {
  /** Who issued it (only to describe it). */
  readonly client: string | number;
  /** The request. */
  readonly input: I;
  /** The answer (for an unanswered operation, whatever the model takes as "unknown"). */
  readonly output: O;
  /** Invocation time: a finite number. */
  readonly call: number;
  /** Response time: at least `call`, or `Number.POSITIVE_INFINITY` when no response came. */
  readonly return: number;
}

/** What {@link Model.step} answers: whether the output is possible from the state, and the next state. */
export interface StepResult<S> {
  /** True when `input` applied to the state may answer `output`. */
  readonly ok: boolean;
  /** The state after the operation (meaningful only when `ok`). */
  readonly state: S;
}

/**
 * A sequential specification of an object, for {@link checkOperations}. States must be treated as
 * immutable: `step` returns a new state (or the same one) and never changes its argument.
 *
 * @typeParam S - the state of the object
 * @typeParam I - an operation's input
 * @typeParam O - an operation's output
 */
export interface Model<S, I, O> {
  /** The initial state. */
  init(): S;
  /** Applies `input` to `state`: `ok` when the object may answer `output` from that state. */
  step(state: S, input: I, output: O): StepResult<S>;
  /** True when two states are the same (the memo of the search depends on it). */
  equal(a: S, b: S): boolean;
  /**
   * A text that equal states share (unequal states should rarely share it): speeds up the memo of
   * the search. Without it, states are compared with `equal` only.
   */
  hash?(state: S): string;
  /**
   * Splits a history into independent sub-histories (P-compositionality: a history is linearizable
   * iff each part is), for example one per key. Without it, the whole history is one part. It may
   * throw `BAD_REQUEST` for an operation the model cannot read.
   */
  partition?(operations: readonly Operation<I, O>[]): Operation<I, O>[][];
  /** Names a part made by `partition` (for example `key "a"`), for reports. */
  partitionKey?(operations: readonly Operation<I, O>[]): string;
  /** A one-line text of an operation's input and output, for explanations; JSON by default. */
  describeOperation?(input: I, output: O): string;
  /** A one-line text of a state, for explanations; JSON by default. */
  describeState?(state: S): string;
}
