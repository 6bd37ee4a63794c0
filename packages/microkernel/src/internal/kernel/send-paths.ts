// The sending side of a stream (one process → one mailbox), as the sender's kernel keeps it, and the
// gate that orders the stream's two delivery paths of thesis §2.2: the kernel path (`ukSend`,
// §4.2.4) and the user-space channel. A stream switches from one path to the other only once the old
// path has drained, so messages of one stream never overtake each other.
import { locationText, type MailboxLocation } from '../../location.js';
import type { ChannelWriter, ProcessRecord, SendStream } from '../tables.js';
import type { KernelState } from './state.js';

/** The key of the caller's stream to `target` in `sendStreams`. */
export function sendStreamKey(caller: ProcessRecord, target: MailboxLocation): string {
  return `${caller.id}>${locationText(target)}`;
}

/** The caller's stream to `target`, made on first use. */
export function sendStream(state: KernelState, caller: ProcessRecord, target: MailboxLocation): SendStream {
  const key = sendStreamKey(caller, target);
  let stream = state.sendStreams.get(key);
  if (stream === undefined) {
    stream = {
      nextSequence: 0,
      refused: new Set(),
      outstanding: 0,
      idleWaiters: [],
      channel: undefined,
      gateHeld: false,
      gateQueue: [],
    };
    state.sendStreams.set(key, stream);
  }
  return stream;
}

/**
 * Takes the stream's gate in issue order and waits until the path the send takes is free to use:
 * the kernel path once the channel is drained, the channel once every kernel-path send is answered.
 * Returns undefined when the send may go at once (the common case costs no await).
 */
export function acquirePath(stream: SendStream, path: 'kernel' | 'channel'): Promise<void> | undefined {
  const mustWait = (): boolean =>
    path === 'kernel'
      ? stream.channel !== undefined && !stream.channel.ring.empty && !stream.channel.ring.closed
      : stream.outstanding > 0;
  if (!stream.gateHeld && stream.gateQueue.length === 0 && !mustWait()) {
    stream.gateHeld = true;
    return undefined;
  }
  return (async () => {
    if (stream.gateHeld) await new Promise<void>((resolve) => stream.gateQueue.push(resolve));
    stream.gateHeld = true;
    while (mustWait()) {
      const channel = stream.channel;
      if (path === 'kernel' && channel !== undefined) await waitChannelDrained(channel);
      else await new Promise<void>((resolve) => stream.idleWaiters.push(resolve));
    }
  })();
}

/** Hands the stream's gate to the next waiting send, in issue order. */
export function releasePath(stream: SendStream): void {
  const next = stream.gateQueue.shift();
  if (next !== undefined) next();
  else stream.gateHeld = false;
}

/** Resolves once the reader has taken everything written into the channel (or it closed). */
function waitChannelDrained(writer: ChannelWriter): Promise<void> {
  return new Promise((resolve) => {
    writer.drainWaiters.push(resolve);
    if (writer.ring.requestDrainNotice()) for (const wake of writer.drainWaiters.splice(0)) wake();
  });
}
