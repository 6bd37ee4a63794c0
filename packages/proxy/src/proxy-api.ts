// What the proxy of a machine offers the process that runs it, and its limits.
import type { Capability } from '@fos/microkernel';
import type { ByteLink } from './link.js';

/** Bytes waiting to leave on one connection before a send to that machine is refused with `WOULD_BLOCK`. */
export const proxyBufferedBytesMax = 8 * 1024 * 1024;
/** Deliveries from one connection waiting for this machine's kernel before the proxy stops reading it. */
export const proxyDeliveriesInFlightMax = 1024;
/** Connections one proxy keeps (authenticated or not yet introduced); one more is refused. */
export const proxyConnectionsMax = 256;
/** Time a new connection has to introduce itself (`hello`) before it is closed. */
export const proxyHelloTimeoutMs = 10_000;
/** Questions ({@link Proxy.ask}) one connection carries unanswered, each way; one more is refused. */
export const proxyAsksInFlightMax = 16;
/** Time a question waits for its reply before it fails with `TIMEOUT`. */
export const proxyAskTimeoutMs = 30_000;

/**
 * Answers a question another machine asked this one ({@link Proxy.ask}): return (or resolve) the reply,
 * or throw a `FosError` to refuse it. `question` is whatever the asker encoded: check it.
 */
export type ProxyQuestionHandler = (peer: ProxyPeer, topic: string, question: unknown) => unknown;

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** The machine's kernel capability: the proxy attaches with it. */
  readonly kernelCapability: Capability;
  /** `host:port` where this machine accepts connections, told to every peer; null (default) for none. */
  readonly listen?: string | null;
  /** The largest message carried (default `messageBytesMax` of `@fos/base`, the kernel's default). */
  readonly bytesMax?: number;
  /** Where the proxy reports closed connections and protocol faults (default: nowhere). */
  readonly log?: (line: string) => void;
  /** Answers other machines' questions (default: every question is refused with `BAD_REQUEST`). */
  readonly onQuestion?: ProxyQuestionHandler;
}

/** A machine the proxy is connected to. */
export interface ProxyPeer {
  readonly machine: string;
  /** Where that machine accepts connections, as it said in its hello (null: nowhere). */
  readonly listen: string | null;
  /** Where the link goes, as the transport says. */
  readonly remote: string;
}

/** Counters of a proxy, for tests and summaries. */
export interface ProxyStats {
  readonly connections: number;
  readonly forwarded: number;
  readonly delivered: number;
  readonly refusedFrames: number;
}

/** The machine's proxy, as the process that runs it holds it. */
export interface Proxy {
  readonly machine: string;
  /**
   * Starts a connection over an authenticated link (accepted or dialled). Resolves with the peer once
   * both sides said hello; rejects (and closes the link) with `CONFLICT` when the other machine refuses
   * this one (its name is taken there, another protocol version), `UNREACHABLE` when the link closes first.
   */
  addLink(link: ByteLink): Promise<ProxyPeer>;
  /**
   * Asks the connected machine `machine` a question about itself (not a mailbox's business: joining
   * the instance, say); resolves with its handler's reply.
   * @throws UNREACHABLE when the machine is not connected, or its connection closes first
   * @throws LIMIT_EXCEEDED past {@link proxyAsksInFlightMax} unanswered questions on the connection
   * @throws MESSAGE_TOO_LARGE when the question is larger than the proxy's `bytesMax`
   * @throws TIMEOUT after {@link proxyAskTimeoutMs}
   * @throws whatever code the other machine's handler refused it with
   */
  ask(machine: string, topic: string, question: unknown): Promise<unknown>;
  /** The machines connected now. */
  peers(): ProxyPeer[];
  stats(): ProxyStats;
  /** Detaches from the kernel and closes every connection (sends in flight fail `UNREACHABLE`). */
  close(): Promise<void>;
}
