// The threads of a dispatcher: what one thread does when it calls, sends, responds, sleeps or waits.
// Every operation parks the thread; the dispatcher (its ThreadHost) wakes it with the outcome.
import { AsyncLocalStorage } from 'node:async_hooks';
import { assert, describeValue, FosError, isFosError, type Clock, type MessageBody } from '@fos/base';
import { callAllCallsMax, callTimeoutMsMax } from '../limits.js';
import type { CallOutcome, CallResult, CallSpec, Condition, Exchange, Thread } from '../thread.js';
import type { Budget, CallOptions, Destination, IncomingRequest, ReplyAddress, SendFunction } from '../types.js';
import type { RequestEnvelope, ResponseEnvelope } from '../wire.js';
import { checkedCallOptions, checkedDestination, readArgument, refuse, rejection } from './arguments.js';

// A thread operation answers by its promise: an argument it refuses is a rejection (the thread does
// not park), as is any other error the operation meets.

/** The calls of a `callAll`, checked: at most `callAllCallsMax`, each a destination and a body. */
function checkedCallSpecs(calls: unknown): CallSpec[] {
  if (!Array.isArray(calls)) refuse(`callAll takes an array of calls, not ${describeValue(calls)}`, calls);
  return readArgument(calls, 'the calls of callAll', () => {
    const list = [...(calls as unknown[])];
    if (list.length > callAllCallsMax)
      throw new FosError('LIMIT_EXCEEDED', `callAll takes at most callAllCallsMax (${callAllCallsMax}) calls`, {
        value: list.length,
      });
    return list.map((spec) => {
      if (typeof spec !== 'object' || spec === null)
        refuse(`a call of callAll is not an object: ${describeValue(spec)}`, spec);
      const { destination, body } = spec as { destination?: unknown; body?: unknown };
      return { destination: checkedDestination(destination), body: body as MessageBody };
    });
  });
}

/** `promise`, when it is one (anything with a `then` method). */
function checkedThenable<T>(promise: unknown): PromiseLike<T> {
  const thenable = readArgument(
    promise,
    'what waitFor waits for',
    () => typeof promise === 'object' && promise !== null && typeof (promise as { then?: unknown }).then === 'function',
  );
  if (!thenable) refuse(`waitFor waits for a Promise, not ${describeValue(promise)}`, promise);
  return promise as PromiseLike<T>;
}

/** How a parked thread is woken: with a value, or with the error its operation rejects with. */
export type Outcome = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: Error };

/** A thread waiting for a response, a follow-up or a condition. */
export interface PendingCall {
  readonly thread: ThreadImpl;
  readonly settle: (outcome: Outcome) => void;
}

/** What a thread needs of its dispatcher. */
export interface ThreadHost {
  readonly clock: Clock;
  /** A timer of the host's clock that the host cancels when it stops (a stopped process keeps none). */
  setTimer(delayMs: number, callback: () => void): { cancel(): void };
  /** Where replies to this process's requests go (carried in every request). */
  readonly replyAddress: ReplyAddress;
  /** The one way out of the process (injected into the dispatcher; libfos's send path in a fos process). */
  readonly sendFunction: SendFunction;
  /** Queues a parked thread to be woken with `outcome`. */
  makeReady(thread: ThreadImpl, outcome: Outcome): void;
  threadFinished(): void;
  /** A new token for a call or a follow-up wait; `LIMIT_EXCEEDED` past the pending-operations bound. */
  registerPending(kind: 'call' | 'followUp', pending: PendingCall): number;
  /** Forgets a pending token (timed out or failed); true if it was still pending. */
  dropPending(kind: 'call' | 'followUp', token: number): boolean;
  /** How long an operation may wait: its own timeout, never past the thread's deadline. */
  timeoutFor(thread: ThreadImpl, options: CallOptions): number | 'none';
  /** Logs and counts an answer that could not be delivered. */
  replyUndeliverable(thread: ThreadImpl, error: unknown): void;
  /** Counts a follow-up nobody waits for. */
  followUpDropped(): void;
}

export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => (resolve = done));
  return { promise, resolve };
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function toFosError(error: unknown): FosError {
  if (isFosError(error)) return error;
  return new FosError('UNREACHABLE', error instanceof Error ? error.message : String(error), { cause: error });
}

/**
 * The thread whose code is running, carried along every await of that code: other code of the process
 * (its main line, a test) may run in the microtask gaps of a thread's run, and must not be taken for it.
 */
export const threadScope = new AsyncLocalStorage<ThreadImpl>();

const conditionWaiters = Symbol('condition waiters');

/** The waiters of a condition made by {@link createCondition}; `BAD_REQUEST` for anything else. */
function conditionWaitersOf(condition: unknown): PendingCall[] {
  const waiters = readArgument(condition, 'a condition', () =>
    typeof condition === 'object' && condition !== null
      ? (condition as Record<symbol, PendingCall[] | undefined>)[conditionWaiters]
      : undefined,
  );
  if (waiters === undefined)
    refuse(`wait takes a condition made by createCondition, not ${describeValue(condition)}`, condition);
  return waiters;
}

/** A condition variable whose waiters are woken in FIFO order; `signal` and `broadcast` never yield. */
export function createCondition(): Condition {
  const waiters: PendingCall[] = [];
  const wake = (count: number): void => {
    for (const waiter of waiters.splice(0, count)) waiter.settle({ ok: true, value: undefined });
  };
  return {
    signal: () => wake(1),
    broadcast: () => wake(waiters.length),
    get waiting() {
      return waiters.length;
    },
    [conditionWaiters]: waiters,
  } as Condition;
}

/** The outcome a response wakes its caller with: the error it answered, or its body and the exchange. */
export function responseOutcome(host: ThreadHost, thread: ThreadImpl, response: ResponseEnvelope): Outcome {
  if (!response.ok) {
    const error = response.error ?? { code: 'BAD_REQUEST' as const, message: 'error response without an error' };
    return {
      ok: false,
      error: new FosError(
        error.code,
        error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message,
      ),
    };
  }
  const awaiting = response.awaiting;
  const exchange: Exchange = {
    followUp: (body) => {
      if (awaiting === undefined) {
        // The responder did not wait for a follow-up: nobody would take it.
        host.followUpDropped();
        return thread.waitFor(Promise.resolve());
      }
      return thread.sendEnvelope('followUp', awaiting.replyTo, { fos: 'followUp', token: awaiting.token, body });
    },
  };
  const result: CallResult = { body: response.body ?? null, exchange };
  return { ok: true, value: result };
}

/** The thread implementation: every operation parks it until the dispatcher wakes it. */
export class ThreadImpl implements Thread {
  state: 'ready' | 'running' | 'parked' | 'finished' = 'ready';
  responded = false;
  /** Called once the thread has finished and is no longer the current one. */
  onFinished: (() => void) | undefined;
  private parkedSignal: (() => void) | undefined;
  private wakeParked: ((outcome: Outcome) => void) | undefined;

  constructor(
    private readonly host: ThreadHost,
    readonly name: string,
    readonly deadlineMs: number | undefined,
    private readonly envelope: RequestEnvelope | undefined,
    readonly request: IncomingRequest | undefined,
  ) {}

  beginRun(parked: () => void): void {
    assert(
      this.state === 'ready' || this.state === 'parked',
      `thread ${this.name} is run only when ready or parked (it is ${this.state})`,
    );
    this.state = 'running';
    this.parkedSignal = parked;
  }

  wake(outcome: Outcome): void {
    const wake = this.wakeParked;
    assert(wake !== undefined, `thread ${this.name} is woken only while parked`);
    this.wakeParked = undefined;
    wake(outcome);
  }

  finish(): void {
    this.state = 'finished';
    this.host.threadFinished();
    this.signalParked();
  }

  private signalParked(): void {
    const signal = this.parkedSignal;
    this.parkedSignal = undefined;
    signal?.();
  }

  /** Parks this thread; `arm` gets the function that, called once, queues the wake-up. */
  private park<T>(operation: string, arm: (settle: (outcome: Outcome) => void) => void): Promise<T> {
    assert(
      this.state === 'running',
      `thread ${this.name} calls ${operation} while ${this.state}: a thread awaits one dispatcher operation at a time`,
    );
    return new Promise<T>((resolve, reject) => {
      this.state = 'parked';
      this.wakeParked = (outcome) => (outcome.ok ? resolve(outcome.value as T) : reject(outcome.error));
      let settled = false;
      const settle = (outcome: Outcome): void => {
        if (settled) return;
        settled = true;
        this.host.makeReady(this, outcome);
      };
      try {
        arm(settle);
      } catch (error) {
        settle({ ok: false, error: asError(error) });
      }
      this.signalParked();
    });
  }

  /**
   * A wait that settles once, cancelling its timer: by its wake-up, or by `TIMEOUT` after `timeout` ms
   * when `withdraw` still finds it pending (and takes it out).
   */
  private timed(
    timeout: number | 'none',
    settle: (outcome: Outcome) => void,
  ): { settle: (outcome: Outcome) => void; arm: (withdraw: () => boolean, what: string) => void } {
    let timer: { cancel(): void } | undefined;
    return {
      settle: (outcome) => {
        timer?.cancel();
        settle(outcome);
      },
      arm: (withdraw, what) => {
        if (timeout === 'none') return;
        timer = this.host.setTimer(timeout, () => {
          if (withdraw())
            settle({
              ok: false,
              error: new FosError('TIMEOUT', `${this.name}: ${what} in ${timeout} ms`, { value: this.name }),
            });
        });
      },
    };
  }

  call(destination: Destination, body: MessageBody, options: CallOptions = {}): Promise<CallResult> {
    let to: Destination;
    let callOptions: CallOptions;
    try {
      to = checkedDestination(destination);
      callOptions = checkedCallOptions(options);
    } catch (error) {
      return rejection(error);
    }
    return this.park('call', (settle) => this.issueCall(to, body, callOptions, settle));
  }

  callAll(calls: readonly CallSpec[], options: CallOptions = {}): Promise<CallOutcome[]> {
    let specs: CallSpec[];
    let callOptions: CallOptions;
    try {
      specs = checkedCallSpecs(calls);
      callOptions = checkedCallOptions(options);
    } catch (error) {
      return rejection(error);
    }
    return this.gather(specs, callOptions);
  }

  /** Issues every call of a `callAll` at once; wakes once, when each has answered or timed out. */
  private gather(calls: readonly CallSpec[], options: CallOptions): Promise<CallOutcome[]> {
    return this.park('callAll', (settle) => {
      const outcomes: CallOutcome[] = new Array<CallOutcome>(calls.length);
      let remaining = calls.length;
      if (remaining === 0) settle({ ok: true, value: outcomes });
      calls.forEach((spec, index) => {
        this.issueCall(spec.destination, spec.body, options, (outcome) => {
          outcomes[index] = outcome.ok
            ? { ok: true, ...(outcome.value as CallResult) }
            : { ok: false, error: toFosError(outcome.error) };
          if (--remaining === 0) settle({ ok: true, value: outcomes });
        });
      });
    });
  }

  /** Sends a request and settles with its response, its send failure, or `TIMEOUT`. */
  private issueCall(
    destination: Destination,
    body: MessageBody,
    options: CallOptions,
    settle: (outcome: Outcome) => void,
  ): void {
    const timeout = this.host.timeoutFor(this, options);
    if (timeout === 0) {
      settle({
        ok: false,
        error: new FosError(
          'TIMEOUT',
          `${this.name}: no time left for a call to ${destination.name ?? 'an unnamed mailbox'}`,
          { value: destination.name },
        ),
      });
      return;
    }
    const timed = this.timed(timeout, settle);
    const token = this.host.registerPending('call', { thread: this, settle: timed.settle });
    const budget: Budget = timeout;
    timed.arm(
      () => this.host.dropPending('call', token),
      `call to ${destination.name ?? 'an unnamed mailbox'} got no answer`,
    );
    this.host
      .sendFunction(destination, { fos: 'request', token, replyTo: this.host.replyAddress, budget, body })
      .catch((error: unknown) => {
        if (this.host.dropPending('call', token)) timed.settle({ ok: false, error: toFosError(error) });
      });
  }

  send(destination: Destination, body: MessageBody): Promise<void> {
    let to: Destination;
    try {
      to = checkedDestination(destination);
    } catch (error) {
      return rejection(error);
    }
    return this.sendEnvelope('send', to, { fos: 'message', body });
  }

  /** Sends one envelope through the injected send function; parks until the kernel accepts it. */
  sendEnvelope(operation: string, destination: Destination, envelope: MessageBody): Promise<void> {
    return this.park(operation, (settle) => {
      this.host.sendFunction(destination, envelope).then(
        () => settle({ ok: true, value: undefined }),
        (error: unknown) => settle({ ok: false, error: toFosError(error) }),
      );
    });
  }

  respond(body: MessageBody): Promise<void> {
    return this.respondWith({ ok: true, body });
  }

  /** Answers the request this thread handles; an undeliverable answer is logged and counted. */
  respondWith(
    answer: { ok: true; body: MessageBody } | { ok: false; error: { code: string; message: string } },
  ): Promise<void> {
    const request = this.takeRequestToAnswer();
    return this.park('respond', (settle) => {
      this.host.sendFunction(request.replyTo, { fos: 'response', token: request.token, ...answer }).then(
        () => settle({ ok: true, value: undefined }),
        (error: unknown) => {
          this.host.replyUndeliverable(this, error);
          settle({ ok: true, value: undefined });
        },
      );
    });
  }

  respondAndAwait(body: MessageBody, options: CallOptions = {}): Promise<MessageBody> {
    try {
      options = checkedCallOptions(options);
    } catch (error) {
      return rejection(error);
    }
    const request = this.takeRequestToAnswer();
    return this.park('respondAndAwait', (settle) => {
      const timeout = this.host.timeoutFor(this, options);
      const timed = this.timed(timeout, settle);
      const token = this.host.registerPending('followUp', { thread: this, settle: timed.settle });
      timed.arm(() => this.host.dropPending('followUp', token), 'no follow-up');
      const response = {
        fos: 'response',
        token: request.token,
        ok: true,
        body,
        awaiting: { token, replyTo: this.host.replyAddress },
      } as const;
      this.host.sendFunction(request.replyTo, response).catch((error: unknown) => {
        if (!this.host.dropPending('followUp', token)) return;
        this.host.replyUndeliverable(this, error);
        timed.settle({ ok: false, error: toFosError(error) });
      });
    });
  }

  /** The request this thread answers, marked answered (a thread answers once, and only a request it handles). */
  private takeRequestToAnswer(): RequestEnvelope {
    const request = this.envelope;
    assert(request !== undefined, `thread ${this.name} responds only to a request it handles`);
    assert(!this.responded, `thread ${this.name} responds once`);
    this.responded = true;
    return request;
  }

  sleep(delayMs: number): Promise<void> {
    if (typeof delayMs !== 'number' || !(delayMs >= 0 && delayMs <= callTimeoutMsMax))
      return Promise.reject(
        new FosError(
          'BAD_REQUEST',
          `sleep ${describeValue(delayMs)} ms is outside 0..callTimeoutMsMax (${callTimeoutMsMax})`,
          { value: delayMs },
        ),
      );
    return this.park('sleep', (settle) => {
      this.host.setTimer(delayMs, () => settle({ ok: true, value: undefined }));
    });
  }

  wait(condition: Condition, options: CallOptions = {}): Promise<void> {
    let waiters: PendingCall[];
    try {
      options = checkedCallOptions(options);
      waiters = conditionWaitersOf(condition);
    } catch (error) {
      return rejection(error);
    }
    return this.park('wait', (settle) => {
      const timeout = this.host.timeoutFor(this, options);
      const timed = this.timed(timeout, settle);
      const waiter: PendingCall = { thread: this, settle: timed.settle };
      waiters.push(waiter);
      timed.arm(() => {
        const index = waiters.indexOf(waiter);
        if (index >= 0) waiters.splice(index, 1);
        return index >= 0;
      }, 'condition not signalled');
    });
  }

  waitFor<T>(promise: Promise<T>): Promise<T> {
    let thenable: PromiseLike<T>;
    try {
      thenable = checkedThenable<T>(promise);
    } catch (error) {
      return rejection(error);
    }
    return this.park('waitFor', (settle) => {
      thenable.then(
        (value) => settle({ ok: true, value }),
        (error: unknown) => settle({ ok: false, error: asError(error) }),
      );
    });
  }
}
