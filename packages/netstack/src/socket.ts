// The libfos netstack component: sockets for a fos process. `listen` and `connect` go to the netstack
// fleet by its name; a connection is then reached by its own name, /sys/netstack/connections/<id>,
// which the name cache routes to the member that holds it. What the member pushes (bytes, the peer's
// half-close, the end) arrives at one mailbox of this process, its socket endpoint, under a temporary
// name. A connection is a Node `Duplex`, so stock Node code (an `http.Server` fed with
// `server.emit('connection', socket)`) runs on it.
import { EventEmitter } from 'node:events';
import { Duplex } from 'node:stream';
import {
  describeValue,
  FosError,
  isFosError,
  readArgument,
  restoreErrno,
  type MessageBody,
  type Timer,
} from '@fos/base';
import type { Libfos } from '@fos/libfos-messaging';
import type { CreatedMailbox } from '@fos/microkernel';
import { z } from 'zod';
import { netErrnoCodes, netError, type NetErrno } from './errors.js';
import {
  netBacklogDefault,
  netBacklogMax,
  netHostBytesMax,
  netReceiveWindowBytes,
  netSegmentBytesMax,
} from './limits.js';
import { connectionName, netstackFleetName } from './names.js';
import {
  endpointMessageSchema,
  parseRequest,
  type ConnectResult,
  type EndpointMessage,
  type NetAddress,
} from './protocol.js';

/** Bytes received and consumed before the socket acknowledges them to its member (a quarter window). */
export const netAckBytes = netReceiveWindowBytes / 4;
/** Messages the socket endpoint's mailbox queues (pushes of every connection of the process). */
export const netEndpointQueueMessages = 1024;

/** What {@link FosNet} takes. */
export interface FosNetOptions {
  /** The fleet's indirect name (default `/sys/netstack`). */
  readonly fleet?: string;
  /** The netif to listen and connect through (default: the one of the member the fleet picks). */
  readonly netif?: string;
}

const optionsSchema = z.strictObject({
  fleet: z.string().min(1).max(255).optional(),
  netif: z.string().min(1).max(255).optional(),
});

/** What {@link FosNet.listen} takes. */
export interface FosListenOptions {
  /** The address to listen on (default `127.0.0.1`). */
  readonly host?: string;
  /** Connections queued for `accept()` (default {@link netBacklogDefault}); past it they are refused. */
  readonly backlog?: number;
}

const listenSchema = z.strictObject({
  port: z.number().int().min(0).max(65_535),
  host: z.string().min(1).max(netHostBytesMax).optional(),
  backlog: z.number().int().min(1).max(netBacklogMax).optional(),
});

const connectSchema = z.strictObject({
  host: z.string().min(1).max(netHostBytesMax),
  port: z.number().int().min(1).max(65_535),
});

/** Counters of a {@link FosNet}. */
export interface FosNetStats {
  readonly listening: number;
  readonly open: number;
  readonly accepted: number;
  readonly connected: number;
  readonly refused: number;
  readonly bytesRead: number;
  readonly bytesWritten: number;
}

/**
 * A process's sockets: the netstack component of libfos. Errors are `FosError`s whose
 * `details.errno` is the code a `node:net` user expects (`ECONNREFUSED`, `ECONNRESET`, `EADDRINUSE`,
 * `EPIPE`, `ENOTCONN`, `EINVAL`, `ETIMEDOUT`, `EMFILE`, `ECONNABORTED`).
 *
 * @example
 * const net = new FosNet(libfos);
 * const server = await net.listen(8080);
 * server.on('connection', (socket) => httpServer.emit('connection', socket));
 */
export class FosNet {
  readonly #libfos: Libfos;
  readonly #fleet: string;
  readonly #netif: string | undefined;
  readonly #servers = new Map<number, FosServer>();
  readonly #sockets = new Map<string, FosSocket>();
  #endpoint: Promise<{ name: string; mailbox: CreatedMailbox; nameCapability: string }> | undefined;
  #closed = false;
  readonly #counters = { accepted: 0, connected: 0, refused: 0, bytesRead: 0, bytesWritten: 0 };

  /** @throws BAD_REQUEST for options it cannot honour, naming the option */
  constructor(libfos: Libfos, options: FosNetOptions = {}) {
    const valid = parseRequest('FosNet', optionsSchema, options as MessageBody);
    this.#libfos = libfos;
    this.#fleet = valid.fleet ?? netstackFleetName;
    this.#netif = valid.netif;
    // When the process ends (exit, crash, its machine shutting down), its listeners and connections end
    // with it here too: no socket's timer outlives it (the fleet learns from netif and the kernel).
    void libfos.context.exited.then(() => this.close()).catch(() => undefined);
  }

  /**
   * Listens on `port` (0: the host picks one; see `server.address()`).
   * @throws EADDRINUSE (CONFLICT) when the port is taken; EINVAL (BAD_REQUEST) for a bad port or option
   */
  async listen(port: number, options: FosListenOptions = {}): Promise<FosServer> {
    const valid = checked('listen', listenSchema, () => ({ ...options, port }));
    const endpoint = await this.endpointName();
    const host = valid.host ?? '127.0.0.1';
    const answer = (await this.#request({
      op: 'listen',
      port: valid.port,
      host,
      endpoint,
      ...(this.#netif === undefined ? {} : { netif: this.#netif }),
    })) as { port: number; host: string };
    const server = new FosServer(this, answer.port, answer.host, valid.backlog ?? netBacklogDefault);
    this.#servers.set(answer.port, server);
    return server;
  }

  /**
   * Opens a connection to `host`:`port` through netif.
   * @throws ECONNREFUSED (UNREACHABLE) when nothing listens there; ETIMEDOUT (TIMEOUT); EINVAL (BAD_REQUEST)
   */
  async connect(host: string, port: number): Promise<FosSocket> {
    const valid = checked('connect', connectSchema, () => ({ host, port }));
    const endpoint = await this.endpointName();
    const opened = (await this.#request({
      op: 'connect',
      host: valid.host,
      port: valid.port,
      endpoint,
      ...(this.#netif === undefined ? {} : { netif: this.#netif }),
    })) as ConnectResult;
    const socket = new FosSocket(this, opened.conn, opened.local, opened.remote);
    this.#sockets.set(opened.conn, socket);
    this.#counters.connected++;
    // The member pushes nothing before it is told that this process holds the connection.
    this.tell(opened.conn, { op: 'attach', conn: opened.conn });
    return socket;
  }

  /** Connections open now. */
  get openConnections(): number {
    return this.#sockets.size;
  }

  stats(): FosNetStats {
    return { listening: this.#servers.size, open: this.#sockets.size, ...this.#counters };
  }

  /** Closes every listener and connection of this process and gives up its socket endpoint. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#servers.values()].map((server) => server.close().catch(() => undefined)));
    for (const socket of [...this.#sockets.values()]) socket.destroy();
    const endpoint = await this.#endpoint?.catch(() => undefined);
    if (endpoint !== undefined)
      await this.#libfos.nameService
        .unregister({ name: endpoint.name, capability: endpoint.nameCapability })
        .catch(() => undefined);
  }

  // ---- for FosServer and FosSocket -------------------------------------------------------------------------

  /** @internal A request to the fleet (listen, unlisten, connect), its POSIX code restored. */
  async request(body: MessageBody): Promise<MessageBody> {
    return this.#request(body);
  }

  async #request(body: MessageBody): Promise<MessageBody> {
    try {
      return await this.#libfos.dispatcher.spawnThread(
        'net',
        async () => (await this.#libfos.call(this.#fleet, body)).body,
      );
    } catch (error) {
      throw restoreErrno(error, netErrnoCodes);
    }
  }

  /** @internal A request about one connection, to its name (routed by the name cache to its member). */
  async onConnection(conn: string, body: MessageBody): Promise<void> {
    try {
      await this.#libfos.dispatcher.spawnThread('net', () => this.#libfos.call(connectionName(conn), body));
    } catch (error) {
      throw restoreErrno(error, netErrnoCodes);
    }
  }

  /** @internal A one-way message about one connection (ack, close). */
  tell(conn: string, body: MessageBody): void {
    void this.#libfos.dispatcher
      .spawnThread('net', () => this.#libfos.send(connectionName(conn), body))
      .catch(() => undefined);
  }

  /** @internal */
  forget(conn: string, socket: FosSocket): void {
    if (this.#sockets.get(conn) === socket) this.#sockets.delete(conn);
    // The name may come back for another connection of the same 4-tuple, held by another member.
    this.#libfos.cache.invalidate(connectionName(conn));
  }

  /** @internal */
  serverClosed(port: number, server: FosServer): void {
    if (this.#servers.get(port) === server) this.#servers.delete(port);
  }

  /** @internal */
  count(what: 'accepted' | 'refused' | 'bytesRead' | 'bytesWritten', amount = 1): void {
    this.#counters[what] += amount;
  }

  /** @internal The machine's clock (timeouts of sockets). */
  setTimer(delayMs: number, callback: () => void): Timer {
    return this.#libfos.context.clock.setTimer(delayMs, callback);
  }

  /** @internal The socket endpoint: one mailbox of this process under a temporary name, made on first use. */
  endpointName(): Promise<string> {
    if (this.#closed) return Promise.reject(new FosError('SHUTDOWN', 'this FosNet is closed'));
    this.#endpoint ??= this.#libfos.dispatcher.spawnThread('net-endpoint', async (thread) => {
      const mailbox = await this.#libfos.createMailbox({ queueMessagesMax: netEndpointQueueMessages });
      this.#libfos.serve(mailbox.location, { handler: (request) => this.#handle(request.body) });
      const registered = await this.#libfos.nameService.registerTemporary({
        location: mailbox.location,
        publishedCapability: mailbox.capability,
      });
      await thread.waitFor(this.#libfos.kernel.addName(mailbox.location, registered.name));
      return { name: registered.name, mailbox, nameCapability: registered.nameCapability };
    });
    return this.#endpoint.then((endpoint) => endpoint.name);
  }

  /**
   * What members push: handled at once, in arrival order, as code outside every dispatcher thread: it
   * reaches application code (`'data'` and `'connection'` listeners, an HTTP server's handlers), whose
   * libfos calls must run in threads of their own, never park the endpoint's.
   */
  #handle(body: MessageBody): MessageBody {
    const message = parseRequest('socket endpoint', endpointMessageSchema, body);
    return this.#libfos.dispatcher.outsideThreads(() => {
      if (message.op !== 'incoming') {
        this.#deliver(message);
        return null;
      }
      const server = this.#servers.get(message.port);
      if (server === undefined || !server.takes())
        throw netError(
          'ECONNREFUSED',
          server === undefined
            ? `nothing of this process listens on port ${message.port}`
            : `the backlog of port ${message.port} is full (${server.backlog})`,
          message.port,
        );
      const socket = new FosSocket(this, message.conn, message.local, message.remote);
      this.#sockets.set(message.conn, socket);
      server.enqueue(socket);
      return null;
    });
  }

  #deliver(message: Exclude<EndpointMessage, { op: 'incoming' }>): void {
    const socket = this.#sockets.get(message.conn);
    // A connection this process closed already: what was still on its way is dropped.
    if (socket === undefined) return;
    if (message.op === 'data') socket.deliver(message.bytes);
    else if (message.op === 'eof') socket.deliverEof();
    else socket.deliverClosed(message.error);
  }
}

/** A listening port of a fos process, like `net.Server`: `accept()`, or `'connection'` events. */
export class FosServer extends EventEmitter<{ connection: [FosSocket]; close: [] }> {
  readonly #net: FosNet;
  readonly #queue: FosSocket[] = [];
  readonly #waiting: { resolve: (socket: FosSocket) => void; reject: (error: Error) => void }[] = [];
  #closed = false;
  /** The port listened on. */
  readonly port: number;
  readonly host: string;
  /** Connections queued for `accept()` at most. */
  readonly backlog: number;

  /** @internal Use {@link FosNet.listen}. */
  constructor(net: FosNet, port: number, host: string, backlog: number) {
    super();
    this.#net = net;
    this.port = port;
    this.host = host;
    this.backlog = backlog;
  }

  /** Like `net.Server.address()`. */
  address(): { address: string; family: string; port: number } {
    return { address: this.host, family: this.host.includes(':') ? 'IPv6' : 'IPv4', port: this.port };
  }

  /** The next connection (waits for one). @throws ECONNABORTED once the server is closed */
  accept(): Promise<FosSocket> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#closed)
      return Promise.reject(netError('ECONNABORTED', `the server on port ${this.port} is closed`, this.port));
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<FosSocket, void, undefined> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (this.#closed) return;
        throw error;
      }
    }
  }

  /** Stops listening; queued connections are destroyed, waiting `accept()`s rejected. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#net.serverClosed(this.port, this);
    for (const socket of this.#queue.splice(0)) socket.destroy();
    for (const waiter of this.#waiting.splice(0))
      waiter.reject(netError('ECONNABORTED', `the server on port ${this.port} is closed`, this.port));
    try {
      await this.#net.request({ op: 'unlisten', port: this.port, endpoint: await this.#endpoint() });
    } finally {
      this.emit('close');
    }
  }

  /** @internal */
  takes(): boolean {
    return (
      !this.#closed &&
      (this.listenerCount('connection') > 0 || this.#waiting.length > 0 || this.#queue.length < this.backlog)
    );
  }

  /** @internal */
  enqueue(socket: FosSocket): void {
    this.#net.count('accepted');
    if (this.listenerCount('connection') > 0) {
      this.emit('connection', socket);
      return;
    }
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter.resolve(socket);
    else this.#queue.push(socket);
  }

  #endpoint(): Promise<string> {
    return this.#net.endpointName();
  }
}

/**
 * One connection of a fos process, a Node `Duplex`: what the peer sends is read, what is written goes
 * to the peer; `end()` half-closes, `destroy()` resets. Its error, when it ends with one, is a
 * `FosError` with `details.errno` (`ECONNRESET`, `ECONNABORTED`, `EPIPE`).
 */
export class FosSocket extends Duplex {
  readonly #net: FosNet;
  /** The connection's id (the last part of its name). */
  readonly conn: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteFamily: string;
  #unacked = 0;
  #peerGone = false;
  #timeoutMs = 0;
  #timer: Timer | undefined;
  #bytesRead = 0;
  #bytesWritten = 0;

  /** @internal Use {@link FosNet.connect} or {@link FosServer.accept}. */
  constructor(net: FosNet, conn: string, local: NetAddress, remote: NetAddress) {
    super({ allowHalfOpen: true });
    this.#net = net;
    this.conn = conn;
    this.localAddress = local.address;
    this.localPort = local.port;
    this.remoteAddress = remote.address;
    this.remotePort = remote.port;
    this.remoteFamily = remote.address.includes(':') ? 'IPv6' : 'IPv4';
  }

  /** The connection's name: `/sys/netstack/connections/<id>`. */
  get name(): string {
    return connectionName(this.conn);
  }

  get bytesRead(): number {
    return this.#bytesRead;
  }

  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** Like `net.Socket.address()`. */
  address(): { address: string; family: string; port: number } {
    return { address: this.localAddress, family: this.remoteFamily, port: this.localPort };
  }

  /** Like `net.Socket.setTimeout`: `'timeout'` after `ms` without traffic (0: never). */
  setTimeout(ms: number, callback?: () => void): this {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0)
      throw netError('EINVAL', `setTimeout: ${describeValue(ms)} is not a number of milliseconds >= 0`, ms);
    if (callback !== undefined) this.once('timeout', callback);
    this.#timeoutMs = ms;
    this.#touch();
    return this;
  }

  /** Accepted for `net.Socket` compatibility: segments go out as they are written. */
  setNoDelay(): this {
    return this;
  }

  /** Accepted for `net.Socket` compatibility (keep-alive probes are the host's business). */
  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  /** @internal Bytes pushed by the member. */
  deliver(bytes: Uint8Array): void {
    this.#touch();
    this.#bytesRead += bytes.length;
    this.#net.count('bytesRead', bytes.length);
    this.#unacked += bytes.length;
    if (this.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))) this.#ack(false);
  }

  /** @internal The peer half-closed. */
  deliverEof(): void {
    this.#touch();
    this.push(null);
  }

  /** @internal The connection ended at the wire (`error`: how, when not cleanly). */
  deliverClosed(error: string | undefined): void {
    this.#peerGone = true;
    this.#net.forget(this.conn, this);
    if (error === undefined) {
      // Both sides ended at the wire: what is buffered can still be read, then the stream closes.
      this.push(null);
      if (!this.writableEnded) this.end();
      return;
    }
    const errno: NetErrno = error.startsWith('ECONNABORTED') ? 'ECONNABORTED' : 'ECONNRESET';
    this.destroy(netError(errno, `connection ${this.conn}: ${error.replace(/^ECONNABORTED: /, '')}`, this.conn));
  }

  override _read(): void {
    this.#ack(true);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#writeAll([chunk]).then(() => callback(), callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    this.#writeAll(chunks.map((item) => item.chunk)).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (this.#peerGone) {
      callback();
      return;
    }
    this.#net.onConnection(this.conn, { op: 'shutdown', conn: this.conn }).then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#timer?.cancel();
    if (!this.#peerGone) {
      this.#peerGone = true;
      this.#net.tell(this.conn, { op: 'close', conn: this.conn });
      this.#net.forget(this.conn, this);
    }
    callback(error);
  }

  /** Writes chunks as segments of at most {@link netSegmentBytesMax}, each answered once netif wrote it. */
  async #writeAll(chunks: Buffer[]): Promise<void> {
    this.#touch();
    const total = chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const bytes = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, total);
    for (let offset = 0; offset < bytes.length; offset += netSegmentBytesMax) {
      if (this.#peerGone) throw netError('EPIPE', `connection ${this.conn} is closed`, this.conn);
      const segment = new Uint8Array(bytes.subarray(offset, offset + netSegmentBytesMax));
      await this.#net
        .onConnection(this.conn, { op: 'send', conn: this.conn, bytes: segment })
        .catch((error: unknown) => {
          throw isFosError(error) && error.details.errno === undefined
            ? netError('EPIPE', `connection ${this.conn} cannot be written: ${error.message}`, this.conn)
            : error;
        });
      this.#bytesWritten += segment.length;
      this.#net.count('bytesWritten', segment.length);
    }
  }

  /** Acknowledges consumed bytes to the member (a quarter window at a time, or all when asked to read). */
  #ack(reading: boolean): void {
    if (this.#peerGone || this.#unacked === 0 || (!reading && this.#unacked < netAckBytes)) return;
    const bytes = this.#unacked;
    this.#unacked = 0;
    this.#net.tell(this.conn, { op: 'ack', conn: this.conn, bytes });
  }

  #touch(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#timeoutMs > 0 && !this.destroyed)
      this.#timer = this.#net.setTimer(this.#timeoutMs, () => this.emit('timeout'));
  }
}

/** The arguments of `operation`, read (a throwing getter is refused too) and checked; `EINVAL` otherwise. */
function checked<T>(operation: string, schema: z.ZodType<T>, read: () => unknown): T {
  try {
    return parseRequest(operation, schema, readArgument(undefined, `${operation}'s arguments`, read) as MessageBody);
  } catch (error) {
    throw netError('EINVAL', (error as Error).message.replace(/^BAD_REQUEST: /, ''), (error as FosError).value);
  }
}
