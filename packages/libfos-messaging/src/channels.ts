// User-space channels under libfos's sends (thesis §2.2, DESIGN section 5): once a process has sent to
// one mailbox under one intended name often enough, it opens a channel there (the kernel checks name
// and capability as for ukSend) and later sends to that mailbox under that name go through the ring.
// A channel that fails (shot down, the mailbox gone, the ring full) hands the message back to the
// kernel path, which gives the refusal its sequence number and libfos its usual recovery. The kernel
// keeps one stream in order across the two paths.
import type { SendFunction } from '@fos/dispatcher';
import { FosError, formatLocation, isFosError, nameServiceName, type Channel, type SystemCalls } from '@fos/microkernel';

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

type Entry = { readonly name: string; readonly channel: Channel };

/**
 * A send function that routes through user-space channels where it pays, and through `kernelPath`
 * otherwise. `replyNamed`: true once the process's reply address has a name (then requests to the
 * name service may take a channel too). `close()` closes every channel (what was written is still
 * delivered).
 */
export function channelingSend(
  kernel: SystemCalls,
  kernelPath: SendFunction,
  policy: ChannelPolicy,
  counters: ChannelCounters,
  replyNamed: () => boolean = () => false,
): { send: SendFunction; close(): void } {
  for (const [key, value] of Object.entries(policy)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new FosError('BAD_REQUEST', `libfos limit ${key} is not a non-negative integer`, { value });
  }
  const counts = new Map<string, number>();
  const open = new Map<string, Entry>();
  const opening = new Set<string>();
  // Mailboxes a channel was refused for (another channel to the same mailbox, a bad name): kernel path only.
  const refused = new Set<string>();

  const startOpening = (key: string, name: string, destination: Parameters<SendFunction>[0]): void => {
    const { location, capability } = destination;
    if (location === undefined || capability === undefined) return;
    opening.add(key);
    // In the background: this send and the ones after it go by the kernel path until the channel exists.
    void kernel.createChannel(name, location, capability).then(
      (channel) => {
        opening.delete(key);
        open.set(key, { name, channel });
        counters.opened++;
      },
      () => {
        opening.delete(key);
        refused.add(key);
      },
    );
  };

  const send: SendFunction = async (destination, body) => {
    const { name, location, capability } = destination;
    // The name service's own name stays on the kernel path until this process has a canonical alias:
    // each delivery there grants the name server the one unchecked reply (§5.2) a nameless reply
    // address needs, and a ring grants none. Replies to a named address are checked sends.
    if (policy.channelAfterSends === 0 || name === null || (name === nameServiceName && !replyNamed()) || location === undefined || capability === undefined) {
      return kernelPath(destination, body);
    }
    const key = `${formatLocation(location)} ${name}`;
    const entry = open.get(key);
    if (entry !== undefined) {
      if (!entry.channel.closed) {
        try {
          await entry.channel.send(body);
          counters.channelSends++;
          return;
        } catch (error) {
          if (!isFosError(error)) throw error;
          // Full, shot down or gone: the kernel path takes this message (after the ring drains) and answers.
          counters.fallbacks++;
          if (error.code !== 'WOULD_BLOCK') {
            entry.channel.close();
            open.delete(key);
          }
        }
      } else {
        // Shot down or gone since the last send: this message, and the ones after it, take the kernel path.
        counters.fallbacks++;
        open.delete(key);
      }
      return kernelPath(destination, body);
    }
    if (!opening.has(key) && !refused.has(key) && open.size + opening.size < policy.channelsPerProcessMax) {
      const count = (counts.get(key) ?? 0) + 1;
      if (count >= policy.channelAfterSends) {
        counts.delete(key);
        startOpening(key, name, destination);
      } else {
        if (!counts.has(key) && counts.size >= channelCandidatesMax) counts.delete(counts.keys().next().value as string);
        counts.set(key, count);
      }
    }
    return kernelPath(destination, body);
  };

  return {
    send,
    close: () => {
      for (const entry of open.values()) entry.channel.close();
      open.clear();
    },
  };
}
