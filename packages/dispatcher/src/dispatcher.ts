import {
  assert,
  AssertionError,
  describeValue,
  FosError,
  isFosError,
  nextTurn,
  type Clock,
  type MessageBody,
} from '@fos/base';
import {
  formatLocation,
  sameLocation,
  type MailboxLocation,
  type ReceivedMessage,
  type SystemCalls,
} from '@fos/microkernel';
import {
  asError,
  createCondition as newCondition,
  deferred,
  responseOutcome,
  threadScope,
  ThreadImpl,
  type Outcome,
  type PendingCall,
  type ThreadHost,
} from './internal/threads.js';
import { checkAddressName, checkedLocation, checkFunction, refuse, rejection } from './internal/arguments.js';
import { checkedDispatcherOptions, checkedRegistration } from './internal/options.js';
import { callTimeoutMsMax, dispatcherMailboxesMax, type DispatcherLimits } from './limits.js';
import type { Condition, Thread } from './thread.js';
import type { CallOptions, IncomingRequest, ReplyAddress, RequestHandler, SendFunction } from './types.js';
import { parseInbound, parseReply } from './wire.js';

/** What a dispatcher is made of. */
export interface DispatcherOptions {
  /** The process's system calls (receiving). */
  readonly kernel: SystemCalls;
  /** The process's one way out (libfos's send path; `rawSendFunction` of `@fos/dispatcher/testing` in tests). */
  readonly send: SendFunction;
  /** The machine clock (virtual under simulation). */
  readonly clock: Clock;
  /** The process's reply mailbox, already created and named by its owner; drained first. */
  readonly replyAddress: ReplyAddress;
  /** Crashes the process (an assertion in a thread is a bug of the process, not of the machine). */
  readonly crash: (error: unknown) => void;
  /** Where undeliverable replies and dropped messages are reported (default: nowhere; they are counted). */
  readonly log?: (line: string) => void;
  readonly limits?: Partial<DispatcherLimits>;
  /**
   * The dispatcher stops when this settles: the process's `context.exited`, so that a process that
   * ends (exits, crashes, or its machine shuts down) keeps no timer of its threads.
   */
  readonly stopWhen?: Promise<unknown>;
}

/**
 * Dispatchers that do not wait for a woken thread to park before taking the next message: a planted
 * bug (it breaks §5.3's ordering) that only this package's tests switch on, through
 * {@link skipParkWaitForTests}; no option of the public API reaches it.
 */
const parkWaitSkipped = new WeakSet<Dispatcher>();

/** @internal Plants the bug of {@link parkWaitSkipped} in `dispatcher` (tests of this package only). */
export function skipParkWaitForTests(dispatcher: Dispatcher): void {
  parkWaitSkipped.add(dispatcher);
}

/** Options of {@link Dispatcher.register}. */
export interface RegisterOptions {
  readonly handler: RequestHandler;
  /** Higher first when several mailboxes hold messages (default 0). */
  readonly priority?: number;
  /** Live request threads of this mailbox, past which requests wait (default `liveThreadsPerMailboxMax`). */
  readonly liveThreadsMax?: number;
}

/** Counters of a dispatcher. */
export interface DispatcherStats {
  readonly threadsLive: number;
  readonly requestsHandled: number;
  readonly requestsExpired: number;
  readonly responsesLate: number;
  readonly followUpsDropped: number;
  readonly repliesUndeliverable: number;
  readonly envelopesMalformed: number;
  /** Per served mailbox: live request threads now and at most. */
  readonly mailboxes: ReadonlyArray<{
    readonly location: MailboxLocation;
    readonly liveThreads: number;
    readonly liveThreadsPeak: number;
  }>;
}

interface ServedMailbox {
  readonly location: MailboxLocation;
  readonly handler: RequestHandler;
  readonly priority: number;
  readonly liveThreadsMax: number;
  liveThreads: number;
  liveThreadsPeak: number;
}

interface ReadyEntry {
  readonly thread: ThreadImpl;
  /** A new thread's body, or the outcome that wakes a parked one. */
  readonly start?: () => Promise<void>;
  readonly outcome?: Outcome;
}

/**
 * The dispatcher of one process (thesis §2.3, §4.4.1, §5.3): it serves the process's mailboxes, gives
 * every incoming request its own cooperative thread, and runs one thread at a time, each until it
 * parks in a dispatcher operation. A woken thread runs to its next park before any further message of
 * the process is handled; replies are drained first and never wait behind requests.
 */
export class Dispatcher implements ThreadHost {
  private reply: ReplyAddress;
  readonly clock: Clock;
  private readonly kernel: SystemCalls;
  /** @internal The injected way out; threads send through it. */
  readonly sendFunction: SendFunction;
  private readonly crash: (error: unknown) => void;
  private readonly log: (line: string) => void;
  private readonly limits: DispatcherLimits;
  private readonly served: ServedMailbox[] = [];
  private readonly ready: ReadyEntry[] = [];
  private readonly pendingCalls = new Map<number, PendingCall>();
  private readonly pendingFollowUps = new Map<number, PendingCall>();
  private readonly idleWaiters: Array<() => void> = [];
  /** The timers of parked operations, cancelled when the dispatcher stops. */
  private readonly timers = new Set<{ cancel(): void }>();
  private nextToken = 1;
  private pumping = false;
  private watchdogArmed = false;
  private paused = false;
  private stopped = false;
  private current: ThreadImpl | undefined;
  private threadsLive = 0;
  private counters = {
    requestsHandled: 0,
    requestsExpired: 0,
    responsesLate: 0,
    followUpsDropped: 0,
    repliesUndeliverable: 0,
    envelopesMalformed: 0,
  };

  /** `BAD_REQUEST` for options a dispatcher cannot run with; the kernel's refusal of the reply mailbox as it is. */
  constructor(options: DispatcherOptions) {
    const checked = checkedDispatcherOptions(options);
    this.kernel = checked.kernel;
    this.sendFunction = checked.send;
    this.clock = checked.clock;
    this.reply = checked.replyAddress;
    this.crash = checked.crash;
    this.log = checked.log ?? (() => undefined);
    this.limits = checked.limits;
    this.kernel.onReadable(this.replyAddress.location, () => this.schedulePump());
    const stop = () => this.stop();
    void checked.stopWhen?.then(stop, stop);
  }

  /**
   * Serves a mailbox of this process: each request to it runs `handler` in a thread of its own.
   * Higher `priority` is served first; past `liveThreadsMax` live threads, requests wait in the mailbox.
   * Refused before anything changes: `BAD_REQUEST` for a malformed location or options, a mailbox
   * served already or the reply mailbox; `LIMIT_EXCEEDED` past `dispatcherMailboxesMax`; `SHUTDOWN`
   * once stopped; the kernel's own refusal (`UNREACHABLE`, `PERMISSION_DENIED`) of a mailbox that is
   * not this process's.
   */
  register(location: MailboxLocation, options: RegisterOptions): void {
    if (this.stopped) throw new FosError('SHUTDOWN', 'the dispatcher has stopped: it serves no more mailboxes');
    const registration = checkedRegistration(location, options, this.limits.liveThreadsPerMailboxMax);
    if (this.served.length >= dispatcherMailboxesMax) {
      throw new FosError(
        'LIMIT_EXCEEDED',
        `a dispatcher serves at most dispatcherMailboxesMax (${dispatcherMailboxesMax}) mailboxes`,
        { value: this.served.length },
      );
    }
    const at = registration.location;
    if (
      sameLocation(at, this.replyAddress.location) ||
      this.served.some((mailbox) => sameLocation(mailbox.location, at))
    )
      refuse(`the dispatcher serves ${formatLocation(at)} already`, location);
    // The kernel checks the mailbox is this process's first: a refusal leaves nothing registered.
    this.kernel.onReadable(at, () => this.schedulePump());
    this.served.push({ ...registration, liveThreads: 0, liveThreadsPeak: 0 });
    this.served.sort((left, right) => right.priority - left.priority);
  }

  /**
   * Stops serving a mailbox (before it is destroyed or handed over): no new request of it starts a
   * thread; those running finish. `BAD_REQUEST` when the mailbox is not served.
   */
  unregister(location: MailboxLocation): void {
    const at = checkedLocation(location);
    const index = this.served.findIndex((mailbox) => sameLocation(mailbox.location, at));
    if (index < 0) refuse(`the dispatcher does not serve ${formatLocation(at)}`, location);
    this.served.splice(index, 1);
    this.kernel.onReadable(at, null);
  }

  /**
   * Runs `body` in a new thread (a process's main line of work, say); resolves with what it returns.
   * Rejects with `BAD_REQUEST` for a name that is not a string or a body that is not a function, and
   * with `SHUTDOWN` once the dispatcher has stopped (no thread would ever run).
   */
  spawnThread<T>(name: string, body: (thread: Thread) => Promise<T>): Promise<T> {
    try {
      if (typeof name !== 'string') refuse(`a thread's name ${describeValue(name)} is not a string`, name);
      checkFunction(body, "a thread's body");
      if (this.stopped)
        throw new FosError('SHUTDOWN', `the dispatcher has stopped: thread ${describeValue(name)} would never run`);
    } catch (error) {
      return rejection(error);
    }
    return new Promise<T>((resolve, reject) => {
      const thread = new ThreadImpl(this, name, undefined, undefined, undefined);
      let outcome: Outcome = { ok: false, error: new Error(`thread ${name} ended without an outcome`) };
      // Settled only once the thread has finished and the dispatcher has let go of it, so code that
      // awaits the result never runs while the thread still counts as the current one.
      thread.onFinished = () => (outcome.ok ? resolve(outcome.value as T) : reject(outcome.error));
      this.threadsLive++;
      this.ready.push({
        thread,
        start: async () => {
          try {
            outcome = { ok: true, value: await body(thread) };
          } catch (error) {
            outcome = { ok: false, error: asError(error) };
          }
        },
      });
      this.schedulePump();
    });
  }

  /** Where replies to this process's requests go (carried in every request). */
  get replyAddress(): ReplyAddress {
    return this.reply;
  }

  /** Names the reply mailbox (its canonical alias, once libfos has registered one): later requests carry it. `BAD_REQUEST` for a name that is not a string of 1 to 255 characters. */
  setReplyName(name: string): void {
    this.reply = { ...this.reply, name: checkAddressName(name, 'a reply name', false) };
  }

  /** Creates a condition variable for the threads of this dispatcher. */
  createCondition(): Condition {
    return newCondition();
  }

  /**
   * The thread whose code calls this, if any (code between two dispatcher operations always runs in
   * one). Code outside every thread of this dispatcher gets undefined, even when it runs in the
   * microtask gaps of a running thread: the running thread is tracked along its own awaits.
   */
  get currentThread(): Thread | undefined {
    const current = this.current;
    return current !== undefined && current.state === 'running' && threadScope.getStore() === current
      ? current
      : undefined;
  }

  /**
   * Runs `body` now, synchronously, as code outside every thread: a handler that calls back into
   * application code (a socket's `'data'` listeners, say) runs it this way, so that what that code
   * starts (a libfos call) runs in threads of its own instead of parking the handler's thread.
   */
  outsideThreads<T>(body: () => T): T {
    return threadScope.exit(body);
  }

  /** Resolves once every thread is parked (or done) and no message is ready to be handled. */
  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Counters for tests and operators. */
  stats(): DispatcherStats {
    return {
      threadsLive: this.threadsLive,
      ...this.counters,
      mailboxes: this.served.map((mailbox) => ({
        location: mailbox.location,
        liveThreads: mailbox.liveThreads,
        liveThreadsPeak: mailbox.liveThreadsPeak,
      })),
    };
  }

  /**
   * Holds the dispatcher: no thread runs and no message is taken until {@link resume}; messages wait
   * in their mailboxes (a host or a test arranges what is ready, then resumes).
   */
  pause(): void {
    this.paused = true;
  }

  /** Ends a {@link pause}. */
  resume(): void {
    this.paused = false;
    this.schedulePump();
  }

  /**
   * Stops taking messages for good; parked threads stay parked, and their timers are cancelled (a
   * stopped process keeps no timer that would hold its host's event loop open).
   */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const timer of this.timers) timer.cancel();
    this.timers.clear();
    for (const location of [this.replyAddress.location, ...this.served.map((mailbox) => mailbox.location)]) {
      try {
        this.kernel.onReadable(location, null);
      } catch {
        // The mailbox is gone with its process (or its kernel shut down): no callback is left to unhook.
      }
    }
  }

  /** @internal A timer of the clock, cancelled by {@link stop}; none is started once stopped. */
  setTimer(delayMs: number, callback: () => void): { cancel(): void } {
    if (this.stopped) return { cancel: () => undefined };
    const timer = this.clock.setTimer(delayMs, () => {
      this.timers.delete(handle);
      callback();
    });
    const handle = {
      cancel: () => {
        this.timers.delete(handle);
        timer.cancel();
      },
    };
    this.timers.add(handle);
    return handle;
  }

  // ---- the pump ------------------------------------------------------------------------------------

  /** @internal Queues a parked thread to be woken with `outcome`. */
  makeReady(thread: ThreadImpl, outcome: Outcome): void {
    this.ready.push({ thread, outcome });
    this.schedulePump();
  }

  private schedulePump(): void {
    if (this.pumping || this.stopped || this.paused) return;
    this.pumping = true;
    void this.pump().catch((error: unknown) => this.crash(error));
  }

  private async pump(): Promise<void> {
    try {
      for (;;) {
        if (this.stopped || this.paused) return;
        const entry = this.ready.shift();
        if (entry !== undefined) {
          await this.run(entry);
          continue;
        }
        if (this.takeReply()) continue;
        if (this.takeRequest()) continue;
        break;
      }
    } finally {
      this.pumping = false;
    }
    if (this.isIdle()) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** Runs one thread until it parks or finishes (§5.3: nothing else of the process runs meanwhile). */
  private async run(entry: ReadyEntry): Promise<void> {
    const thread = entry.thread;
    const parked = deferred();
    thread.beginRun(parked.resolve);
    this.current = thread;
    this.armWatchdog();
    if (entry.start !== undefined) {
      const start = entry.start;
      threadScope.run(thread, start).then(
        () => thread.finish(),
        (error: unknown) => {
          thread.finish();
          this.crash(error);
        },
      );
    } else {
      assert(entry.outcome !== undefined, 'a ready entry starts or wakes a thread');
      thread.wake(entry.outcome);
    }
    if (!parkWaitSkipped.has(this)) await parked.promise;
    if (this.current === thread) this.current = undefined;
    if (thread.state === 'finished') thread.onFinished?.();
  }

  /**
   * Once per macrotask turn, checks that no woken thread is still running: every microtask has run by
   * then, so a thread that has neither parked nor finished awaits something that is not a dispatcher
   * operation, and would stall the process. One check serves every thread run in that turn.
   */
  private armWatchdog(): void {
    if (this.watchdogArmed) return;
    this.watchdogArmed = true;
    void nextTurn().then(() => {
      this.watchdogArmed = false;
      const thread = this.current;
      if (thread !== undefined && thread.state === 'running' && !this.stopped) {
        this.crash(
          new AssertionError(
            `thread ${thread.name} was woken and stopped without parking in a dispatcher operation (await only call, callAll, send, respond, respondAndAwait, sleep, wait or waitFor)`,
          ),
        );
      }
    });
  }

  private takeReply(): boolean {
    const message = this.kernel.tryReceive(this.replyAddress.location);
    if (message === undefined) return false;
    const envelope = parseReply(message.body);
    if (envelope === undefined) {
      this.counters.envelopesMalformed++;
      return true;
    }
    if (envelope.fos === 'response') {
      const pending = this.pendingCalls.get(envelope.token);
      if (pending === undefined) {
        this.counters.responsesLate++;
        return true;
      }
      this.pendingCalls.delete(envelope.token);
      pending.settle(responseOutcome(this, pending.thread, envelope));
      return true;
    }
    const pending = this.pendingFollowUps.get(envelope.token);
    if (pending === undefined) {
      this.counters.followUpsDropped++;
      return true;
    }
    this.pendingFollowUps.delete(envelope.token);
    pending.settle({ ok: true, value: envelope.body });
    return true;
  }

  private takeRequest(): boolean {
    for (const mailbox of this.served) {
      if (mailbox.liveThreads >= mailbox.liveThreadsMax) continue;
      const message = this.kernel.tryReceive(mailbox.location);
      if (message === undefined) continue;
      this.startRequestThread(mailbox, message);
      return true;
    }
    return false;
  }

  private startRequestThread(mailbox: ServedMailbox, message: ReceivedMessage): void {
    const envelope = parseInbound(message.body);
    if (envelope === undefined) {
      this.counters.envelopesMalformed++;
      this.log(
        `dispatcher: dropped a malformed message to ${message.destinationName ?? 'an unnamed mailbox'} from ${message.sender.process}`,
      );
      return;
    }
    const request = envelope.fos === 'request' ? envelope : undefined;
    const deadlineMs =
      request !== undefined && request.budget !== 'none' ? message.enqueuedAtMs + request.budget : undefined;
    if (deadlineMs !== undefined && deadlineMs <= this.clock.now()) {
      this.counters.requestsExpired++;
      return;
    }
    const incoming: IncomingRequest = {
      body: envelope.body,
      sender: message.sender,
      destinationName: message.destinationName,
      expectsReply: request !== undefined,
      deadlineMs,
    };
    const thread = new ThreadImpl(
      this,
      `${request ? `request#${request.token}` : 'message'} on ${message.destinationName ?? 'mailbox'}`,
      deadlineMs,
      request,
      incoming,
    );
    mailbox.liveThreads++;
    mailbox.liveThreadsPeak = Math.max(mailbox.liveThreadsPeak, mailbox.liveThreads);
    this.threadsLive++;
    this.counters.requestsHandled++;
    this.ready.push({
      thread,
      start: async () => {
        try {
          await this.handle(mailbox, incoming, thread);
        } finally {
          mailbox.liveThreads--;
        }
      },
    });
  }

  private async handle(mailbox: ServedMailbox, incoming: IncomingRequest, thread: ThreadImpl): Promise<void> {
    let result: MessageBody | void;
    try {
      result = await mailbox.handler(incoming, thread);
    } catch (error) {
      if (!isFosError(error)) throw error;
      if (incoming.expectsReply && !thread.responded)
        await thread.respondWith({ ok: false, error: { code: error.code, message: error.message } });
      return;
    }
    if (incoming.expectsReply && !thread.responded) await thread.respond(result ?? null);
  }

  private isIdle(): boolean {
    if (this.stopped) return true;
    if (this.pumping || this.ready.length > 0) return false;
    if (this.kernel.pendingMessages(this.replyAddress.location) > 0) return false;
    return this.served.every(
      (mailbox) => mailbox.liveThreads >= mailbox.liveThreadsMax || this.kernel.pendingMessages(mailbox.location) === 0,
    );
  }

  // ---- operations on behalf of threads ------------------------------------------------------------------

  /** @internal */
  threadFinished(): void {
    this.threadsLive--;
  }

  /** @internal A new token for a call or a follow-up wait. */
  registerPending(kind: 'call' | 'followUp', pending: PendingCall): number {
    if (this.pendingCalls.size + this.pendingFollowUps.size >= this.limits.pendingOperationsMax) {
      throw new FosError(
        'LIMIT_EXCEEDED',
        `a process may have pendingOperationsMax (${this.limits.pendingOperationsMax}) calls and follow-up waits pending`,
        {
          value: this.pendingCalls.size + this.pendingFollowUps.size,
        },
      );
    }
    const token = this.nextToken++;
    (kind === 'call' ? this.pendingCalls : this.pendingFollowUps).set(token, pending);
    return token;
  }

  /** @internal Forgets a pending token (timed out or failed); true if it was still pending. */
  dropPending(kind: 'call' | 'followUp', token: number): boolean {
    return (kind === 'call' ? this.pendingCalls : this.pendingFollowUps).delete(token);
  }

  /** @internal How long an operation may wait: its own timeout, never past the thread's deadline. */
  timeoutFor(thread: ThreadImpl, options: CallOptions): number | 'none' {
    if (options.deadline === 'none') return 'none';
    const own = options.timeoutMs ?? this.limits.callTimeoutMsDefault;
    if (!Number.isFinite(own) || own < 0 || own > callTimeoutMsMax) {
      throw new FosError('BAD_REQUEST', `timeoutMs ${own} is outside 0..callTimeoutMsMax (${callTimeoutMsMax})`, {
        value: own,
      });
    }
    return thread.deadlineMs === undefined ? own : Math.min(own, Math.max(0, thread.deadlineMs - this.clock.now()));
  }

  /** @internal */
  replyUndeliverable(thread: ThreadImpl, error: unknown): void {
    this.counters.repliesUndeliverable++;
    this.log(
      `dispatcher: the reply of ${thread.name} could not be delivered: ${error instanceof Error ? error.message : String(error)}`,
    );
  }

  /** @internal */
  followUpDropped(): void {
    this.counters.followUpsDropped++;
  }
}
