import type { Capability } from '../capability.js';
import type { MailboxLocation, SenderIdentity } from '../location.js';
import type { ChannelRing } from '../ring.js';

/** A message waiting in a mailbox's receive queue: bytes, decoded only when taken. */
export interface QueuedMessage {
  readonly bytes: Uint8Array;
  readonly sender: SenderIdentity;
  readonly destinationName: string | null;
  readonly enqueuedAtMs: number;
  readonly via: 'kernel' | 'channel' | 'unchecked';
}

/** The receiving side of one stream (sender process → mailbox): sequence numbers accepted in order only. */
export interface ReceiveStream {
  expected: number;
  readonly skipped: Set<number>;
}

/** The owner kernel's end of a user-space channel. */
export interface ChannelReader {
  readonly channelId: string;
  readonly ring: ChannelRing;
  readonly sender: SenderIdentity;
  readonly writerCore: number;
  readonly destinationName: string;
  readonly capabilityHash: string;
  /** Set at shoot-down: deliver up to here and no further. */
  cutoff: number | undefined;
}

/** The mailbox structure of thesis §4.2.1: queue, valid names, valid capabilities, location. */
export interface Mailbox {
  readonly location: MailboxLocation;
  readonly owner: string;
  readonly queueMessagesMax: number;
  readonly queue: QueuedMessage[];
  readonly names: Set<string>;
  /** Hashes of the valid send capabilities (the table never keeps a capability itself). */
  readonly capabilityHashes: Set<string>;
  readonly streams: Map<string, ReceiveStream>;
  readonly channels: Map<string, ChannelReader>;
  readonly receivers: Array<{
    readonly deliver: (message: QueuedMessage) => void;
    readonly fail: (error: Error) => void;
  }>;
  readable: (() => void) | undefined;
  /** Messages taken by the owner so far (drives the readable callback's re-runs). */
  taken: number;
  /** Set while registered with `ukNameServiceRegister`: deliveries to it permit one unchecked reply. */
  nameServer: boolean;
  /** Set when a ring drain stopped for want of room in the queue: the next dequeue drains again. */
  ringsWaitForRoom: boolean;
}

/** The sending side of one stream, kept by the sender's kernel. */
export interface SendStream {
  nextSequence: number;
  /** Sequence numbers refused by the owner and not yet re-sent or abandoned. */
  readonly refused: Set<number>;
  /** Kernel-path sends not yet answered. */
  outstanding: number;
  readonly idleWaiters: Array<() => void>;
  channel: ChannelWriter | undefined;
  /**
   * Held by the send that is choosing its path and posting; later sends of the stream queue here in
   * issue order, so a switch between the kernel path and the channel can wait without reordering.
   */
  gateHeld: boolean;
  readonly gateQueue: Array<() => void>;
}

/** The writer's end of a user-space channel. */
export interface ChannelWriter {
  readonly channelId: string;
  readonly ring: ChannelRing;
  readonly location: MailboxLocation;
  readonly destinationName: string;
  readonly capability: Capability;
  readonly process: string;
  /** The sender's stream to the mailbox (the one whose channel this is). */
  readonly stream: SendStream;
  readonly drainWaiters: Array<() => void>;
  closed: boolean;
}

/** A process's record in its core's kernel. */
export interface ProcessRecord {
  readonly id: string;
  readonly name: string;
  readonly mailboxes: Set<number>;
  readonly channels: Set<string>;
  state: 'running' | 'exited' | 'crashed';
  unacknowledgedSends: number;
  readonly exitWaiters: Array<(outcome: ProcessExit) => void>;
  exit: ProcessExit | undefined;
}

/** How a process ended. */
export interface ProcessExit {
  readonly process: string;
  readonly crashed: boolean;
  readonly error?: unknown;
}
