// The microkernel of one core (thesis §2.1, §2.2, §4.2.1, §4.2.4, §5.2; Table 4.5): the one class
// behind every process's system calls (process.ts binds them to a process) and every fabric. Its
// tables live in one `KernelState`, and each subsystem is a module of functions over that state that
// reads against its section of the thesis:
//   internal/kernel/state.ts       the shared tables; lookups, checks, requests to other cores (§2.1)
//   internal/kernel/dispatch.ts    messages from other kernels and their answers; a lost core (§2.1)
//   internal/kernel/lifecycle.ts   the lives of processes, and the end of a mailbox (§2.1, §4.2.1)
//   internal/kernel/mailboxes.ts   the mailbox structure: capabilities, names, receiving (§4.2.1)
//   internal/kernel/send-paths.ts  a stream's sending side, and the order of its two paths (§2.2)
//   internal/kernel/streams.ts     ukSend and per-stream sequencing (§4.2.4, the kernel path)
//   internal/kernel/channels.ts    user-space channels, doorbells and shoot-down (§2.2, §4.2.4)
//   internal/kernel/aliases.ts     a mailbox's valid names; ukAddAlias, ukRemoveAlias (Table 4.5)
//   internal/kernel/registry.ts    the name-server registry; ukUncheckedSend and its permits (§5.2)
//   internal/kernel/migration.ts   moveMailbox (migration, which the thesis leaves open)
//   internal/kernel/proxy.ts       sends to other machines through the machine's proxy (§2.2)
import type { Clock, MessageBody, RandomSource } from '@fos/base';
import type { Capability } from './capability.js';
import type { Fabric } from './fabric.js';
import * as aliases from './internal/kernel/aliases.js';
import * as channels from './internal/kernel/channels.js';
import { coreLost, onMessage } from './internal/kernel/dispatch.js';
import * as lifecycle from './internal/kernel/lifecycle.js';
import * as mailboxes from './internal/kernel/mailboxes.js';
import { moveMailbox } from './internal/kernel/migration.js';
import * as proxy from './internal/kernel/proxy.js';
import type { ProxyAttachment } from './internal/kernel/proxy.js';
import * as registry from './internal/kernel/registry.js';
import { createKernelState, type KernelState } from './internal/kernel/state.js';
import * as streams from './internal/kernel/streams.js';
import type { ChannelWriter, ProcessRecord } from './internal/tables.js';
import type { KernelLimits } from './limits.js';
import type { MailboxLocation, SenderIdentity } from './location.js';

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

/** Counters a kernel keeps. */
export interface KernelStats {
  readonly processes: number;
  readonly mailboxes: number;
  readonly delivered: number;
  readonly refused: number;
}

/**
 * The microkernel of one core. It owns the mailboxes of its core and checks name and capability on
 * every delivery into them; everything it asks of another core goes through the fabric. Processes
 * reach it through their {@link SystemCalls}; each method hands the call to the subsystem it concerns.
 */
export class Kernel {
  readonly machine: string;
  readonly core: number;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly limits: KernelLimits;
  readonly #state: KernelState;

  constructor(options: KernelOptions) {
    this.machine = options.machine;
    this.core = options.core;
    this.clock = options.fabric.clock;
    this.random = options.fabric.random;
    this.limits = options.limits;
    this.#state = createKernelState(options, (state, fabric) =>
      fabric.connect(
        options.core,
        (message) => onMessage(state, message),
        (lost) => coreLost(state, lost),
      ),
    );
  }

  /** Counters for summaries and tests. */
  stats(): KernelStats {
    const state = this.#state;
    return {
      processes: state.processes.size,
      mailboxes: state.mailboxes.size,
      delivered: state.delivered,
      refused: state.refused,
    };
  }

  // ---- processes (lifecycle.ts) ---------------------------------------------------------------------

  /** Registers a new process on this core. */
  createProcess(name: string): ProcessRecord {
    return lifecycle.createProcess(this.#state, name);
  }

  /** Ends a process: destroys its mailboxes, closes its channels, tells the other kernels. */
  endProcess(record: ProcessRecord, outcome: { crashed: boolean; error?: unknown }): void {
    lifecycle.endProcess(this.#state, record, outcome);
  }

  /** Runs a process's callback; a throw or a rejection crashes that process alone. */
  invokeCallback(caller: ProcessRecord, callback: () => void | Promise<void>): void {
    lifecycle.invokeCallback(this.#state, caller, callback);
  }

  /** Ends every process and fails every pending request with `SHUTDOWN`. */
  shutdown(): void {
    lifecycle.shutdown(this.#state);
  }

  // ---- mailboxes and receiving (mailboxes.ts) -------------------------------------------------------

  /** `createMailbox`: a new mailbox of `caller`, with a fresh send capability and no name yet. */
  createMailbox(caller: ProcessRecord, options?: unknown): CreatedMailbox {
    return mailboxes.createMailbox(this.#state, caller, options);
  }

  /** `destroyMailbox`: later sends to its location answer `UNREACHABLE`; its channels are shot down. */
  destroyMailbox(caller: ProcessRecord, location: unknown): void {
    mailboxes.destroyMailbox(this.#state, caller, location);
  }

  /** Mints and adds one more send capability to an own mailbox. */
  addCapability(caller: ProcessRecord, location: unknown): Capability {
    return mailboxes.addCapability(this.#state, caller, location);
  }

  /** Removes a send capability of an own mailbox and shoots down every channel created under it. */
  removeCapability(caller: ProcessRecord, location: unknown, capability: unknown): void {
    mailboxes.removeCapability(this.#state, caller, location, capability);
  }

  /** Adds a valid name to an own mailbox (a direct mapping, thesis §4.3). */
  addName(caller: ProcessRecord, location: unknown, name: unknown): void {
    mailboxes.addName(this.#state, caller, location, name);
  }

  /** Removes a valid name of an own mailbox and shoots down every channel created under it. */
  removeName(caller: ProcessRecord, location: unknown, name: unknown): void {
    mailboxes.removeName(this.#state, caller, location, name);
  }

  /** The valid names of an own mailbox, for inspection. */
  mailboxNames(caller: ProcessRecord, location: unknown): string[] {
    return mailboxes.mailboxNames(this.#state, caller, location);
  }

  /** Messages waiting in an own mailbox's queue (a poll, for schedulers such as the dispatcher). */
  pendingMessages(caller: ProcessRecord, location: unknown): number {
    return mailboxes.pendingMessages(this.#state, caller, location);
  }

  /** `tryReceive`: the next message of an own mailbox, or undefined when its queue is empty. */
  tryReceive(caller: ProcessRecord, location: unknown): ReceivedMessage | undefined {
    return mailboxes.tryReceive(this.#state, caller, location);
  }

  /** `receive`: resolves with the next message of an own mailbox, waiting for one if needed. */
  receive(caller: ProcessRecord, location: unknown): Promise<ReceivedMessage> {
    return mailboxes.receive(this.#state, caller, location);
  }

  /** Sets (or clears, with null) the callback the kernel invokes when an own mailbox has messages. */
  onReadable(caller: ProcessRecord, location: unknown, callback: unknown): void {
    mailboxes.onReadable(this.#state, caller, location, callback);
  }

  /** Hands an own mailbox over to a successor's mailbox (migration.ts). */
  moveMailbox(
    caller: ProcessRecord,
    location: unknown,
    successor: unknown,
    successorCapability: unknown,
  ): Promise<MovedMailbox> {
    return moveMailbox(this.#state, caller, location, successor, successorCapability);
  }

  // ---- sending (streams.ts) ----------------------------------------------------------------------------

  /** `ukSend` (thesis §4.2.4): delivers `body` if the name and the capability are valid for the mailbox. */
  ukSend(
    caller: ProcessRecord,
    destinationName: unknown,
    location: unknown,
    capability: unknown,
    body: unknown,
    options?: unknown,
  ): Promise<void> {
    return streams.ukSend(this.#state, caller, destinationName, location, capability, body, options);
  }

  /** Gives up a refused send for good: the stream moves past its sequence number. */
  abandonSend(caller: ProcessRecord, location: unknown, sequence: unknown): void {
    streams.abandonSend(this.#state, caller, location, sequence);
  }

  // ---- Table 4.5 and §5.2 (aliases.ts, registry.ts) ----------------------------------------------------

  /** `ukUncheckedSend` (§5.2): a name server's reply to a process whose mailbox has no name yet. */
  ukUncheckedSend(caller: ProcessRecord, kernelCapability: unknown, location: unknown, body: unknown): Promise<void> {
    return registry.ukUncheckedSend(this.#state, caller, kernelCapability, location, body);
  }

  /** `ukAddAlias` (Table 4.5): adds a valid name to any mailbox of the machine; kernel capability only. */
  ukAddAlias(kernelCapability: unknown, location: unknown, name: unknown): Promise<void> {
    return aliases.ukAddAlias(this.#state, kernelCapability, location, name);
  }

  /** `ukRemoveAlias` (Table 4.5): removes a valid name from any mailbox; shoots down its channels. */
  ukRemoveAlias(kernelCapability: unknown, location: unknown, name: unknown): Promise<void> {
    return aliases.ukRemoveAlias(this.#state, kernelCapability, location, name);
  }

  /** `ukNameServiceRegister` (§5.2): makes an own mailbox a name server of the machine. */
  ukNameServiceRegister(
    caller: ProcessRecord,
    location: unknown,
    kernelCapability: unknown,
    sendCapability: unknown,
  ): Promise<void> {
    return registry.ukNameServiceRegister(this.#state, caller, location, kernelCapability, sendCapability);
  }

  /** `ukNameServiceUnregister` (§5.2): the mailbox is no longer a name server of the machine. */
  ukNameServiceUnregister(caller: ProcessRecord, location: unknown, kernelCapability: unknown): Promise<void> {
    return registry.ukNameServiceUnregister(this.#state, caller, location, kernelCapability);
  }

  /** `ukNameServiceLookup` (§5.2): a name server of this machine, preferring one on this core. */
  ukNameServiceLookup(): NameServerEntry {
    return registry.ukNameServiceLookup(this.#state);
  }

  // ---- other machines (proxy.ts) ----------------------------------------------------------------------

  /**
   * `ukProxyAttach` (§2.2, the third delivery mechanism): `caller` becomes the machine's proxy. Sends
   * to mailboxes of other machines are handed to `onForward` from now on; the attachment delivers
   * what other machines send and answers the forwarded sends. Kernel capability only.
   */
  ukProxyAttach(caller: ProcessRecord, kernelCapability: unknown, onForward: unknown): Promise<ProxyAttachment> {
    return proxy.ukProxyAttach(this.#state, caller, kernelCapability, onForward);
  }

  // ---- user-space channels (channels.ts) -----------------------------------------------------------------

  /** A user-space channel to a mailbox (thesis §2.2, §4.2.4), made with the checks of `ukSend`. */
  createChannel(
    caller: ProcessRecord,
    destinationName: unknown,
    location: unknown,
    capability: unknown,
  ): Promise<ChannelWriter> {
    return channels.createChannel(this.#state, caller, destinationName, location, capability);
  }

  /** Writes one message into a channel, whole or not at all. */
  channelSend(caller: ProcessRecord, writer: ChannelWriter, body: unknown): Promise<void> {
    return channels.channelSend(this.#state, caller, writer, body);
  }

  /** Closes a channel from the writer's side; what was written is still delivered. */
  closeChannelWriter(writer: ChannelWriter): void {
    channels.closeChannelWriter(this.#state, writer);
  }

  /** Copies what every channel into this core's mailboxes holds into their queues; how many it moved. */
  pollChannels(): number {
    return channels.pollChannels(this.#state);
  }
}
