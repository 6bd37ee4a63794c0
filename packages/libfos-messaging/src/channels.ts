// User-space channels under libfos's sends (thesis §2.2): once a process has sent to one mailbox under
// one intended name often enough, it opens a channel there (the kernel checks name and capability as
// for ukSend) and later sends to that mailbox under that name go through the ring. A channel that
// fails (shot down, the mailbox gone, the ring full) hands the message back to the kernel path, which
// gives the refusal its sequence number and libfos its usual recovery. The kernel keeps one stream in
// order across the two paths. This table is the one owner of a process's channels; the send path
// (send-path.ts) decides, message by message, which path a message takes.
import { FosError, isFosError, nameServiceName, type MessageBody } from '@fos/base';
import {
  formatLocation,
  type Capability,
  type Channel,
  type MailboxLocation,
  type SystemCalls,
} from '@fos/microkernel';

/** What the channel layer counts. */
export type ChannelCounters = {
  /** Channels opened. */
  opened: number;
  /** Messages sent through a channel. */
  channelSends: number;
  /** Messages a failing channel handed back to the kernel path. */
  fallbacks: number;
};

/** How many channels to keep and when to open one. */
export type ChannelPolicy = {
  /** Sends to one mailbox under one name through the kernel before a channel is opened; 0: never. */
  readonly channelAfterSends: number;
  /** Channels one process keeps open at most (each holds a ring of the kernel's `channelRingBytes`). */
  readonly channelsPerProcessMax: number;
};

/** Mailboxes whose sends are counted at once, at most (the oldest count is forgotten first). */
export const channelCandidatesMax = 1024;

/** An open channel, under the key the table keeps it by (its mailbox and intended name). */
export type OpenChannel = { readonly key: string; readonly channel: Channel };

/**
 * The user-space channels of one process, keyed by mailbox and intended name: which are open, which
 * are being opened, which the kernel refused, and how many sends each candidate has had.
 */
export class ChannelTable {
  readonly counters: ChannelCounters = { opened: 0, channelSends: 0, fallbacks: 0 };
  private readonly counts = new Map<string, number>();
  private readonly open = new Map<string, OpenChannel>();
  private readonly opening = new Set<string>();
  /** Mailboxes a channel was refused for (another channel to the same mailbox, a bad name): kernel path only. */
  private readonly refused = new Set<string>();

  /**
   * `replyNamed`: true once the process's reply address has a name (then requests to the name service
   * may take a channel too).
   */
  constructor(
    private readonly kernel: SystemCalls,
    private readonly policy: ChannelPolicy,
    private readonly replyNamed: () => boolean,
  ) {
    for (const [key, value] of Object.entries(policy)) {
      if (!Number.isSafeInteger(value) || value < 0)
        throw new FosError('BAD_REQUEST', `libfos limit ${key} is not a non-negative integer`, { value });
    }
  }

  /**
   * The open channel for a send to `location` under `name`, or undefined: the message then takes the
   * kernel path, and this send counts toward opening a channel there (in the background).
   */
  channelFor(name: string, location: MailboxLocation, capability: Capability): OpenChannel | undefined {
    // The name service's own name stays on the kernel path until this process has a canonical alias:
    // each delivery there grants the name server the one unchecked reply (§5.2) a nameless reply
    // address needs, and a ring grants none. Replies to a named address are checked sends.
    if (this.policy.channelAfterSends === 0 || (name === nameServiceName && !this.replyNamed())) return undefined;
    const key = `${formatLocation(location)} ${name}`;
    const entry = this.open.get(key);
    if (entry !== undefined) {
      if (!entry.channel.closed) return entry;
      // Shot down or gone since the last send: this message, and the ones after it, take the kernel path.
      this.counters.fallbacks++;
      this.open.delete(key);
      return undefined;
    }
    if (
      this.opening.has(key) ||
      this.refused.has(key) ||
      this.open.size + this.opening.size >= this.policy.channelsPerProcessMax
    )
      return undefined;
    const count = (this.counts.get(key) ?? 0) + 1;
    if (count >= this.policy.channelAfterSends) {
      this.counts.delete(key);
      this.startOpening(key, name, location, capability);
    } else {
      if (!this.counts.has(key) && this.counts.size >= channelCandidatesMax)
        this.counts.delete(this.counts.keys().next().value as string);
      this.counts.set(key, count);
    }
    return undefined;
  }

  /**
   * Writes `body` into `entry`'s ring. False when the channel failed (full, shot down or gone): the
   * kernel path then takes this message (after the ring drains) and answers for it.
   */
  async trySend(entry: OpenChannel, body: MessageBody): Promise<boolean> {
    try {
      await entry.channel.send(body);
      this.counters.channelSends++;
      return true;
    } catch (error) {
      if (!isFosError(error)) throw error;
      this.counters.fallbacks++;
      if (error.code !== 'WOULD_BLOCK') {
        entry.channel.close();
        this.open.delete(entry.key);
      }
      return false;
    }
  }

  /** Closes every channel (what was written is still delivered). */
  close(): void {
    for (const entry of this.open.values()) entry.channel.close();
    this.open.clear();
  }

  private startOpening(key: string, name: string, location: MailboxLocation, capability: Capability): void {
    this.opening.add(key);
    // In the background: this send and the ones after it go by the kernel path until the channel exists.
    void this.kernel.createChannel(name, location, capability).then(
      (channel) => {
        this.opening.delete(key);
        this.open.set(key, { key, channel });
        this.counters.opened++;
      },
      () => {
        this.opening.delete(key);
        this.refused.add(key);
      },
    );
  }
}
