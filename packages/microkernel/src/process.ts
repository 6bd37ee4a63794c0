import type { Clock, MessageBody, RandomSource } from '@fos/base';
import type { Capability } from './capability.js';
import type { ChannelWriter, ProcessExit, ProcessRecord } from './internal/tables.js';
import type { ForwardedMessage, ProxyAttachment } from './internal/kernel/proxy.js';
import type { CreatedMailbox, Kernel, MovedMailbox, NameServerEntry, ReceivedMessage, SendOptions } from './kernel.js';
import type { MailboxLocation } from './location.js';

export type { ProcessExit } from './internal/tables.js';

/** A user-space channel from a process to one mailbox (thesis §2.2), as its writer holds it. */
export interface Channel {
  /** The intended name it was created under. */
  readonly destinationName: string;
  /** The mailbox it reaches. */
  readonly location: MailboxLocation;
  /** True once closed or shot down. */
  readonly closed: boolean;
  /** Writes one message, whole or not at all (see {@link SystemCalls.createChannel}). */
  send(body: MessageBody): Promise<void>;
  /** Closes it; what was written is still delivered. */
  close(): void;
}

/**
 * The system calls of the microkernel, bound to one process: the kernel stamps that process as the
 * sender of everything sent through them. Every call that may involve another core returns a Promise,
 * on every fabric.
 */
export interface SystemCalls {
  /** A new mailbox owned by this process, with its first send capability and no name. */
  createMailbox(options?: { queueMessagesMax?: number }): Promise<CreatedMailbox>;
  /** Destroys an own mailbox; later sends to it answer `UNREACHABLE`. */
  destroyMailbox(location: MailboxLocation): Promise<void>;
  /**
   * Hands an own mailbox over to a successor's mailbox on the same machine (migration): closes it and
   * moves its queue (in order, with stamps), names and capabilities there. A send capability of the
   * successor's mailbox is its owner's consent; a refusal found before the move leaves the old mailbox
   * as it was. Senders start a new stream to the new location.
   */
  moveMailbox(
    location: MailboxLocation,
    successor: MailboxLocation,
    successorCapability: Capability,
  ): Promise<MovedMailbox>;
  /** Mints one more send capability of an own mailbox. */
  addCapability(location: MailboxLocation): Promise<Capability>;
  /** Revokes a send capability of an own mailbox; channels created under it are shot down. */
  removeCapability(location: MailboxLocation, capability: Capability): Promise<void>;
  /** Adds a valid name to an own mailbox. */
  addName(location: MailboxLocation, name: string): Promise<void>;
  /** Removes a valid name of an own mailbox; channels created under it are shot down. */
  removeName(location: MailboxLocation, name: string): Promise<void>;
  /** The valid names of an own mailbox. */
  mailboxNames(location: MailboxLocation): Promise<string[]>;
  /** The next message of an own mailbox, waiting for one if needed. */
  receive(location: MailboxLocation): Promise<ReceivedMessage>;
  /** The next message of an own mailbox, or undefined. */
  tryReceive(location: MailboxLocation): ReceivedMessage | undefined;
  /** How many messages wait in an own mailbox's queue. */
  pendingMessages(location: MailboxLocation): number;
  /** The callback the kernel invokes when an own mailbox has messages (null clears it). */
  onReadable(location: MailboxLocation, callback: (() => void | Promise<void>) | null): void;
  /**
   * `ukSend` (§4.2.4): delivers `body` into the mailbox at `location` if `capability` is a valid send
   * capability of it and `destinationName` a valid name of it, as the kernel that owns it checks;
   * resolves once the message is in its queue. Messages of one stream (this process → that mailbox)
   * are accepted only in sequence: a refusal carries `details.sequence`, and the stream waits until
   * that message is re-sent (`resendOf`) or given up ({@link SystemCalls.abandonSend}).
   */
  ukSend(
    destinationName: string,
    location: MailboxLocation,
    capability: Capability,
    body: MessageBody,
    options?: SendOptions,
  ): Promise<void>;
  /** Gives up a refused send for good, so the stream moves on. */
  abandonSend(location: MailboxLocation, sequence: number): void;
  /** `ukUncheckedSend` (§5.2): a name server's first reply; kernel capability only. */
  ukUncheckedSend(kernelCapability: Capability, location: MailboxLocation, body: MessageBody): Promise<void>;
  /** `ukAddAlias` (Table 4.5). */
  ukAddAlias(kernelCapability: Capability, location: MailboxLocation, name: string): Promise<void>;
  /** `ukRemoveAlias` (Table 4.5). */
  ukRemoveAlias(kernelCapability: Capability, location: MailboxLocation, name: string): Promise<void>;
  /** `ukNameServiceRegister` (§5.2). */
  ukNameServiceRegister(
    mailbox: MailboxLocation,
    kernelCapability: Capability,
    sendCapability: Capability,
  ): Promise<void>;
  /** `ukNameServiceUnregister` (§5.2). */
  ukNameServiceUnregister(mailbox: MailboxLocation, kernelCapability: Capability): Promise<void>;
  /** `ukNameServiceLookup` (§5.2): a name server of this machine. */
  ukNameServiceLookup(): Promise<NameServerEntry>;
  /** A user-space channel to a mailbox, created with the checks of `ukSend`. */
  createChannel(destinationName: string, location: MailboxLocation, capability: Capability): Promise<Channel>;
  /**
   * `ukProxyAttach` (§2.2): this process becomes the machine's proxy. Sends to mailboxes of other
   * machines reach `onForward`; the attachment delivers what other machines send and answers the
   * forwarded sends. Kernel capability only; one proxy per machine (`CONFLICT` for a second).
   */
  ukProxyAttach(kernelCapability: Capability, onForward: (message: ForwardedMessage) => void): Promise<ProxyAttachment>;
}

/** What a process's entry function receives. */
export interface ProcessContext {
  /** The process id, unique on the machine. */
  readonly process: string;
  /** The name given at spawn (for logs). */
  readonly name: string;
  readonly machine: string;
  readonly core: number;
  /** The system calls, bound to this process. */
  readonly kernel: SystemCalls;
  /** The machine's clock (virtual under simulation). */
  readonly clock: Clock;
  /** The machine's randomness (seeded under simulation). */
  readonly random: RandomSource;
  /** Ends this process normally: its mailboxes are destroyed. */
  exit(): void;
  /** Resolves when this process ends. */
  readonly exited: Promise<ProcessExit>;
  /** Runs a callback as this process: a throw or rejection crashes it (for timers and other callbacks). */
  guard(callback: () => void | Promise<void>): void;
}

/**
 * A process's entry function: called with its context and a copy of the spawn `args`; its return
 * value (copied) is handed to the spawner. The process lives on after it returns, until it exits,
 * is killed or crashes.
 */
export type EntryFunction = (context: ProcessContext, args: MessageBody) => unknown;

/** @internal Binds the kernel's system calls to one process. */
export function bindSystemCalls(kernel: Kernel, record: ProcessRecord): SystemCalls {
  const channel = (writer: ChannelWriter): Channel => ({
    destinationName: writer.destinationName,
    location: writer.location,
    get closed() {
      return writer.closed || writer.ring.closed;
    },
    send: (body) => kernel.channelSend(record, writer, body),
    close: () => kernel.closeChannelWriter(writer),
  });
  return {
    createMailbox: async (options) => kernel.createMailbox(record, options),
    destroyMailbox: async (location) => kernel.destroyMailbox(record, location),
    moveMailbox: (location, successor, successorCapability) =>
      kernel.moveMailbox(record, location, successor, successorCapability),
    addCapability: async (location) => kernel.addCapability(record, location),
    removeCapability: async (location, capability) => kernel.removeCapability(record, location, capability),
    addName: async (location, name) => kernel.addName(record, location, name),
    removeName: async (location, name) => kernel.removeName(record, location, name),
    mailboxNames: async (location) => kernel.mailboxNames(record, location),
    receive: async (location) => kernel.receive(record, location),
    tryReceive: (location) => kernel.tryReceive(record, location),
    pendingMessages: (location) => kernel.pendingMessages(record, location),
    onReadable: (location, callback) => kernel.onReadable(record, location, callback),
    ukSend: (destinationName, location, capability, body, options) =>
      kernel.ukSend(record, destinationName, location, capability, body, options),
    abandonSend: (location, sequence) => kernel.abandonSend(record, location, sequence),
    ukUncheckedSend: (kernelCapability, location, body) =>
      kernel.ukUncheckedSend(record, kernelCapability, location, body),
    ukAddAlias: (kernelCapability, location, name) => kernel.ukAddAlias(kernelCapability, location, name),
    ukRemoveAlias: (kernelCapability, location, name) => kernel.ukRemoveAlias(kernelCapability, location, name),
    ukNameServiceRegister: (mailbox, kernelCapability, sendCapability) =>
      kernel.ukNameServiceRegister(record, mailbox, kernelCapability, sendCapability),
    ukNameServiceUnregister: (mailbox, kernelCapability) =>
      kernel.ukNameServiceUnregister(record, mailbox, kernelCapability),
    ukNameServiceLookup: async () => kernel.ukNameServiceLookup(),
    ukProxyAttach: (kernelCapability, onForward) => kernel.ukProxyAttach(record, kernelCapability, onForward),
    createChannel: async (destinationName, location, capability) =>
      channel(await kernel.createChannel(record, destinationName, location, capability)),
  };
}

/** @internal The context an entry function gets. */
export function createProcessContext(kernel: Kernel, record: ProcessRecord): ProcessContext {
  const exited = new Promise<ProcessExit>((resolve) => {
    if (record.exit !== undefined) resolve(record.exit);
    else record.exitWaiters.push(resolve);
  });
  return {
    process: record.id,
    name: record.name,
    machine: kernel.machine,
    core: kernel.core,
    kernel: bindSystemCalls(kernel, record),
    clock: kernel.clock,
    random: kernel.random,
    exit: () => kernel.endProcess(record, { crashed: false }),
    exited,
    guard: (callback) => kernel.invokeCallback(record, callback),
  };
}
