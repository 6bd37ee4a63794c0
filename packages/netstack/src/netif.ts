// The network interface service (netif, thesis §4.1): one per machine, the only process that touches
// host sockets. It shares no connection table with the netstack fleet. A new connection is handed to
// the fleet through its indirect name (load-balanced); the member that takes it registers the
// connection's name, and from then on netif sends every segment to that name, computed from the
// 4-tuple: libfos's name cache does the routing. Until the member has answered, the segments wait here,
// in order.
import { hasFosErrorCode, type MessageBody } from '@fos/base';
import type { Thread } from '@fos/dispatcher';
import { createLibfos, type Libfos } from '@fos/libfos-messaging';
import { isCapability, type Capability, type MailboxLocation, type ProcessContext } from '@fos/microkernel';
import { z } from 'zod';
import { netError } from './errors.js';
import { hostLog } from './host-log.js';
import {
  netConnectionsLimitMax,
  netConnectionsMax,
  netHandoverAttemptsMax,
  netHandoversInFlightMax,
  netListenersMax,
  netPendingBytesMax,
  netSegmentBytesMax,
} from './limits.js';
import { connectionId, connectionName, netstackFleetName } from './names.js';
import { netifRequestSchema, parseRequest, type NetifInfo, type NetifRequest } from './protocol.js';
import { nodeWire, type Wire, type WireListener, type WireSocket } from './wire.js';

/** Log lines a netif keeps for `info` (the newest; older ones only went to its log). */
export const netifLogLinesKept = 32;
/** How long an outbound connection may take to be established, by default. */
export const netConnectTimeoutMsDefault = 10_000;

const netifArgsSchema = z.strictObject({
  /** The netif's direct name (`/sys/netif/<machine>`). */
  name: z.string().min(1).max(255),
  /** A namespace capability that covers the name. */
  capability: z.custom<Capability>((value) => isCapability(value), 'is not a capability'),
  /** The fleet's indirect name (default `/sys/netstack`). */
  fleet: z.string().min(1).max(255).optional(),
  /** Connections held at once (default {@link netConnectionsMax}); one more is refused at once. */
  connectionsMax: z.number().int().min(1).max(netConnectionsLimitMax).optional(),
  connectTimeoutMs: z.number().int().min(1).max(600_000).optional(),
  /** Keep log lines out of stderr (they stay in `info`). */
  quiet: z.boolean().optional(),
});

/** What {@link netif} takes. */
export type NetifArgs = z.infer<typeof netifArgsSchema>;

/** What {@link netif} returns to its spawner. */
export type NetifResult = { readonly name: string; readonly location: MailboxLocation };

/** What netif sends to a connection's name, numbered per connection. */
type Segment =
  | { readonly op: 'data'; readonly conn: string; readonly seq: number; readonly bytes: Uint8Array }
  | { readonly op: 'eof'; readonly conn: string; readonly seq: number }
  | { readonly op: 'closed'; readonly conn: string; readonly seq: number; readonly error?: string };

type Held = {
  readonly id: string;
  readonly name: string;
  readonly socket: WireSocket;
  /** The endpoint of the process listening where it was accepted (undefined: an outbound connection). */
  readonly listener: string | undefined;
  /** The next segment's number. */
  seq: number;
  /** The member has the connection's name registered: segments go out as they come. */
  ready: boolean;
  /** Segments waiting for `ready`, in order. */
  readonly pending: Segment[];
  pendingBytes: number;
  pausedForPending: boolean;
  pausedByMember: boolean;
  /** The host socket is gone (its `closed` segment is out or waiting). */
  closed: boolean;
};

/** netif, as a process entry (`entry: 'netif'`): the host's TCP through `node:net`. */
export async function netif(context: ProcessContext, args: MessageBody): Promise<MessageBody> {
  return serveNetif(context, args, nodeWire());
}

/** netif over any {@link Wire} (a simulated one under SimFabric). */
export async function serveNetif(context: ProcessContext, args: MessageBody, wire: Wire): Promise<MessageBody> {
  const parsed = parseRequest('netif', netifArgsSchema, args);
  const libfos = await createLibfos(context);
  const service = new NetifService(context, libfos, parsed, wire);
  // The host's sockets go with the process, however it ends (a listening socket would keep the host
  // process alive and its port taken).
  void context.exited.then(() => service.closeAll());
  const mailbox = await libfos.createMailbox();
  libfos.serve(mailbox.location, { handler: (request, thread) => service.handle(request.body, thread) });
  await libfos.aliasRegisterDirect(parsed.name, mailbox, parsed.capability);
  const result: NetifResult = { name: parsed.name, location: mailbox.location };
  return { ...result };
}

class NetifService {
  readonly #connections = new Map<string, Held>();
  readonly #listeners = new Map<number, { readonly listener: string; readonly socket: WireListener }>();
  readonly #handovers: Held[] = [];
  readonly #log: string[] = [];
  readonly #connectionsMax: number;
  readonly #fleet: string;
  #handoversInFlight = 0;
  /** The process ended: nothing more is reported. */
  #stopped = false;
  #accepted = 0;
  #connected = 0;
  #refused = 0;
  #segments = 0;

  constructor(
    private readonly context: ProcessContext,
    private readonly libfos: Libfos,
    private readonly args: NetifArgs,
    private readonly wire: Wire,
  ) {
    this.#connectionsMax = args.connectionsMax ?? netConnectionsMax;
    this.#fleet = args.fleet ?? netstackFleetName;
  }

  /** Closes every listening socket and connection on the host. */
  closeAll(): void {
    this.#stopped = true;
    for (const { socket } of this.#listeners.values()) socket.close();
    this.#listeners.clear();
    for (const held of this.#connections.values()) held.socket.destroy();
    this.#connections.clear();
  }

  async handle(body: MessageBody, thread: Thread): Promise<MessageBody> {
    const request = parseRequest(`netif ${this.args.name}`, netifRequestSchema, body);
    return this.#answer(request, thread);
  }

  async #answer(request: NetifRequest, thread: Thread): Promise<MessageBody> {
    switch (request.op) {
      case 'listen':
        return this.#listen(request.port, request.host, request.listener, thread);
      case 'unlisten': {
        const held = this.#listeners.get(request.port);
        if (held === undefined || held.listener !== request.listener)
          throw netError('ENOTCONN', `port ${request.port} is not listened on by ${request.listener}`, request.port);
        this.#listeners.delete(request.port);
        held.socket.close();
        return null;
      }
      case 'connect':
        return this.#connect(request.host, request.port, thread);
      case 'ready': {
        const held = this.#held(request.conn);
        this.#ready(held);
        return null;
      }
      case 'write': {
        const held = this.#held(request.conn, 'EPIPE');
        await thread.waitFor(
          new Promise<void>((resolve, reject) =>
            held.socket.write(request.bytes, (error) =>
              error === undefined
                ? resolve()
                : reject(
                    netError('EPIPE', `connection ${request.conn} cannot be written: ${error.message}`, request.conn),
                  ),
            ),
          ),
        );
        return null;
      }
      // Ending, resetting, pausing a connection that is gone already does nothing (it raced its end).
      case 'end':
        this.#connections.get(request.conn)?.socket.end();
        return null;
      case 'destroy':
        this.#connections.get(request.conn)?.socket.destroy();
        return null;
      case 'pause': {
        const held = this.#connections.get(request.conn);
        if (held !== undefined) {
          held.pausedByMember = true;
          held.socket.pause();
        }
        return null;
      }
      case 'resume': {
        const held = this.#connections.get(request.conn);
        if (held !== undefined) {
          held.pausedByMember = false;
          if (!held.pausedForPending) held.socket.resume();
        }
        return null;
      }
      case 'info':
        return this.#info();
    }
  }

  #info(): MessageBody {
    const info: NetifInfo = {
      netif: this.args.name,
      connections: this.#connections.size,
      listeners: this.#listeners.size,
      accepted: this.#accepted,
      connected: this.#connected,
      refused: this.#refused,
      segments: this.#segments,
    };
    return { ...info, log: [...this.#log] };
  }

  #held(conn: string, errno: 'ENOTCONN' | 'EPIPE' = 'ENOTCONN'): Held {
    const held = this.#connections.get(conn);
    if (held === undefined || held.closed)
      throw netError(errno, `connection ${conn} is not open at ${this.args.name}`, conn);
    return held;
  }

  async #listen(port: number, host: string, listener: string, thread: Thread): Promise<MessageBody> {
    if (this.#listeners.has(port))
      throw netError(
        'EADDRINUSE',
        `port ${port} is listened on already (by ${this.#listeners.get(port)?.listener})`,
        port,
      );
    if (this.#listeners.size >= netListenersMax)
      throw netError(
        'EMFILE',
        `netif ${this.args.name} has netListenersMax (${netListenersMax}) listening ports`,
        port,
      );
    const socket = await thread.waitFor(
      this.wire.listen(port, host, (accepted) => this.context.guard(() => this.#onAccepted(accepted, listener))),
    );
    if (this.#listeners.has(socket.port)) {
      socket.close();
      throw netError('EADDRINUSE', `port ${socket.port} is listened on already`, socket.port);
    }
    this.#listeners.set(socket.port, { listener, socket });
    return { port: socket.port, host: socket.host };
  }

  /** A connection accepted on a listening port: held here, handed to the fleet. */
  #onAccepted(socket: WireSocket, listener: string): void {
    const held = this.#take(socket, listener);
    if (held === undefined) return;
    this.#accepted++;
    this.#handovers.push(held);
    this.#pumpHandovers();
  }

  /** Hands waiting connections to the fleet, at most {@link netHandoversInFlightMax} at once. */
  #pumpHandovers(): void {
    while (this.#handoversInFlight < netHandoversInFlightMax && this.#handovers.length > 0) {
      const held = this.#handovers.shift() as Held;
      if (held.closed && held.pending.length === 0) continue;
      this.#handoversInFlight++;
      const request = {
        op: 'incoming',
        conn: held.id,
        listener: held.listener ?? '',
        netif: this.args.name,
        local: { ...held.socket.local },
        remote: { ...held.socket.remote },
      };
      void this.#handOver(request).then(
        () => {
          this.#handoversInFlight--;
          this.#ready(held);
          this.#pumpHandovers();
        },
        (error: unknown) => {
          this.#handoversInFlight--;
          if (this.#stopped) return;
          this.#logLine(
            `refused connection ${held.id} from ${address(held.socket.remote)}: ${(error as Error).message}`,
          );
          this.#drop(held);
          this.#pumpHandovers();
        },
      );
    }
  }

  /**
   * One hand-over to the fleet. A member that is leaving answers `SHUTDOWN`: the cached pick of the
   * fleet's name goes and another member is asked, a few times.
   */
  async #handOver(request: MessageBody): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.libfos.call(this.#fleet, request);
        return;
      } catch (error) {
        if (!hasFosErrorCode(error, 'SHUTDOWN') || attempt >= netHandoverAttemptsMax) throw error;
        this.libfos.cache.invalidate(this.#fleet);
      }
    }
  }

  async #connect(host: string, port: number, thread: Thread): Promise<MessageBody> {
    if (this.#connections.size >= this.#connectionsMax)
      throw netError(
        'EMFILE',
        `netif ${this.args.name} holds connectionsMax (${this.#connectionsMax}) connections`,
        port,
      );
    const socket = await thread.waitFor(
      this.wire.connect(host, port, this.args.connectTimeoutMs ?? netConnectTimeoutMsDefault),
    );
    const held = this.#take(socket, undefined);
    if (held === undefined) throw netError('EMFILE', `netif ${this.args.name} cannot hold another connection`, port);
    this.#connected++;
    return { conn: held.id, local: { ...socket.local }, remote: { ...socket.remote } };
  }

  /** Holds a new connection (not ready: its segments wait) or refuses it at once. */
  #take(socket: WireSocket, listener: string | undefined): Held | undefined {
    const id = connectionId(socket.remote, socket.local);
    if (this.#connections.size >= this.#connectionsMax || this.#connections.has(id)) {
      this.#refused++;
      this.#logLine(
        this.#connections.has(id)
          ? `refused a connection from ${address(socket.remote)} to ${address(socket.local)}: its 4-tuple is held already`
          : `refused a connection from ${address(socket.remote)} to ${address(socket.local)}: connectionsMax (${this.#connectionsMax}) connections are open`,
      );
      socket.destroy();
      return undefined;
    }
    const held: Held = {
      id,
      name: connectionName(id),
      socket,
      listener,
      seq: 0,
      ready: false,
      pending: [],
      pendingBytes: 0,
      pausedForPending: false,
      pausedByMember: false,
      closed: false,
    };
    this.#connections.set(id, held);
    socket.start({
      data: (bytes) =>
        this.context.guard(() => {
          for (let offset = 0; offset < bytes.length; offset += netSegmentBytesMax)
            this.#segment(held, {
              op: 'data',
              conn: id,
              seq: held.seq++,
              bytes: bytes.slice(offset, offset + netSegmentBytesMax),
            });
        }),
      end: () => this.context.guard(() => this.#segment(held, { op: 'eof', conn: id, seq: held.seq++ })),
      close: (error) =>
        this.context.guard(() => {
          held.closed = true;
          this.#segment(
            held,
            error === undefined
              ? { op: 'closed', conn: id, seq: held.seq++ }
              : { op: 'closed', conn: id, seq: held.seq++, error: error.message.slice(0, 512) },
          );
        }),
    });
    return held;
  }

  /** A segment of `held`: out to the connection's name when its member is ready, held in order otherwise. */
  #segment(held: Held, segment: Segment): void {
    this.#segments++;
    if (!held.ready) {
      held.pending.push(segment);
      held.pendingBytes += segment.op === 'data' ? segment.bytes.length : 0;
      if (held.pendingBytes > netPendingBytesMax && !held.pausedForPending) {
        held.pausedForPending = true;
        held.socket.pause();
      }
      return;
    }
    this.#send(held, segment);
  }

  #ready(held: Held): void {
    if (held.ready) return;
    held.ready = true;
    for (const segment of held.pending.splice(0)) this.#send(held, segment);
    held.pendingBytes = 0;
    if (held.pausedForPending) {
      held.pausedForPending = false;
      if (!held.pausedByMember) held.socket.resume();
    }
  }

  /** Sends one segment to the connection's name (libfos keeps the order of sends to one name). */
  #send(held: Held, segment: Segment): void {
    const last = segment.op === 'closed';
    // In a thread of its own: a handler's thread (`ready`) must not park in a send it does not await.
    const sent = this.libfos.dispatcher
      .spawnThread('segment', () => this.libfos.send(held.name, { ...segment }))
      .catch((error: unknown) => {
        // The last segment of a connection its owner closed first: its name went already. A machine
        // shutting down is no news either.
        if (last || this.#stopped || hasFosErrorCode(error, 'SHUTDOWN') || this.#connections.get(held.id) !== held)
          return;
        // The connection's member is gone (it crashed, or the name went): the connection cannot go
        // on, and its name goes too (the member cannot remove it any more).
        this.#logLine(`connection ${held.id} lost its member: ${(error as Error).message}`);
        held.socket.destroy();
        held.closed = true;
        this.#forget(held);
        void this.libfos.dispatcher
          .spawnThread('unregister', () => this.libfos.unregisterName(held.name, this.args.capability))
          .catch(() => undefined);
      });
    if (last) void sent.then(() => this.#forget(held));
  }

  /** A connection the fleet refused or never took: closed on the wire and forgotten. */
  #drop(held: Held): void {
    held.pending.length = 0;
    held.socket.destroy();
    held.closed = true;
    this.#forget(held);
  }

  #forget(held: Held): void {
    if (this.#connections.get(held.id) === held) this.#connections.delete(held.id);
    // The name may come back for another connection of the same 4-tuple, at another member.
    this.libfos.cache.invalidate(held.name);
  }

  #logLine(line: string): void {
    const text = `netif ${this.args.name}: ${line}`;
    this.#log.push(text);
    if (this.#log.length > netifLogLinesKept) this.#log.shift();
    if (this.args.quiet !== true) hostLog(text);
  }
}

function address(end: { address: string; port: number }): string {
  return end.address.includes(':') ? `[${end.address}]:${end.port}` : `${end.address}:${end.port}`;
}
