// The wire: what netif owns. On a real machine it is `node:net` (host listening sockets, accepted and
// connected sockets); under simulation a seeded, in-memory wire (testing/sim-wire.ts) stands in, so
// that the routing by name runs on SimFabric exactly as it runs on the host.
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { netError } from './errors.js';

/** One end of a TCP connection as netif sees it. */
export interface WireAddress {
  readonly address: string;
  readonly port: number;
}

/** What a wire socket reports; each callback runs as netif (inside its process guard). */
export interface WireSocketEvents {
  /** Bytes arrived, in order. */
  data(bytes: Uint8Array): void;
  /** The peer half-closed its sending side (FIN). */
  end(): void;
  /** The socket is gone: `error` when it ended with one (a reset, a timeout). Called once, last. */
  close(error: Error | undefined): void;
}

/** An established connection on the wire. */
export interface WireSocket {
  readonly local: WireAddress;
  readonly remote: WireAddress;
  /** Starts reporting events (a socket is paused and silent until then). */
  start(events: WireSocketEvents): void;
  /** Writes bytes; `done` runs once they are handed to the host (with an error when they cannot be). */
  write(bytes: Uint8Array, done: (error?: Error) => void): void;
  /** Half-closes the sending side (FIN once the writes are out). */
  end(): void;
  /**
   * Ends the connection at once. On the host this is `socket.destroy()`, not `resetAndDestroy()`: a
   * worker thread holding a socket reset that way was seen never to finish terminating (one shutdown
   * in three hung on worker.terminate()), so the peer sees the connection close, not a reset.
   */
  destroy(): void;
  /** Stops reading from the host (flow control); {@link resume} reads again. */
  pause(): void;
  resume(): void;
}

/** A listening port on the wire. */
export interface WireListener {
  /** The port it listens on (the one the host picked when 0 was asked). */
  readonly port: number;
  readonly host: string;
  close(): void;
}

/** The host's network, as netif uses it. */
export interface Wire {
  /**
   * Listens on `host`:`port`; every connection accepted there is handed to `accepted`, paused.
   * @throws CONFLICT (errno EADDRINUSE) when the port is taken on the host
   */
  listen(port: number, host: string, accepted: (socket: WireSocket) => void): Promise<WireListener>;
  /**
   * Opens a connection to `host`:`port`, paused.
   * @throws UNREACHABLE (errno ECONNREFUSED) when nothing listens; TIMEOUT (ETIMEDOUT) past `timeoutMs`
   */
  connect(host: string, port: number, timeoutMs: number): Promise<WireSocket>;
}

/** The host's own TCP through `node:net`: the wire of netif on every real fabric. */
export function nodeWire(): Wire {
  return {
    listen: (port, host, accepted) =>
      new Promise<WireListener>((resolve, reject) => {
        // Half-open allowed: the owning process decides when its side ends. Paused on connect: no
        // byte is read before netif has taken the connection on.
        const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true }, (socket) => {
          const wrapped = nodeSocket(socket);
          if (wrapped !== undefined) accepted(wrapped);
        });
        server.once('error', (error: NodeJS.ErrnoException) =>
          reject(
            error.code === 'EADDRINUSE'
              ? netError('EADDRINUSE', `port ${port} on ${host} is taken on the host`, port)
              : netError('EINVAL', `cannot listen on ${host}:${port}: ${error.message}`, port),
          ),
        );
        server.listen({ port, host, backlog: 4096 }, () => {
          const address = server.address();
          const actual = typeof address === 'object' && address !== null ? address.port : port;
          server.on('error', () => undefined);
          resolve({ port: actual, host, close: () => server.close() });
        });
      }),
    connect: (host, port, timeoutMs) =>
      new Promise<WireSocket>((resolve, reject) => {
        const socket = netConnect({ host, port, allowHalfOpen: true, noDelay: true });
        socket.pause();
        const timer = setTimeout(() => {
          socket.destroy();
          reject(netError('ETIMEDOUT', `connecting to ${host}:${port} took longer than ${timeoutMs} ms`, port));
        }, timeoutMs);
        socket.once('error', (error: NodeJS.ErrnoException) => {
          clearTimeout(timer);
          reject(
            error.code === 'ECONNREFUSED'
              ? netError('ECONNREFUSED', `nothing listens on ${host}:${port}`, port)
              : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
                ? netError('ENOTFOUND', `the host name ${host} does not resolve`, host)
                : netError('ECONNRESET', `connecting to ${host}:${port} failed: ${error.message}`, port),
          );
        });
        socket.once('connect', () => {
          clearTimeout(timer);
          socket.removeAllListeners('error');
          const wrapped = nodeSocket(socket);
          if (wrapped === undefined) reject(netError('ECONNRESET', `${host}:${port} closed at once`, port));
          else resolve(wrapped);
        });
      }),
  };
}

function nodeSocket(socket: Socket): WireSocket | undefined {
  const { localAddress, localPort, remoteAddress, remotePort } = socket;
  // A socket that closed before it was handed over has no addresses left: nothing to take on.
  if (
    localAddress === undefined ||
    localPort === undefined ||
    remoteAddress === undefined ||
    remotePort === undefined
  ) {
    socket.destroy();
    return undefined;
  }
  let failure: Error | undefined;
  socket.on('error', (error) => (failure = error));
  return {
    local: { address: localAddress, port: localPort },
    remote: { address: remoteAddress, port: remotePort },
    start: (events) => {
      socket.on('data', (chunk: Buffer) =>
        events.data(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)),
      );
      socket.on('end', () => events.end());
      socket.on('close', () => events.close(failure));
      socket.resume();
    },
    write: (bytes, done) => {
      if (socket.destroyed || !socket.writable) {
        done(netError('EPIPE', 'the host socket is closed for writing'));
        return;
      }
      socket.write(bytes, (error) => done(error ?? undefined));
    },
    end: () => socket.end(),
    destroy: () => socket.destroy(),
    pause: () => socket.pause(),
    resume: () => socket.resume(),
  };
}
