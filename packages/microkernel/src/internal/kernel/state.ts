// The shared tables of one core's kernel (thesis §2.1: a minimal microkernel per core, protection
// through capabilities and basic message delivery), and what every subsystem of the kernel does with
// them: look a mailbox up, check a caller or the kernel capability, ask another core's kernel and wait
// for its answer, and the owner's last step of every delivery (§4.2.1, §4.2.4): check the name, the
// capability and the room in the queue, then enqueue. The subsystems (the modules beside this one)
// are functions over one `KernelState`; `Kernel` (kernel.ts) builds it and delegates to them.
import { assert, FosError, nameServiceName, type Clock, type RandomSource } from '@fos/base';
import { hashCheckedCapability, type Capability } from '../../capability.js';
import type { Fabric, FabricPort, KernelMessage } from '../../fabric.js';
import type { KernelLog, KernelOptions, NameServerEntry } from '../../kernel.js';
import type { KernelLimits } from '../../limits.js';
import { locationText, validateLocation, type MailboxLocation, type SenderIdentity } from '../../location.js';
import type { AttachedProxy } from './proxy.js';
import type { ChannelWriter, Mailbox, ProcessRecord, QueuedMessage, SendStream } from '../tables.js';

/** The answer a request to another core's kernel waits for. */
export type RequestResult = Extract<KernelMessage, { kind: 'result' }>;

/** A request posted to another core's kernel and not yet answered. */
export interface PendingRequest {
  readonly toCore: number;
  /**
   * The process of this core a delivery was sent for: a name server that accepts it may answer that
   * process unchecked once, granted as the answer arrives (its reply may be the very next message).
   */
  readonly permitFor: string | undefined;
  readonly resolve: (message: RequestResult) => void;
  readonly reject: (error: FosError) => void;
}

/** Everything one core's kernel keeps: its identity, its port, its tables and its counters. */
export interface KernelState {
  readonly machine: string;
  readonly core: number;
  readonly coreCount: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly limits: KernelLimits;
  readonly kernelCapabilityHash: string;
  readonly log: KernelLog;
  /** Where the counters are also published for a reader in another thread (see {@link publishStats}). */
  readonly statsCells: Float64Array | undefined;
  readonly port: FabricPort;
  /** The mailbox table of §4.2.1: this core's mailboxes by id. */
  readonly mailboxes: Map<number, Mailbox>;
  readonly processes: Map<string, ProcessRecord>;
  /** The sending side of each stream of this core's processes: `process>location` → stream. */
  readonly sendStreams: Map<string, SendStream>;
  /** The mailboxes of this core that have channels into them (what a doorbell makes this kernel poll). */
  readonly channelMailboxes: Set<Mailbox>;
  /** The writer ends of this core's processes' channels, by channel id. */
  readonly writers: Map<string, ChannelWriter>;
  readonly pending: Map<number, PendingRequest>;
  /** Unchecked replies a name server may still send a process of this core: `nameServer>process` → count. */
  readonly uncheckedPermits: Map<string, number>;
  /** This core's copy of the machine's name-server list (§5.2). */
  nameServers: NameServerEntry[];
  /** The core of the machine's proxy, as this core knows it (undefined: the machine has none). */
  proxyCore: number | undefined;
  /** The proxy attached to this core's kernel, on the proxy's core only. */
  proxy: AttachedProxy | undefined;
  /** Cores whose kernel is gone (a worker thread that died). */
  readonly lostCores: Set<number>;
  nextMailboxId: number;
  nextProcessNumber: number;
  nextRequestId: number;
  nextChannelNumber: number;
  /** Messages enqueued into this core's mailboxes. */
  delivered: number;
  /** Requests from other kernels answered with a `FosError`. */
  refused: number;
  shutDown: boolean;
}

/**
 * The state of a new kernel. `connect` attaches it to the fabric and returns the kernel's port; it
 * gets the state, so that what the fabric hands the kernel reaches these tables.
 */
export function createKernelState(
  options: KernelOptions,
  connect: (state: KernelState, fabric: Fabric) => FabricPort,
): KernelState {
  const state: { -readonly [Key in keyof KernelState]: KernelState[Key] } = {
    machine: options.machine,
    core: options.core,
    coreCount: options.fabric.coreCount,
    clock: options.fabric.clock,
    random: options.fabric.random,
    limits: options.limits,
    kernelCapabilityHash: options.kernelCapabilityHash,
    log: options.log,
    statsCells: options.statsCells,
    port: unconnectedPort,
    mailboxes: new Map(),
    processes: new Map(),
    sendStreams: new Map(),
    channelMailboxes: new Set(),
    writers: new Map(),
    pending: new Map(),
    uncheckedPermits: new Map(),
    nameServers: [],
    proxyCore: undefined,
    proxy: undefined,
    lostCores: new Set(),
    nextMailboxId: 1,
    nextProcessNumber: 1,
    nextRequestId: 1,
    nextChannelNumber: 1,
    delivered: 0,
    refused: 0,
    shutDown: false,
  };
  state.port = connect(state, options.fabric);
  return state;
}

/** The port of a kernel while it connects: nothing may be posted before the fabric answered. */
const unconnectedPort: FabricPort = {
  post: () => assert(false, 'a kernel posts only once connected to its fabric'),
};

/** Copies the counters to `statsCells`, when another thread reads them there. */
export function publishStats(state: KernelState): void {
  const cells = state.statsCells;
  if (cells === undefined) return;
  cells[0] = state.processes.size;
  cells[1] = state.mailboxes.size;
  cells[2] = state.delivered;
  cells[3] = state.refused;
}

// ---- asking another core's kernel ------------------------------------------------------------------

/**
 * Posts a request to the kernel of `toCore` and resolves with its answer (rejects with the
 * `FosError` it answered with). `streamKey` as in {@link FabricPort.post}. `permitFor`: see
 * {@link PendingRequest.permitFor}.
 */
export function request(
  state: KernelState,
  toCore: number,
  build: (requestId: number) => KernelMessage,
  streamKey?: string,
  permitFor?: string,
): Promise<RequestResult> {
  if (state.lostCores.has(toCore)) return Promise.reject(lostCoreError(toCore));
  const requestId = state.nextRequestId++;
  return new Promise((resolve, reject) => {
    state.pending.set(requestId, { toCore, permitFor, resolve, reject });
    state.port.post(toCore, build(requestId), streamKey);
  });
}

/** What a request to a core whose kernel is gone answers. */
export function lostCoreError(core: number): FosError {
  return new FosError('UNREACHABLE', `the kernel of core ${core} is gone (its thread ended)`, { value: core });
}

// ---- identities and lookups ---------------------------------------------------------------------------

/** The sender stamp of a process of this core. */
export function identity(state: KernelState, caller: ProcessRecord): SenderIdentity {
  return { machine: state.machine, core: state.core, process: caller.id };
}

/**
 * A location on this machine (any core), as a system call names it: `UNREACHABLE` for another
 * machine, a core the machine does not have, or a core whose kernel is gone.
 */
export function validateTarget(state: KernelState, location: unknown): MailboxLocation {
  const target = validateLocation(location);
  if (target.machine !== state.machine || target.core >= state.coreCount) {
    throw new FosError(
      'UNREACHABLE',
      `no mailbox at ${locationText(target)} on machine ${state.machine} (${state.coreCount} cores)`,
      { value: target },
    );
  }
  if (state.lostCores.has(target.core)) throw lostCoreError(target.core);
  return target;
}

/** A mailbox of this core that a request from another kernel names. */
export function targetMailbox(state: KernelState, location: MailboxLocation): Mailbox {
  const mailbox = state.mailboxes.get(location.mailbox);
  if (mailbox === undefined)
    throw new FosError('UNREACHABLE', `no mailbox at ${locationText(location)} (destroyed, or its process ended)`, {
      value: location,
    });
  return mailbox;
}

/**
 * A mailbox of this core that belongs to `caller`. The answer does not depend on where the mailbox
 * is: `UNREACHABLE` only for a machine or core that is not there (or a mailbox of this core that is
 * not, being destroyed, moved or never made), `PERMISSION_DENIED` for a mailbox of another process.
 * A process's mailboxes all live on its own core, so a mailbox of another core of this machine is
 * never the caller's, and this kernel says so without asking that core.
 */
export function ownedMailbox(state: KernelState, caller: ProcessRecord, location: unknown): Mailbox {
  checkCaller(state, caller);
  const target = validateTarget(state, location);
  if (target.core !== state.core) {
    throw new FosError(
      'PERMISSION_DENIED',
      `mailbox ${locationText(target)} belongs to another process (a process owns mailboxes of its own core, ${state.core}, only)`,
      { value: target },
    );
  }
  const mailbox = state.mailboxes.get(target.mailbox);
  if (mailbox === undefined)
    throw new FosError('UNREACHABLE', `no mailbox at ${locationText(target)} on core ${state.core}`, {
      value: target,
    });
  if (mailbox.owner !== caller.id)
    throw new FosError('PERMISSION_DENIED', `mailbox ${locationText(target)} belongs to another process`, {
      value: target,
    });
  return mailbox;
}

// ---- checks ------------------------------------------------------------------------------------------------

/** The capability of Table 4.5 and §5.2 (the kernel keeps only its hash). */
export function checkKernelCapability(state: KernelState, capability: Capability): void {
  if (hashCheckedCapability(capability) !== state.kernelCapabilityHash) {
    throw new FosError('PERMISSION_DENIED', 'the kernel capability is not valid', { value: 'kernel capability' });
  }
}

/** The caller is a running process and this kernel is not shut down. */
export function checkCaller(state: KernelState, caller: ProcessRecord): void {
  checkRunning(state);
  if (caller.state !== 'running')
    throw new FosError('SHUTDOWN', `process ${caller.name} (${caller.id}) has ended`, { value: caller.id });
}

/** This kernel is not shut down. */
export function checkRunning(state: KernelState): void {
  if (state.shutDown)
    throw new FosError('SHUTDOWN', `kernel of core ${state.core} is shut down`, { value: state.core });
}

// ---- the owner's side of every delivery -----------------------------------------------------------------

/**
 * The owner's checks of §4.2.4, for `ukSend` and for a channel's creation: the capability is a valid
 * send capability of the mailbox and the intended name a valid name of it.
 */
export function checkDeliveryRights(mailbox: Mailbox, destinationName: string, capability: string): void {
  if (!mailbox.capabilityHashes.has(hashCheckedCapability(capability as Capability))) {
    throw new FosError(
      'PERMISSION_DENIED',
      `the capability is not valid for mailbox ${locationText(mailbox.location)}`,
      { value: mailbox.location },
    );
  }
  // A name server is reached as /sys/name, which is never stored (§5.2): the kernel accepts it for
  // the mailboxes registered with ukNameServiceRegister.
  if (!mailbox.names.has(destinationName) && !(mailbox.nameServer && destinationName === nameServiceName)) {
    throw new FosError(
      'NO_SUCH_NAME',
      `${destinationName} is not a valid name of mailbox ${locationText(mailbox.location)}`,
      { value: destinationName },
    );
  }
}

/** `WOULD_BLOCK` when nobody waits on the mailbox and its queue is full. */
export function checkQueueSpace(mailbox: Mailbox): void {
  if (mailbox.receivers.length === 0 && mailbox.queue.length >= mailbox.queueMessagesMax) {
    throw new FosError(
      'WOULD_BLOCK',
      `mailbox ${locationText(mailbox.location)} is full (queueMessagesMax ${mailbox.queueMessagesMax})`,
      { value: mailbox.location },
    );
  }
}

/** Hands a message to the first waiting receive, else queues it and tells the readable callback. */
export function enqueue(state: KernelState, mailbox: Mailbox, message: QueuedMessage): void {
  state.delivered++;
  publishStats(state);
  const receiver = mailbox.receivers.shift();
  if (receiver !== undefined) {
    receiver.deliver(message);
    return;
  }
  mailbox.queue.push(message);
  mailbox.readable?.();
}
