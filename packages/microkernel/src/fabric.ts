import type { Clock, RandomSource } from '@fos/base';
import type { CoreLink } from './core-host.js';
import type { KernelLimits } from './limits.js';
import type { ForeignDelivery } from './internal/kernel/proxy.js';
import type { SerializedFosError } from './internal/serialized-error.js';
import type { MailboxLocation, SenderIdentity } from './location.js';

/**
 * A message between the kernels of one machine. Kernels never share tables: everything one core asks
 * of another goes through the fabric as one of these.
 */
export type KernelMessage =
  | {
      readonly kind: 'deliver';
      readonly fromCore: number;
      readonly requestId: number;
      readonly sender: SenderIdentity;
      readonly location: MailboxLocation;
      /** The intended name, checked against the mailbox's valid names; null for an unchecked send. */
      readonly destinationName: string | null;
      /** A send capability, or for an unchecked send the kernel capability. */
      readonly capability: string;
      /** Per-stream sequence number; -1 for an unchecked send. */
      readonly sequence: number;
      readonly bytes: Uint8Array;
    }
  | (ForeignDelivery & {
      /** A `deliver` for a mailbox of another machine, to the core of the machine's proxy. */
      readonly kind: 'forward';
      readonly fromCore: number;
      readonly requestId: number;
    })
  | {
      /** A `skip` for a mailbox of another machine, to the core of the machine's proxy. */
      readonly kind: 'forwardSkip';
      readonly fromCore: number;
      readonly sender: SenderIdentity;
      readonly location: MailboxLocation;
      readonly sequence: number;
    }
  | {
      /** `ukAddAlias` / `ukRemoveAlias` for a mailbox of another machine, to the core of the machine's proxy. */
      readonly kind: 'forwardAlias';
      readonly fromCore: number;
      readonly requestId: number;
      readonly operation: 'add' | 'remove';
      readonly location: MailboxLocation;
      readonly name: string;
    }
  | {
      /** Where the machine's proxy is now (null: it has none). */
      readonly kind: 'proxyCore';
      readonly fromCore: number;
      readonly requestId: number;
      readonly core: number | null;
    }
  | {
      readonly kind: 'moveIn';
      readonly fromCore: number;
      readonly requestId: number;
      /** The successor mailbox, and a send capability of it (the successor's consent). */
      readonly location: MailboxLocation;
      readonly capability: string;
      /** The old mailbox's queue, in order, with the stamps it was enqueued with. */
      readonly messages: readonly MovedMessage[];
      readonly names: readonly string[];
      readonly capabilityHashes: readonly string[];
      /** A dry run: check the consent and the limits, change nothing. */
      readonly check?: boolean;
    }
  | {
      readonly kind: 'skip';
      readonly fromCore: number;
      readonly sender: SenderIdentity;
      readonly location: MailboxLocation;
      readonly sequence: number;
    }
  | {
      readonly kind: 'alias';
      readonly fromCore: number;
      readonly requestId: number;
      readonly operation: 'add' | 'remove';
      readonly kernelCapability: string;
      readonly location: MailboxLocation;
      readonly name: string;
    }
  | {
      readonly kind: 'nameServer';
      readonly fromCore: number;
      readonly requestId: number;
      readonly operation: 'register' | 'unregister';
      readonly location: MailboxLocation;
      /** The name server's send capability; null when unregistering. */
      readonly capability: string | null;
    }
  | {
      readonly kind: 'channelOpen';
      readonly fromCore: number;
      readonly requestId: number;
      readonly channelId: string;
      readonly sender: SenderIdentity;
      readonly destinationName: string;
      readonly location: MailboxLocation;
      readonly capability: string;
      readonly ring: SharedArrayBuffer;
    }
  | {
      readonly kind: 'channelClose';
      readonly fromCore: number;
      readonly channelId: string;
      readonly location: MailboxLocation;
    }
  | {
      readonly kind: 'doorbell';
      readonly fromCore: number;
      readonly channelId: string;
      readonly location: MailboxLocation;
    }
  | { readonly kind: 'drained'; readonly fromCore: number; readonly channelId: string }
  | { readonly kind: 'processEnded'; readonly fromCore: number; readonly process: string }
  | {
      readonly kind: 'result';
      readonly fromCore: number;
      readonly requestId: number;
      readonly error?: SerializedFosError;
      /** For a delivery to a name server's mailbox: the name server's process (it may answer once unchecked). */
      readonly nameServerProcess?: string;
    };

/** A queued message as `moveMailbox` carries it to the successor's kernel. */
export interface MovedMessage {
  readonly bytes: Uint8Array;
  readonly sender: SenderIdentity;
  readonly destinationName: string | null;
  readonly enqueuedAtMs: number;
  readonly via: 'kernel' | 'channel' | 'unchecked';
}

/** @internal What every kernel of a machine is built with. */
export interface CoreConfig {
  readonly machine: string;
  readonly limits: KernelLimits;
  readonly kernelCapabilityHash: string;
  readonly log: (line: string) => void;
}

/** How one kernel reaches the others. */
export interface FabricPort {
  /**
   * Sends to the kernel of `toCore` (possibly this core's own). Messages with the same destination and
   * stream key arrive in order; `streamKey` (default: one stream per pair of cores) lets a simulated
   * fabric reorder independent streams.
   */
  post(toCore: number, message: KernelMessage, streamKey?: string): void;
  /**
   * Where cores share memory (worker threads): tells `toCore` that a ring into one of its mailboxes
   * has a new message, through a doorbell in shared memory instead of a message. Absent: the kernel
   * posts a `doorbell` message when the ring's reader asked for one.
   */
  ringDoorbell?(toCore: number): void;
}

/**
 * The hardware under the kernels of one machine: how cores exchange messages, and the machine's clock
 * and random source. `LocalFabric` (cores in one thread over `MessageChannel`), `SimFabric` (seeded,
 * deterministic) and, later, worker threads and the proxy implement it.
 */
export interface Fabric {
  /** A short name of the kind of fabric (`local`, `sim`, `worker`). */
  readonly kind: string;
  /** Cores of the machine. */
  readonly coreCount: number;
  /** The machine's time source (virtual under simulation). */
  readonly clock: Clock;
  /** The machine's randomness (seeded under simulation). */
  readonly random: RandomSource;
  /**
   * Connects the kernel of `core`: `receive` gets every message posted to it; `coreLost`, where the
   * fabric can lose a core (a worker thread that dies), hears of each core whose kernel is gone.
   */
  connect(core: number, receive: (message: KernelMessage) => void, coreLost?: (core: number) => void): FabricPort;
  /**
   * @internal For a fabric whose kernels run elsewhere (one worker thread per core): starts every
   * core's kernel there and answers how the machine drives each. Absent: the machine builds the
   * kernels in its own thread over {@link Fabric.connect}.
   */
  startCores?(config: CoreConfig): CoreLink[];
  /**
   * Called while the machine waits on something that takes event-loop turns the fabric cannot see
   * (loading a process's module): a fabric that steps by turns (`SimFabric`) delivers nothing and
   * fires no timer until the returned release is called, so the time the wait takes changes nothing
   * in the run. Release is idempotent. Absent: the fabric needs no such hold.
   */
  hold?(): () => void;
  /** Stops delivering and releases every port and timer. */
  close(): Promise<void>;
}
