import type { Clock, RandomSource } from '@fos/sim';
import { assert } from './assert.js';
import { hashCapability, mintCapability, validateCapability, type Capability } from './capability.js';
import { decodeBody, encodeBody, encodeBodyTransient, type MessageBody } from './codec.js';
import { deserializeFosError, FosError, isFosError, serializeFosError } from './errors.js';
import type { Fabric, FabricPort, KernelMessage } from './fabric.js';
import type {
  ChannelReader,
  ChannelWriter,
  Mailbox,
  ProcessExit,
  ProcessRecord,
  QueuedMessage,
  SendStream,
} from './internal/tables.js';
import { receiversPerMailboxMax, nameServersPerMachineMax, uncheckedPermitsPerPairMax, type KernelLimits } from './limits.js';
import { standaloneBytes } from './internal/bytes.js';
import { formatLocation, validateLocation, type MailboxLocation, type SenderIdentity } from './location.js';
import { nameServiceName, validateMailboxName, validateName } from './names.js';
import { ChannelRing, type ChannelCloseReason, type RingWriteResult } from './ring.js';

/** A message as its receiver gets it: a fresh copy of the body and the kernel's stamps. */
export interface ReceivedMessage {
  readonly body: MessageBody;
  /** The sending process and its core, stamped by the kernel. */
  readonly sender: SenderIdentity;
  /** The intended name the sender used; null for an unchecked send. */
  readonly destinationName: string | null;
  /** When the owning kernel enqueued it (the machine clock, in ms). */
  readonly enqueuedAtMs: number;
  /** Which path brought it. */
  readonly via: 'kernel' | 'channel' | 'unchecked';
}

/** A new mailbox: where it is and its first send capability. */
export type CreatedMailbox = {
  readonly location: MailboxLocation;
  readonly capability: Capability;
};

/** A name server as `ukNameServiceLookup` returns it. */
export type NameServerEntry = {
  readonly location: MailboxLocation;
  readonly capability: Capability;
};

/** What `moveMailbox` did. */
export type MovedMailbox = {
  /** The successor mailbox, which now holds the old one's queue, names and capabilities. */
  readonly location: MailboxLocation;
  /** Queued messages handed over. */
  readonly messages: number;
  /** The valid names handed over. */
  readonly names: string[];
};

/** Options of `ukSend`. */
export interface SendOptions {
  /** Re-send of a refused message: the `details.sequence` of its refusal. It fills the gap the refusal left. */
  readonly resendOf?: number;
}

/** Where a kernel writes what it must tell an operator (a crashed process, say). */
export type KernelLog = (line: string) => void;

/** What a kernel is made of. */
export interface KernelOptions {
  readonly machine: string;
  readonly core: number;
  readonly fabric: Fabric;
  readonly limits: KernelLimits;
  readonly kernelCapabilityHash: string;
  readonly log: KernelLog;
  /**
   * Where the kernel also publishes its counters (processes, mailboxes, delivered, refused), for a
   * reader in another thread: the kernel of a worker core writes them, the machine reads them.
   */
  readonly statsCells?: Float64Array;
}

interface PendingRequest {
  readonly toCore: number;
  readonly resolve: (message: Extract<KernelMessage, { kind: 'result' }>) => void;
  readonly reject: (error: FosError) => void;
}

/** Counters a kernel keeps. */
export interface KernelStats {
  readonly processes: number;
  readonly mailboxes: number;
  readonly delivered: number;
  readonly refused: number;
}

/**
 * The microkernel of one core (thesis §2.1, §4.2.1, §4.2.4, §5.2; Table 4.5). It owns the mailboxes of
 * its core and checks name and capability on every delivery into them; everything it asks of another
 * core goes through the fabric. Processes reach it through their {@link SystemCalls}.
 */
export class Kernel {
  readonly machine: string;
  readonly core: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly limits: KernelLimits;
  private readonly coreCount: number;
  private readonly port: FabricPort;
  private readonly kernelCapabilityHash: string;
  private readonly log: KernelLog;
  private readonly statsCells: Float64Array | undefined;
  private readonly mailboxes = new Map<number, Mailbox>();
  private readonly processes = new Map<string, ProcessRecord>();
  private readonly sendStreams = new Map<string, SendStream>();
  /** The mailboxes of this core that have channels into them (what a doorbell makes this kernel poll). */
  private readonly channelMailboxes = new Set<Mailbox>();
  private readonly writers = new Map<string, ChannelWriter>();
  private readonly pending = new Map<number, PendingRequest>();
  /** Unchecked replies a name server may still send a process of this core: `nameServer>process` → count. */
  private readonly uncheckedPermits = new Map<string, number>();
  private nameServers: NameServerEntry[] = [];
  /** Cores whose kernel is gone (a worker thread that died). */
  private readonly lostCores = new Set<number>();
  private nextMailboxId = 1;
  private nextProcessNumber = 1;
  private nextRequestId = 1;
  private nextChannelNumber = 1;
  private delivered = 0;
  private refused = 0;
  private shutDown = false;

  constructor(options: KernelOptions) {
    this.machine = options.machine;
    this.core = options.core;
    this.clock = options.fabric.clock;
    this.random = options.fabric.random;
    this.limits = options.limits;
    this.coreCount = options.fabric.coreCount;
    this.kernelCapabilityHash = options.kernelCapabilityHash;
    this.log = options.log;
    this.statsCells = options.statsCells;
    this.port = options.fabric.connect(
      this.core,
      (message) => this.onMessage(message),
      (lost) => this.coreLost(lost),
    );
  }

  /** Counters for summaries and tests. */
  stats(): KernelStats {
    return { processes: this.processes.size, mailboxes: this.mailboxes.size, delivered: this.delivered, refused: this.refused };
  }

  /** Copies the counters to `statsCells`, when another thread reads them there. */
  private publishStats(): void {
    const cells = this.statsCells;
    if (cells === undefined) return;
    cells[0] = this.processes.size;
    cells[1] = this.mailboxes.size;
    cells[2] = this.delivered;
    cells[3] = this.refused;
  }

  // ---- processes -------------------------------------------------------------------------------

  /** Registers a new process on this core. */
  createProcess(name: string): ProcessRecord {
    this.checkRunning();
    if (this.processes.size >= this.limits.processesPerCoreMax) {
      throw new FosError('LIMIT_EXCEEDED', `core ${this.core} already hosts processesPerCoreMax (${this.limits.processesPerCoreMax}) processes`, {
        value: this.processes.size,
      });
    }
    const id = `${this.machine}.${this.core}.${this.nextProcessNumber++}`;
    const record: ProcessRecord = {
      id,
      name,
      mailboxes: new Set(),
      channels: new Set(),
      state: 'running',
      unacknowledgedSends: 0,
      exitWaiters: [],
      exit: undefined,
    };
    this.processes.set(id, record);
    this.publishStats();
    return record;
  }

  /** Ends a process: destroys its mailboxes, closes its channels, tells the other kernels. */
  endProcess(record: ProcessRecord, outcome: { crashed: boolean; error?: unknown }): void {
    if (record.state !== 'running') return;
    record.state = outcome.crashed ? 'crashed' : 'exited';
    if (outcome.crashed) {
      const reason = outcome.error instanceof Error ? (outcome.error.stack ?? outcome.error.message) : String(outcome.error);
      this.log(`fos: process ${record.name} (${record.id}) on core ${this.core} crashed: ${reason}`);
    }
    for (const mailboxId of [...record.mailboxes]) {
      const mailbox = this.mailboxes.get(mailboxId);
      if (mailbox) this.removeMailbox(mailbox);
    }
    for (const channelId of [...record.channels]) {
      const writer = this.writers.get(channelId);
      if (writer) this.closeChannelWriter(writer);
    }
    for (const key of [...this.sendStreams.keys()]) if (key.startsWith(`${record.id}>`)) this.sendStreams.delete(key);
    this.processes.delete(record.id);
    this.publishStats();
    if (!this.shutDown) for (let core = 0; core < this.coreCount; core++) this.port.post(core, { kind: 'processEnded', fromCore: this.core, process: record.id });
    const exit: ProcessExit = outcome.crashed ? { process: record.id, crashed: true, error: outcome.error } : { process: record.id, crashed: false };
    record.exit = exit;
    for (const waiter of record.exitWaiters.splice(0)) waiter(exit);
  }

  /** Ends every process and fails every pending request with `SHUTDOWN`. */
  shutdown(): void {
    if (this.shutDown) return;
    this.shutDown = true;
    for (const record of [...this.processes.values()]) this.endProcess(record, { crashed: false });
    for (const [requestId, request] of this.pending) {
      this.pending.delete(requestId);
      request.reject(new FosError('SHUTDOWN', `kernel of core ${this.core} shut down`, { value: this.core }));
    }
  }

  // ---- mailboxes (owner only) --------------------------------------------------------------------

  /** `createMailbox`: a new mailbox of `caller`, with a fresh send capability and no name yet. */
  createMailbox(caller: ProcessRecord, options: { queueMessagesMax?: number } = {}): CreatedMailbox {
    this.checkCaller(caller);
    if (caller.mailboxes.size >= this.limits.mailboxesPerProcessMax) {
      throw new FosError('LIMIT_EXCEEDED', `process ${caller.name} already holds mailboxesPerProcessMax (${this.limits.mailboxesPerProcessMax}) mailboxes`, {
        value: caller.mailboxes.size,
      });
    }
    const queueMessagesMax = options.queueMessagesMax ?? this.limits.queueMessagesMax;
    if (!Number.isInteger(queueMessagesMax) || queueMessagesMax < 1 || queueMessagesMax > this.limits.queueMessagesMax) {
      throw new FosError('BAD_REQUEST', `queueMessagesMax ${queueMessagesMax} is not an integer in 1..${this.limits.queueMessagesMax}`, { value: queueMessagesMax });
    }
    const location: MailboxLocation = { machine: this.machine, core: this.core, mailbox: this.nextMailboxId++ };
    const capability = mintCapability(this.random);
    const mailbox: Mailbox = {
      location,
      owner: caller.id,
      queueMessagesMax,
      queue: [],
      names: new Set(),
      capabilityHashes: new Set([hashCapability(capability)]),
      streams: new Map(),
      channels: new Map(),
      receivers: [],
      readable: undefined,
      taken: 0,
      nameServer: false,
      ringsWaitForRoom: false,
    };
    this.mailboxes.set(location.mailbox, mailbox);
    this.publishStats();
    caller.mailboxes.add(location.mailbox);
    return { location, capability };
  }

  /** `destroyMailbox`: later sends to its location answer `UNREACHABLE`; its channels are shot down. */
  destroyMailbox(caller: ProcessRecord, location: unknown): void {
    this.removeMailbox(this.ownedMailbox(caller, location));
  }

  /** Mints and adds one more send capability to an own mailbox. */
  addCapability(caller: ProcessRecord, location: unknown): Capability {
    const mailbox = this.ownedMailbox(caller, location);
    if (mailbox.capabilityHashes.size >= this.limits.capabilitiesPerMailboxMax) {
      throw new FosError('LIMIT_EXCEEDED', `mailbox ${formatLocation(mailbox.location)} already has capabilitiesPerMailboxMax (${this.limits.capabilitiesPerMailboxMax}) capabilities`, {
        value: mailbox.capabilityHashes.size,
      });
    }
    const capability = mintCapability(this.random);
    mailbox.capabilityHashes.add(hashCapability(capability));
    return capability;
  }

  /** Removes a send capability of an own mailbox and shoots down every channel created under it. */
  removeCapability(caller: ProcessRecord, location: unknown, capability: unknown): void {
    const mailbox = this.ownedMailbox(caller, location);
    const hash = hashCapability(validateCapability(capability));
    if (!mailbox.capabilityHashes.delete(hash)) {
      throw new FosError('PERMISSION_DENIED', `the capability is not valid for mailbox ${formatLocation(mailbox.location)}`, { value: mailbox.location });
    }
    this.shootDown(mailbox, (reader) => reader.capabilityHash === hash, 'revoked');
  }

  /** Adds a valid name to an own mailbox (a direct mapping, thesis §4.3). */
  addName(caller: ProcessRecord, location: unknown, name: unknown): void {
    this.addNameTo(this.ownedMailbox(caller, location), validateMailboxName(name));
  }

  /** Removes a valid name of an own mailbox and shoots down every channel created under it. */
  removeName(caller: ProcessRecord, location: unknown, name: unknown): void {
    this.removeNameFrom(this.ownedMailbox(caller, location), validateName(name));
  }

  /** The valid names of an own mailbox, for inspection. */
  mailboxNames(caller: ProcessRecord, location: unknown): string[] {
    return [...this.ownedMailbox(caller, location).names];
  }

  /**
   * Hands an own mailbox over to a successor's mailbox (DESIGN section 5, migration): the old mailbox
   * closes at once (later sends to it answer `UNREACHABLE`, its receives fail, what its channels held
   * is drained into its queue and the channels are closed), and the successor's kernel receives its
   * queued messages (in order, before anything queued there, with their stamps), its valid names and
   * its send capabilities, so every capability published for the old mailbox is good for the new one.
   * A send capability of the successor's mailbox is the successor's consent. The successor's kernel
   * first checks the consent and its limits without changing anything, so such a refusal leaves the old
   * mailbox as it was; if the successor changes between that check and the move, the old mailbox is
   * restored with its queue and names (not its channels or waiting receives), and the refusal thrown. Per-stream sequence state is not moved: senders start a new
   * stream to the new location.
   */
  async moveMailbox(caller: ProcessRecord, location: unknown, successor: unknown, successorCapability: unknown): Promise<MovedMailbox> {
    const checked = this.ownedMailbox(caller, location);
    const target = this.validateTarget(successor);
    const capability = validateCapability(successorCapability);
    if (formatLocation(target) === formatLocation(checked.location)) throw new FosError('BAD_REQUEST', `a mailbox cannot be moved onto itself (${formatLocation(target)})`, { value: target });
    if (checked.nameServer) throw new FosError('BAD_REQUEST', `mailbox ${formatLocation(checked.location)} is a name server's; unregister it first`, { value: checked.location });
    // A dry run first, so that a refusal (no consent, a limit) leaves the old mailbox as it was.
    await this.request(target.core, (requestId) => ({
      kind: 'moveIn',
      fromCore: this.core,
      requestId,
      location: target,
      capability,
      messages: [],
      names: [...checked.names],
      capabilityHashes: [...checked.capabilityHashes],
      check: true,
    }));
    const mailbox = this.ownedMailbox(caller, location);
    for (const reader of [...mailbox.channels.values()]) {
      reader.cutoff ??= reader.ring.close('destroyed');
      for (let bytes = reader.ring.readNext(reader.cutoff); bytes !== undefined; bytes = reader.ring.readNext(reader.cutoff)) {
        mailbox.queue.push({ bytes, sender: reader.sender, destinationName: reader.destinationName, enqueuedAtMs: this.clock.now(), via: 'channel' });
      }
    }
    const messages = mailbox.queue.splice(0);
    const names = [...mailbox.names];
    const capabilityHashes = [...mailbox.capabilityHashes];
    this.removeMailbox(mailbox);
    try {
      // Ring copies may be slab pieces: each message travels as bytes of its own.
      const moving = messages.map((message) => ({ ...message, bytes: standaloneBytes(message.bytes) }));
      await this.request(target.core, (requestId) => ({ kind: 'moveIn', fromCore: this.core, requestId, location: target, capability, messages: moving, names, capabilityHashes }));
    } catch (error) {
      if (caller.state === 'running' && !this.shutDown) {
        // The successor changed since the dry run (its mailbox went away, a limit filled up): restore
        // the old mailbox (its channels and waiting receives are gone, the rest is as it was).
        this.mailboxes.set(mailbox.location.mailbox, mailbox);
        this.publishStats();
        caller.mailboxes.add(mailbox.location.mailbox);
        mailbox.queue.push(...messages);
        if (mailbox.queue.length > 0) mailbox.readable?.();
      }
      throw error;
    }
    return { location: target, messages: messages.length, names };
  }

  // ---- receiving -----------------------------------------------------------------------------------

  /** Messages waiting in an own mailbox's queue (a poll, for schedulers such as the dispatcher). */
  pendingMessages(caller: ProcessRecord, location: unknown): number {
    return this.ownedMailbox(caller, location).queue.length;
  }

  /** `tryReceive`: the next message of an own mailbox, or undefined when its queue is empty. */
  tryReceive(caller: ProcessRecord, location: unknown): ReceivedMessage | undefined {
    const mailbox = this.ownedMailbox(caller, location);
    const queued = mailbox.queue.shift();
    if (queued === undefined) return undefined;
    mailbox.taken++;
    this.afterDequeue(mailbox);
    return toReceived(queued);
  }

  /** `receive`: resolves with the next message of an own mailbox, waiting for one if needed. */
  receive(caller: ProcessRecord, location: unknown): Promise<ReceivedMessage> {
    const mailbox = this.ownedMailbox(caller, location);
    const queued = mailbox.queue.shift();
    if (queued !== undefined) {
      mailbox.taken++;
      this.afterDequeue(mailbox);
      return Promise.resolve(toReceived(queued));
    }
    if (mailbox.receivers.length >= receiversPerMailboxMax) {
      return Promise.reject(
        new FosError('LIMIT_EXCEEDED', `mailbox ${formatLocation(mailbox.location)} already has receiversPerMailboxMax (${receiversPerMailboxMax}) receives waiting`, {
          value: mailbox.location,
        }),
      );
    }
    return new Promise((resolve, reject) => mailbox.receivers.push({ deliver: (message) => resolve(toReceived(message)), fail: reject }));
  }

  /**
   * Sets (or clears, with null) the callback the kernel invokes when an own mailbox has messages.
   * It runs in a microtask after an arrival (and at once if messages wait), never while its previous
   * (async) run is still going, and again after a run that took messages while some remain; a run
   * that took none waits for the next arrival. One that throws or rejects crashes the process.
   */
  onReadable(caller: ProcessRecord, location: unknown, callback: (() => void | Promise<void>) | null): void {
    const mailbox = this.ownedMailbox(caller, location);
    if (callback === null) {
      mailbox.readable = undefined;
      return;
    }
    // One run at a time: while an async run is still going, arrivals only mark the mailbox. After a
    // run, the callback runs again if messages wait and the run took some (or more arrived meanwhile);
    // a run that took none waits for the next arrival, so an owner that leaves its queue unread (a
    // paused dispatcher) is not called in a loop.
    let scheduled = false;
    let running = false;
    let arrivedWhileRunning = false;
    const run = (): void => {
      scheduled = false;
      if (caller.state !== 'running' || mailbox.readable !== readable || mailbox.queue.length === 0) return;
      running = true;
      arrivedWhileRunning = false;
      const takenBefore = mailbox.taken;
      this.invokeCallback(caller, callback, () => {
        running = false;
        if (mailbox.queue.length > 0 && (arrivedWhileRunning || mailbox.taken > takenBefore)) readable();
      });
    };
    const readable = (): void => {
      if (running) {
        arrivedWhileRunning = true;
        return;
      }
      if (scheduled) return;
      scheduled = true;
      queueMicrotask(run);
    };
    mailbox.readable = readable;
    if (mailbox.queue.length > 0) readable();
  }

  /** Runs a process's callback; a throw or a rejection crashes that process alone. */
  invokeCallback(caller: ProcessRecord, callback: () => void | Promise<void>, settled?: () => void): void {
    try {
      const result = callback();
      if (result instanceof Promise) {
        result.then(settled, (error: unknown) => this.endProcess(caller, { crashed: true, error }));
        return;
      }
    } catch (error) {
      this.endProcess(caller, { crashed: true, error });
      return;
    }
    settled?.();
  }

  // ---- sending ---------------------------------------------------------------------------------------

  /**
   * `ukSend` (thesis §4.2.4): delivers `body` into the mailbox at `location` if `capability` is a valid
   * send capability of it and `destinationName` a valid name of it, checked by the kernel that owns
   * it. Resolves once the message is in the destination's queue. Messages of one stream (this process
   * → that mailbox) are accepted only in sequence: a refusal leaves a gap that only its re-send
   * (`resendOf`) or `abandonSend` fills, so pipelined sends never reorder.
   */
  async ukSend(caller: ProcessRecord, destinationName: unknown, location: unknown, capability: unknown, body: unknown, options: SendOptions = {}): Promise<void> {
    this.checkCaller(caller);
    const name = validateName(destinationName);
    const target = this.validateTarget(location);
    const sendCapability = validateCapability(capability);
    const bytes = encodeBody(body, this.limits.messageBytesMax);
    const stream = this.sendStream(caller, target);
    const sequence = this.takeSequence(caller, stream, options.resendOf);
    const wait = this.acquirePath(stream, 'kernel');
    if (wait !== undefined) await wait;
    stream.outstanding++;
    caller.unacknowledgedSends++;
    let answer: Promise<Extract<KernelMessage, { kind: 'result' }>>;
    try {
      answer = this.request(
        target.core,
        (requestId) => ({ kind: 'deliver', fromCore: this.core, requestId, sender: this.identity(caller), location: target, destinationName: name, capability: sendCapability, sequence, bytes }),
        `${caller.id}>${target.core}/${target.mailbox}`,
      );
    } finally {
      this.releasePath(stream);
    }
    try {
      const result = await answer;
      if (result.nameServerProcess !== undefined) this.grantUncheckedPermit(result.nameServerProcess, caller.id);
    } catch (error) {
      if (isFosError(error) && error.code !== 'SHUTDOWN') {
        stream.refused.add(sequence);
        throw new FosError(error.code, stripCode(error), { value: error.value ?? target, details: { sequence }, cause: error });
      }
      throw error;
    } finally {
      stream.outstanding--;
      caller.unacknowledgedSends--;
      if (stream.outstanding === 0) for (const wake of stream.idleWaiters.splice(0)) wake();
    }
  }

  /** Gives up a refused send for good: the stream moves past its sequence number. */
  abandonSend(caller: ProcessRecord, location: unknown, sequence: number): void {
    this.checkCaller(caller);
    const target = this.validateTarget(location);
    const stream = this.sendStream(caller, target);
    if (!stream.refused.delete(sequence)) {
      throw new FosError('BAD_REQUEST', `sequence ${sequence} is not a refused send to ${formatLocation(target)}`, { value: sequence });
    }
    this.port.post(target.core, { kind: 'skip', fromCore: this.core, sender: this.identity(caller), location: target, sequence }, `${caller.id}>${target.core}/${target.mailbox}`);
  }

  /**
   * `ukUncheckedSend` (§5.2): a name server's reply to a process whose mailbox has no name yet. Needs
   * the kernel capability, and is allowed only while the receiving process has an unanswered message
   * delivered to a mailbox of the calling name server (each such delivery permits one).
   */
  async ukUncheckedSend(caller: ProcessRecord, kernelCapability: unknown, location: unknown, body: unknown): Promise<void> {
    this.checkCaller(caller);
    const capability = validateCapability(kernelCapability);
    this.checkKernelCapability(capability);
    const target = this.validateTarget(location);
    const bytes = encodeBody(body, this.limits.messageBytesMax);
    // One stream per pair of cores: it keeps the reply behind the result that granted the permit.
    await this.request(target.core, (requestId) => ({
      kind: 'deliver',
      fromCore: this.core,
      requestId,
      sender: this.identity(caller),
      location: target,
      destinationName: null,
      capability,
      sequence: -1,
      bytes,
    }));
  }

  // ---- Table 4.5 and the name-server registry -------------------------------------------------------

  /** `ukAddAlias` (Table 4.5): adds a valid name to any mailbox of the machine; kernel capability only. */
  async ukAddAlias(kernelCapability: unknown, location: unknown, name: unknown): Promise<void> {
    await this.aliasRequest('add', kernelCapability, location, validateMailboxName(name));
  }

  /** `ukRemoveAlias` (Table 4.5): removes a valid name from any mailbox; shoots down its channels. */
  async ukRemoveAlias(kernelCapability: unknown, location: unknown, name: unknown): Promise<void> {
    await this.aliasRequest('remove', kernelCapability, location, validateName(name));
  }

  /** `ukNameServiceRegister` (§5.2): makes an own mailbox a name server of the machine. */
  async ukNameServiceRegister(caller: ProcessRecord, location: unknown, kernelCapability: unknown, sendCapability: unknown): Promise<void> {
    this.checkKernelCapability(validateCapability(kernelCapability));
    const mailbox = this.ownedMailbox(caller, location);
    const capability = validateCapability(sendCapability);
    if (!mailbox.capabilityHashes.has(hashCapability(capability))) {
      throw new FosError('PERMISSION_DENIED', `the send capability is not valid for mailbox ${formatLocation(mailbox.location)}`, { value: mailbox.location });
    }
    if (this.nameServers.length >= nameServersPerMachineMax) {
      throw new FosError('LIMIT_EXCEEDED', `machine ${this.machine} already has nameServersPerMachineMax (${nameServersPerMachineMax}) name servers`, {
        value: this.nameServers.length,
      });
    }
    mailbox.nameServer = true;
    await this.broadcastNameServer('register', mailbox.location, capability);
  }

  /**
   * `ukNameServiceUnregister` (§5.2): the mailbox is no longer a name server of the machine; channels
   * into it under /sys/name are shot down.
   */
  async ukNameServiceUnregister(caller: ProcessRecord, location: unknown, kernelCapability: unknown): Promise<void> {
    this.checkKernelCapability(validateCapability(kernelCapability));
    const mailbox = this.ownedMailbox(caller, location);
    if (!mailbox.nameServer) throw new FosError('NO_SUCH_NAME', `mailbox ${formatLocation(mailbox.location)} is not a name server`, { value: mailbox.location });
    mailbox.nameServer = false;
    // Channels made under /sys/name were good for a name server only: shoot them down (what they hold
    // is still delivered), so their writers meet the change and find another member.
    this.shootDown(mailbox, (reader) => reader.destinationName === nameServiceName, 'revoked');
    await this.broadcastNameServer('unregister', mailbox.location, null);
  }

  /** `ukNameServiceLookup` (§5.2): a name server of this machine, preferring one on this core. */
  ukNameServiceLookup(): NameServerEntry {
    this.checkRunning();
    if (this.nameServers.length === 0) throw new FosError('NO_SUCH_NAME', `no name server is registered on machine ${this.machine}`, { value: this.machine });
    const local = this.nameServers.filter((entry) => entry.location.core === this.core);
    const candidates = local.length > 0 ? local : this.nameServers;
    const chosen = candidates[this.random.nextInt(candidates.length)];
    assert(chosen !== undefined, 'a candidate name server exists');
    return chosen;
  }

  // ---- user-space channels ------------------------------------------------------------------------------

  /**
   * Creates a user-space channel to a mailbox (thesis §2.2, §4.2.4) under an intended name and a
   * capability, with the checks of `ukSend`. One channel per stream; removing the name or the capability
   * from the mailbox shoots it down.
   */
  async createChannel(caller: ProcessRecord, destinationName: unknown, location: unknown, capability: unknown): Promise<ChannelWriter> {
    this.checkCaller(caller);
    const name = validateName(destinationName);
    const target = this.validateTarget(location);
    const sendCapability = validateCapability(capability);
    const stream = this.sendStream(caller, target);
    if (stream.channel !== undefined) {
      throw new FosError('NAME_EXISTS', `process ${caller.name} already has a channel to ${formatLocation(target)}; close it first`, { value: target });
    }
    const ring = ChannelRing.create(this.limits.channelRingBytes);
    const channelId = `${this.core}.${this.nextChannelNumber++}`;
    await this.request(target.core, (requestId) => ({
      kind: 'channelOpen',
      fromCore: this.core,
      requestId,
      channelId,
      sender: this.identity(caller),
      destinationName: name,
      location: target,
      capability: sendCapability,
      ring: ring.buffer,
    }));
    if (stream.channel !== undefined || caller.state !== 'running') {
      this.port.post(target.core, { kind: 'channelClose', fromCore: this.core, channelId, location: target });
      throw new FosError('NAME_EXISTS', `process ${caller.name} opened another channel to ${formatLocation(target)} meanwhile`, { value: target });
    }
    const writer: ChannelWriter = { channelId, ring, location: target, destinationName: name, capability: sendCapability, process: caller.id, stream, drainWaiters: [], closed: false };
    stream.channel = writer;
    caller.channels.add(channelId);
    this.writers.set(channelId, writer);
    return writer;
  }

  /**
   * Writes one message into a channel, whole or not at all: `WOULD_BLOCK` when the ring is full,
   * `PERMISSION_DENIED` once shot down (the sender recovers through the name service), `UNREACHABLE`
   * once the mailbox is gone. Waits first until this stream's kernel-path sends are answered.
   */
  async channelSend(caller: ProcessRecord, writer: ChannelWriter, body: unknown): Promise<void> {
    this.checkCaller(caller);
    if (writer.closed) throw closedChannelError(writer, writer.ring.closeReason ?? 'closed');
    // Encoded into the codec's buffer and copied straight into the ring (no copy of its own), unless
    // this send must wait for the path first: then other encodes may run meanwhile.
    let bytes = encodeBodyTransient(body, Math.min(this.limits.messageBytesMax, ChannelRing.messageBytesMaxFor(writer.ring.capacityBytes)));
    const stream = writer.stream;
    if (stream.refused.size > 0) {
      throw new FosError('WOULD_BLOCK', `the stream to ${formatLocation(writer.location)} has refused sends (${[...stream.refused].join(', ')}); re-send or abandon them first`, {
        value: writer.location,
      });
    }
    const wait = this.acquirePath(stream, 'channel');
    if (wait !== undefined) {
      bytes = new Uint8Array(bytes); // a copy (the codec's buffer is a Node Buffer, whose slice is a view)
      await wait;
    }
    let result: RingWriteResult;
    try {
      result = writer.ring.tryWrite(bytes);
    } finally {
      this.releasePath(stream);
    }
    if (result.kind === 'full') {
      throw new FosError('WOULD_BLOCK', `channel to ${writer.destinationName} (${formatLocation(writer.location)}) is full`, { value: writer.location });
    }
    if (result.kind === 'closed') {
      this.closeChannelWriter(writer);
      throw closedChannelError(writer, result.reason);
    }
    if (this.port.ringDoorbell !== undefined) this.port.ringDoorbell(writer.location.core);
    else if (result.doorbell) this.port.post(writer.location.core, { kind: 'doorbell', fromCore: this.core, channelId: writer.channelId, location: writer.location });
  }

  /**
   * Copies what every channel into this core's mailboxes holds into their queues (what a worker core
   * does when its doorbell rings). Returns how many messages it moved.
   */
  pollChannels(): number {
    let moved = 0;
    for (const mailbox of this.channelMailboxes) {
      for (const reader of [...mailbox.channels.values()]) moved += this.drainChannel(mailbox, reader);
    }
    return moved;
  }

  /**
   * The kernel of `core` is gone (its worker thread died or ended): requests waiting on it fail with
   * `UNREACHABLE`, and so does everything later sent there; its name servers are forgotten and the
   * channels into it are closed. What that core's processes wrote into rings here is still delivered.
   */
  coreLost(core: number): void {
    if (core === this.core || this.lostCores.has(core)) return;
    this.lostCores.add(core);
    for (const [requestId, request] of this.pending) {
      if (request.toCore !== core) continue;
      this.pending.delete(requestId);
      request.reject(lostCoreError(core));
    }
    this.nameServers = this.nameServers.filter((entry) => entry.location.core !== core);
    for (const writer of [...this.writers.values()]) {
      if (writer.location.core !== core) continue;
      writer.ring.close('destroyed');
      this.closeChannelWriter(writer);
    }
  }

  /** Closes a channel from the writer's side; what was written is still delivered. */
  closeChannelWriter(writer: ChannelWriter): void {
    if (!writer.closed) {
      writer.closed = true;
      if (!this.shutDown) this.port.post(writer.location.core, { kind: 'channelClose', fromCore: this.core, channelId: writer.channelId, location: writer.location });
    }
    this.writers.delete(writer.channelId);
    this.processes.get(writer.process)?.channels.delete(writer.channelId);
    if (writer.stream.channel === writer) writer.stream.channel = undefined;
    for (const wake of writer.drainWaiters.splice(0)) wake();
  }

  // ---- the fabric side -------------------------------------------------------------------------------------

  private onMessage(message: KernelMessage): void {
    if (this.shutDown) return;
    switch (message.kind) {
      case 'deliver':
        this.respond(message.fromCore, message.requestId, () => this.acceptDelivery(message));
        return;
      case 'moveIn':
        this.respond(message.fromCore, message.requestId, () => this.acceptMove(message));
        return;
      case 'skip':
        this.acceptSkip(message.location, message.sender.process, message.sequence);
        return;
      case 'alias':
        this.respond(message.fromCore, message.requestId, () => this.applyAlias(message));
        return;
      case 'nameServer':
        this.respond(message.fromCore, message.requestId, () => this.applyNameServer(message.location, message.capability as Capability | null));
        return;
      case 'channelOpen':
        this.respond(message.fromCore, message.requestId, () => this.openChannelReader(message));
        return;
      case 'channelClose':
        this.closeChannelReader(message.location, message.channelId, 'closed');
        return;
      case 'doorbell': {
        const mailbox = this.mailboxes.get(message.location.mailbox);
        const reader = mailbox?.channels.get(message.channelId);
        if (mailbox && reader) this.drainChannel(mailbox, reader);
        return;
      }
      case 'drained':
        this.onDrained(message.channelId);
        return;
      case 'processEnded':
        this.forgetProcess(message.process);
        return;
      case 'result':
        this.settle(message);
        return;
    }
  }

  private respond(toCore: number, requestId: number, handle: () => string | undefined): void {
    try {
      const nameServerProcess = handle();
      this.port.post(toCore, nameServerProcess === undefined ? { kind: 'result', fromCore: this.core, requestId } : { kind: 'result', fromCore: this.core, requestId, nameServerProcess });
    } catch (error) {
      if (!isFosError(error)) throw error;
      this.refused++;
      this.publishStats();
      this.port.post(toCore, { kind: 'result', fromCore: this.core, requestId, error: serializeFosError(error) });
    }
  }

  private settle(message: Extract<KernelMessage, { kind: 'result' }>): void {
    const request = this.pending.get(message.requestId);
    assert(request !== undefined, `a result answers a pending request (${message.requestId})`);
    this.pending.delete(message.requestId);
    if (message.error === undefined) request.resolve(message);
    else request.reject(deserializeFosError(message.error));
  }

  private request(toCore: number, build: (requestId: number) => KernelMessage, streamKey?: string): Promise<Extract<KernelMessage, { kind: 'result' }>> {
    if (this.lostCores.has(toCore)) return Promise.reject(lostCoreError(toCore));
    const requestId = this.nextRequestId++;
    return new Promise((resolve, reject) => {
      this.pending.set(requestId, { toCore, resolve, reject });
      this.port.post(toCore, build(requestId), streamKey);
    });
  }

  /** The owner's checks of thesis §4.2.4, then the enqueue. Returns the name server's process if any. */
  private acceptDelivery(message: Extract<KernelMessage, { kind: 'deliver' }>): string | undefined {
    const mailbox = this.targetMailbox(message.location);
    if (message.destinationName === null) {
      this.checkKernelCapability(message.capability as Capability);
      const permitKey = `${message.sender.process}>${mailbox.owner}`;
      const permits = this.uncheckedPermits.get(permitKey) ?? 0;
      if (permits === 0) {
        throw new FosError('PERMISSION_DENIED', `process ${message.sender.process} owes no reply to the owner of ${formatLocation(mailbox.location)}`, { value: mailbox.location });
      }
      this.checkQueueSpace(mailbox);
      if (permits === 1) this.uncheckedPermits.delete(permitKey);
      else this.uncheckedPermits.set(permitKey, permits - 1);
      this.enqueue(mailbox, { bytes: message.bytes, sender: message.sender, destinationName: null, enqueuedAtMs: this.clock.now(), via: 'unchecked' });
      return undefined;
    }
    let stream = mailbox.streams.get(message.sender.process);
    if (stream === undefined) {
      stream = { expected: 0, skipped: new Set() };
      mailbox.streams.set(message.sender.process, stream);
    }
    if (message.sequence !== stream.expected) {
      throw new FosError('WOULD_BLOCK', `message ${message.sequence} of ${message.sender.process} to ${formatLocation(mailbox.location)} is out of sequence (waiting for ${stream.expected})`, {
        value: message.sequence,
      });
    }
    this.checkDeliveryRights(mailbox, message.destinationName, message.capability);
    this.checkQueueSpace(mailbox);
    this.enqueue(mailbox, { bytes: message.bytes, sender: message.sender, destinationName: message.destinationName, enqueuedAtMs: this.clock.now(), via: 'kernel' });
    stream.expected++;
    while (stream.skipped.delete(stream.expected)) stream.expected++;
    return mailbox.nameServer ? mailbox.owner : undefined;
  }

  /** The successor's side of `moveMailbox`: checks the consent and the limits, then takes everything over. */
  private acceptMove(message: Extract<KernelMessage, { kind: 'moveIn' }>): undefined {
    const mailbox = this.targetMailbox(message.location);
    if (!mailbox.capabilityHashes.has(hashCapability(message.capability as Capability))) {
      throw new FosError('PERMISSION_DENIED', `the capability is not valid for mailbox ${formatLocation(mailbox.location)}: the successor did not consent`, { value: mailbox.location });
    }
    const names = new Set([...mailbox.names, ...message.names]);
    if (names.size > this.limits.namesPerMailboxMax) {
      throw new FosError('LIMIT_EXCEEDED', `mailbox ${formatLocation(mailbox.location)} would hold ${names.size} names (namesPerMailboxMax ${this.limits.namesPerMailboxMax})`, { value: names.size });
    }
    const hashes = new Set([...mailbox.capabilityHashes, ...message.capabilityHashes]);
    if (hashes.size > this.limits.capabilitiesPerMailboxMax) {
      throw new FosError('LIMIT_EXCEEDED', `mailbox ${formatLocation(mailbox.location)} would hold ${hashes.size} capabilities (capabilitiesPerMailboxMax ${this.limits.capabilitiesPerMailboxMax})`, {
        value: hashes.size,
      });
    }
    if (message.check === true) return undefined;
    for (const name of message.names) mailbox.names.add(name);
    for (const hash of message.capabilityHashes) mailbox.capabilityHashes.add(hash);
    // The moved messages were accepted before anything queued here: they go first (past the queue
    // bound if need be: each was within the old mailbox's bound, and the bound is the kernel's).
    // (They were counted as delivered when the old mailbox took them.)
    const moved: QueuedMessage[] = [...message.messages];
    for (let receiver = mailbox.receivers[0]; receiver !== undefined && moved.length > 0 && mailbox.queue.length === 0; receiver = mailbox.receivers[0]) {
      mailbox.receivers.shift();
      receiver.deliver(moved.shift() as QueuedMessage);
    }
    mailbox.queue.unshift(...moved);
    if (mailbox.queue.length > 0) mailbox.readable?.();
    return undefined;
  }

  private acceptSkip(location: MailboxLocation, process: string, sequence: number): void {
    const mailbox = this.mailboxes.get(location.mailbox);
    if (mailbox === undefined) return;
    let stream = mailbox.streams.get(process);
    if (stream === undefined) {
      stream = { expected: 0, skipped: new Set() };
      mailbox.streams.set(process, stream);
    }
    if (sequence < stream.expected) return;
    stream.skipped.add(sequence);
    while (stream.skipped.delete(stream.expected)) stream.expected++;
  }

  private checkDeliveryRights(mailbox: Mailbox, destinationName: string, capability: string): void {
    if (!mailbox.capabilityHashes.has(hashCapability(capability as Capability))) {
      throw new FosError('PERMISSION_DENIED', `the capability is not valid for mailbox ${formatLocation(mailbox.location)}`, { value: mailbox.location });
    }
    // A name server is reached as /sys/name, which is never stored (§5.2): the kernel accepts it for
    // the mailboxes registered with ukNameServiceRegister.
    if (!mailbox.names.has(destinationName) && !(mailbox.nameServer && destinationName === nameServiceName)) {
      throw new FosError('NO_SUCH_NAME', `${destinationName} is not a valid name of mailbox ${formatLocation(mailbox.location)}`, { value: destinationName });
    }
  }

  private checkQueueSpace(mailbox: Mailbox): void {
    if (mailbox.receivers.length === 0 && mailbox.queue.length >= mailbox.queueMessagesMax) {
      throw new FosError('WOULD_BLOCK', `mailbox ${formatLocation(mailbox.location)} is full (queueMessagesMax ${mailbox.queueMessagesMax})`, { value: mailbox.location });
    }
  }

  private enqueue(mailbox: Mailbox, message: QueuedMessage): void {
    this.delivered++;
    this.publishStats();
    const receiver = mailbox.receivers.shift();
    if (receiver !== undefined) {
      receiver.deliver(message);
      return;
    }
    mailbox.queue.push(message);
    mailbox.readable?.();
  }

  /** A dequeue made room: rings whose drain stopped for want of it go on (else their doorbells drain them). */
  private afterDequeue(mailbox: Mailbox): void {
    if (!mailbox.ringsWaitForRoom) return;
    mailbox.ringsWaitForRoom = false;
    for (const reader of mailbox.channels.values()) this.drainChannel(mailbox, reader);
  }

  private applyAlias(message: Extract<KernelMessage, { kind: 'alias' }>): undefined {
    this.checkKernelCapability(message.kernelCapability as Capability);
    const mailbox = this.targetMailbox(message.location);
    if (message.operation === 'add') this.addNameTo(mailbox, message.name);
    else this.removeNameFrom(mailbox, message.name);
    return undefined;
  }

  /** Replaces this core's record of a name server: a capability registers it, null unregisters it. */
  private applyNameServer(location: MailboxLocation, capability: Capability | null): undefined {
    this.nameServers = this.nameServers.filter((entry) => formatLocation(entry.location) !== formatLocation(location));
    if (capability !== null) this.nameServers.push({ location, capability });
    return undefined;
  }

  private openChannelReader(message: Extract<KernelMessage, { kind: 'channelOpen' }>): undefined {
    const mailbox = this.targetMailbox(message.location);
    this.checkDeliveryRights(mailbox, message.destinationName, message.capability);
    const reader: ChannelReader = {
      channelId: message.channelId,
      ring: ChannelRing.attach(message.ring),
      sender: message.sender,
      writerCore: message.fromCore,
      destinationName: message.destinationName,
      capabilityHash: hashCapability(message.capability as Capability),
      cutoff: undefined,
    };
    mailbox.channels.set(message.channelId, reader);
    this.channelMailboxes.add(mailbox);
    // The reader starts asleep, wanting a doorbell, before the writer hears the channel is open: else
    // the first messages would wait in the ring until something else made this mailbox drain it.
    this.drainChannel(mailbox, reader);
    return undefined;
  }

  private closeChannelReader(location: MailboxLocation, channelId: string, reason: ChannelCloseReason): void {
    const mailbox = this.mailboxes.get(location.mailbox);
    const reader = mailbox?.channels.get(channelId);
    if (mailbox === undefined || reader === undefined) return;
    reader.cutoff ??= reader.ring.close(reason);
    this.drainChannel(mailbox, reader);
  }

  /** Copies ring messages into the mailbox queue (the second copy of §2.2) while there is room. */
  private drainChannel(mailbox: Mailbox, reader: ChannelReader): number {
    let moved = 0;
    for (;;) {
      if (mailbox.receivers.length === 0 && mailbox.queue.length >= mailbox.queueMessagesMax) {
        mailbox.ringsWaitForRoom = true;
        return moved;
      }
      const bytes = reader.ring.readNext(reader.cutoff);
      if (bytes !== undefined) {
        this.enqueue(mailbox, { bytes, sender: reader.sender, destinationName: reader.destinationName, enqueuedAtMs: this.clock.now(), via: 'channel' });
        moved++;
        continue;
      }
      if (reader.cutoff !== undefined) {
        mailbox.channels.delete(reader.channelId);
        if (mailbox.channels.size === 0) this.channelMailboxes.delete(mailbox);
        this.port.post(reader.writerCore, { kind: 'drained', fromCore: this.core, channelId: reader.channelId });
        return moved;
      }
      if (reader.ring.takeDrainRequest()) this.port.post(reader.writerCore, { kind: 'drained', fromCore: this.core, channelId: reader.channelId });
      if (reader.ring.prepareToSleep()) return moved;
    }
  }

  private shootDown(mailbox: Mailbox, matches: (reader: ChannelReader) => boolean, reason: ChannelCloseReason): void {
    for (const reader of [...mailbox.channels.values()]) {
      if (!matches(reader) || reader.cutoff !== undefined) continue;
      reader.cutoff = reader.ring.close(reason);
      this.drainChannel(mailbox, reader);
    }
  }

  private onDrained(channelId: string): void {
    const writer = this.writers.get(channelId);
    if (writer === undefined) return;
    if (writer.ring.empty || writer.ring.closed || writer.ring.requestDrainNotice()) {
      for (const wake of writer.drainWaiters.splice(0)) wake();
    }
  }

  private waitChannelDrained(writer: ChannelWriter): Promise<void> {
    return new Promise((resolve) => {
      writer.drainWaiters.push(resolve);
      if (writer.ring.requestDrainNotice()) for (const wake of writer.drainWaiters.splice(0)) wake();
    });
  }

  private removeMailbox(mailbox: Mailbox): void {
    this.mailboxes.delete(mailbox.location.mailbox);
    this.publishStats();
    this.processes.get(mailbox.owner)?.mailboxes.delete(mailbox.location.mailbox);
    for (const reader of mailbox.channels.values()) {
      reader.cutoff ??= reader.ring.close('destroyed');
      this.port.post(reader.writerCore, { kind: 'drained', fromCore: this.core, channelId: reader.channelId });
    }
    mailbox.channels.clear();
    this.channelMailboxes.delete(mailbox);
    mailbox.queue.length = 0;
    const gone = this.shutDown
      ? new FosError('SHUTDOWN', `kernel of core ${this.core} shut down`, { value: mailbox.location })
      : new FosError('UNREACHABLE', `mailbox ${formatLocation(mailbox.location)} was destroyed while a receive waited`, { value: mailbox.location });
    for (const receiver of mailbox.receivers.splice(0)) receiver.fail(gone);
    if (mailbox.nameServer && !this.shutDown) void this.broadcastNameServer('unregister', mailbox.location, null).catch(() => undefined);
  }

  private forgetProcess(process: string): void {
    for (const mailbox of this.mailboxes.values()) mailbox.streams.delete(process);
    for (const key of [...this.uncheckedPermits.keys()]) {
      const [nameServer, receiver] = key.split('>');
      if (nameServer === process || receiver === process) this.uncheckedPermits.delete(key);
    }
  }

  private grantUncheckedPermit(nameServerProcess: string, process: string): void {
    const key = `${nameServerProcess}>${process}`;
    this.uncheckedPermits.set(key, Math.min((this.uncheckedPermits.get(key) ?? 0) + 1, uncheckedPermitsPerPairMax));
  }

  private async aliasRequest(operation: 'add' | 'remove', kernelCapability: unknown, location: unknown, name: string): Promise<void> {
    this.checkRunning();
    const capability = validateCapability(kernelCapability);
    this.checkKernelCapability(capability);
    const target = this.validateTarget(location);
    await this.request(target.core, (requestId) => ({ kind: 'alias', fromCore: this.core, requestId, operation, kernelCapability: capability, location: target, name }));
  }

  private async broadcastNameServer(operation: 'register' | 'unregister', location: MailboxLocation, capability: Capability | null): Promise<void> {
    const requests: Array<Promise<unknown>> = [];
    for (let core = 0; core < this.coreCount; core++) {
      requests.push(this.request(core, (requestId) => ({ kind: 'nameServer', fromCore: this.core, requestId, operation, location, capability })));
    }
    await Promise.all(requests);
  }

  private addNameTo(mailbox: Mailbox, name: string): void {
    if (mailbox.names.has(name)) return;
    if (mailbox.names.size >= this.limits.namesPerMailboxMax) {
      throw new FosError('LIMIT_EXCEEDED', `mailbox ${formatLocation(mailbox.location)} already has namesPerMailboxMax (${this.limits.namesPerMailboxMax}) names`, {
        value: mailbox.names.size,
      });
    }
    mailbox.names.add(name);
  }

  private removeNameFrom(mailbox: Mailbox, name: string): void {
    if (!mailbox.names.delete(name)) {
      throw new FosError('NO_SUCH_NAME', `${name} is not a valid name of mailbox ${formatLocation(mailbox.location)}`, { value: name });
    }
    this.shootDown(mailbox, (reader) => reader.destinationName === name, 'revoked');
  }

  // ---- helpers -----------------------------------------------------------------------------------------------

  private sendStream(caller: ProcessRecord, target: MailboxLocation): SendStream {
    const key = `${caller.id}>${formatLocation(target)}`;
    let stream = this.sendStreams.get(key);
    if (stream === undefined) {
      stream = { nextSequence: 0, refused: new Set(), outstanding: 0, idleWaiters: [], channel: undefined, gateHeld: false, gateQueue: [] };
      this.sendStreams.set(key, stream);
    }
    return stream;
  }

  /**
   * Takes the stream's gate in issue order and waits until the path the send takes is free to use:
   * the kernel path once the channel is drained, the channel once every kernel-path send is answered.
   * Returns undefined when the send may go at once (the common case costs no await).
   */
  private acquirePath(stream: SendStream, path: 'kernel' | 'channel'): Promise<void> | undefined {
    const mustWait = (): boolean =>
      path === 'kernel' ? stream.channel !== undefined && !stream.channel.ring.empty && !stream.channel.ring.closed : stream.outstanding > 0;
    if (!stream.gateHeld && stream.gateQueue.length === 0 && !mustWait()) {
      stream.gateHeld = true;
      return undefined;
    }
    return (async () => {
      if (stream.gateHeld) await new Promise<void>((resolve) => stream.gateQueue.push(resolve));
      stream.gateHeld = true;
      while (mustWait()) {
        const channel = stream.channel;
        if (path === 'kernel' && channel !== undefined) await this.waitChannelDrained(channel);
        else await new Promise<void>((resolve) => stream.idleWaiters.push(resolve));
      }
    })();
  }

  /** Hands the stream's gate to the next waiting send, in issue order. */
  private releasePath(stream: SendStream): void {
    const next = stream.gateQueue.shift();
    if (next !== undefined) next();
    else stream.gateHeld = false;
  }

  private takeSequence(caller: ProcessRecord, stream: SendStream, resendOf: number | undefined): number {
    if (resendOf !== undefined) {
      if (!stream.refused.delete(resendOf)) throw new FosError('BAD_REQUEST', `resendOf ${resendOf} is not a refused send of this stream`, { value: resendOf });
      return resendOf;
    }
    if (caller.unacknowledgedSends >= this.limits.unacknowledgedSendsPerProcessMax) {
      throw new FosError('LIMIT_EXCEEDED', `process ${caller.name} has unacknowledgedSendsPerProcessMax (${this.limits.unacknowledgedSendsPerProcessMax}) sends outstanding`, {
        value: caller.unacknowledgedSends,
      });
    }
    return stream.nextSequence++;
  }

  private identity(caller: ProcessRecord): SenderIdentity {
    return { machine: this.machine, core: this.core, process: caller.id };
  }

  private validateTarget(location: unknown): MailboxLocation {
    const target = validateLocation(location);
    if (target.machine !== this.machine || target.core >= this.coreCount) {
      throw new FosError('UNREACHABLE', `no mailbox at ${formatLocation(target)} on machine ${this.machine} (${this.coreCount} cores)`, { value: target });
    }
    return target;
  }

  private targetMailbox(location: MailboxLocation): Mailbox {
    const mailbox = this.mailboxes.get(location.mailbox);
    if (mailbox === undefined) throw new FosError('UNREACHABLE', `no mailbox at ${formatLocation(location)} (destroyed, or its process ended)`, { value: location });
    return mailbox;
  }

  private ownedMailbox(caller: ProcessRecord, location: unknown): Mailbox {
    this.checkCaller(caller);
    const target = validateLocation(location);
    const mailbox = target.machine === this.machine && target.core === this.core ? this.mailboxes.get(target.mailbox) : undefined;
    if (mailbox === undefined) throw new FosError('UNREACHABLE', `no mailbox at ${formatLocation(target)} on core ${this.core}`, { value: target });
    if (mailbox.owner !== caller.id) throw new FosError('PERMISSION_DENIED', `mailbox ${formatLocation(target)} belongs to another process`, { value: target });
    return mailbox;
  }

  private checkKernelCapability(capability: Capability): void {
    if (hashCapability(capability) !== this.kernelCapabilityHash) {
      throw new FosError('PERMISSION_DENIED', 'the kernel capability is not valid', { value: 'kernel capability' });
    }
  }

  private checkCaller(caller: ProcessRecord): void {
    this.checkRunning();
    if (caller.state !== 'running') throw new FosError('SHUTDOWN', `process ${caller.name} (${caller.id}) has ended`, { value: caller.id });
  }

  private checkRunning(): void {
    if (this.shutDown) throw new FosError('SHUTDOWN', `kernel of core ${this.core} is shut down`, { value: this.core });
  }
}

function toReceived(message: QueuedMessage): ReceivedMessage {
  return { body: decodeBody(message.bytes), sender: message.sender, destinationName: message.destinationName, enqueuedAtMs: message.enqueuedAtMs, via: message.via };
}

function stripCode(error: FosError): string {
  return error.message.startsWith(`${error.code}: `) ? error.message.slice(error.code.length + 2) : error.message;
}

function lostCoreError(core: number): FosError {
  return new FosError('UNREACHABLE', `the kernel of core ${core} is gone (its thread ended)`, { value: core });
}

function closedChannelError(writer: ChannelWriter, reason: ChannelCloseReason): FosError {
  const where = `${writer.destinationName} (${formatLocation(writer.location)})`;
  if (reason === 'destroyed') return new FosError('UNREACHABLE', `channel to ${where} is gone: the mailbox was destroyed`, { value: writer.location });
  if (reason === 'revoked') return new FosError('PERMISSION_DENIED', `channel to ${where} was shot down: its name or capability was removed`, { value: writer.location });
  return new FosError('BAD_REQUEST', `channel to ${where} is closed`, { value: writer.location });
}
