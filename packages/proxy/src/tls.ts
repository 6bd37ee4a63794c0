// The transport between machines: TCP with TLS 1.3, authenticated both ways by a pre-shared cluster
// key (TLS-PSK, RFC 8446 §2.2, with an (EC)DHE exchange: keys of one connection are fresh). A machine
// proves it holds the key in the handshake itself (the PSK binder; the server by finishing with keys
// derived from it), so a peer without the key can neither read nor send one byte of a frame: there is
// no certificate, no CA and no hostname to check. Why PSK rather than mutual TLS with a cluster CA:
// the operator handles one secret file instead of a CA, a certificate per machine and their expiry;
// rotating it is writing a new key file on every machine and restarting them (decision recorded in
// ARCHITECTURE.md, "The proxy").
import { randomBytes, hkdfSync } from 'node:crypto';
import { readFile, writeFile, stat } from 'node:fs/promises';
import type net from 'node:net';
import tls from 'node:tls';
import { describeValue, FosError, nextTurn } from '@fos/base';
import type { ByteLink, ByteLinkEvents } from './link.js';

/** Bytes of a cluster key. */
export const clusterKeyBytes = 32;
/** Time a TLS handshake may take before the connection is dropped. */
export const tlsHandshakeTimeoutMs = 10_000;

/** TLS 1.3 suites of one digest (SHA-256), which the PSK is bound to. */
const ciphers = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256';
/** The PSK identity: one cluster, one key; a peer naming another identity is refused. */
const pskIdentity = 'fos-cluster-v1';
const keyFilePrefix = 'fos-cluster-key-v1 ';

/** A cluster's shared secret, as read from its key file. */
export interface ClusterKey {
  /** The TLS pre-shared key derived from the secret (never the secret itself). */
  readonly psk: Buffer;
}

/** A new random cluster key file's text (`fos cluster init` writes it). */
export function newClusterKeyText(): string {
  return `${keyFilePrefix}${randomBytes(clusterKeyBytes).toString('hex')}\n`;
}

/** Parses a key file's text; `BAD_REQUEST` for anything but the format {@link newClusterKeyText} writes. */
export function parseClusterKey(text: string): ClusterKey {
  const match = /^fos-cluster-key-v1 ([0-9a-f]{64})\s*$/.exec(text);
  if (match === null)
    throw new FosError('BAD_REQUEST', `not a cluster key file (expected "${keyFilePrefix}<64 hex digits>")`, {
      value: describeValue(text.slice(0, 24)),
    });
  const secret = Buffer.from(match[1]!, 'hex');
  return { psk: Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), 'fos.ts proxy tls psk', 32)) };
}

/** Writes a new cluster key file readable by its owner only; `CONFLICT` if the file exists. */
export async function writeClusterKeyFile(path: string): Promise<void> {
  try {
    await writeFile(path, newClusterKeyText(), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST')
      throw new FosError('CONFLICT', `cluster key file ${path} exists already (never overwritten)`, { value: path });
    throw error;
  }
}

/**
 * Reads a cluster key file. `BAD_REQUEST` when it is not one, or when other users may read it (a key
 * anyone on the host can read authenticates anyone).
 */
export async function readClusterKeyFile(path: string): Promise<ClusterKey> {
  let mode: number;
  try {
    mode = (await stat(path)).mode;
  } catch (error) {
    throw new FosError('BAD_REQUEST', `cluster key file ${path} cannot be read`, { value: path, cause: error });
  }
  if ((mode & 0o077) !== 0)
    throw new FosError(
      'BAD_REQUEST',
      `cluster key file ${path} may be read by others (mode ${(mode & 0o777).toString(8)}; chmod 600 it)`,
      {
        value: path,
      },
    );
  return parseClusterKey(await readFile(path, 'utf8'));
}

const tlsOptions = { ciphers, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' } as const;

/** A `ByteLink` over an authenticated TLS socket. */
class TlsLink implements ByteLink {
  #events: ByteLinkEvents | undefined;
  #closed = false;
  #closedReason: string | undefined;

  constructor(
    readonly socket: tls.TLSSocket,
    readonly remote: string,
  ) {
    socket.setNoDelay(true);
    socket.pause();
    socket.on('data', (chunk: Buffer) => this.#events?.data(chunk));
    socket.on('drain', () => this.#events?.drain());
    socket.on('error', (error: Error) => this.#end(error.message));
    socket.on('close', () => this.#end('the connection closed'));
    socket.on('end', () => this.#end('the other end closed'));
  }

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  open(events: ByteLinkEvents): void {
    this.#events = events;
    const reason = this.#closedReason;
    if (reason !== undefined) {
      void nextTurn().then(() => events.closed(reason));
      return;
    }
    this.socket.resume();
  }

  write(bytes: Uint8Array): void {
    if (!this.#closed) this.socket.write(bytes);
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  close(reason: string): void {
    if (this.#closed) return;
    // What was written goes first (a refusal frame, say), then the socket ends.
    this.socket.end();
    // A real socket on real time: a peer that never closes its side is cut off after a second.
    // eslint-disable-next-line no-restricted-globals
    setTimeout(() => this.socket.destroy(), 1000).unref();
    this.#end(reason);
  }

  #end(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closedReason = reason;
    this.#events?.closed(reason);
  }
}

/** Options of {@link listenTls}. */
export interface ListenTlsOptions {
  readonly key: ClusterKey;
  /** Address to bind (default 127.0.0.1). */
  readonly host?: string;
  /** Port (default 0: any free one). */
  readonly port?: number;
  /** Each authenticated connection, as a link. */
  readonly onLink: (link: ByteLink) => void;
  /** Connections that failed before they were authenticated (wrong key, plain TCP, a replay). */
  readonly onRefused?: (reason: string) => void;
  /** Connections at most at once (default 256). */
  readonly connectionsMax?: number;
}

/** A listening TLS server of the proxy; `close` stops listening and drops every connection it accepted. */
export interface TlsListener {
  /** `host:port` it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

/** Accepts proxy connections; only a peer holding the cluster key gets through the handshake. */
export function listenTls(options: ListenTlsOptions): Promise<TlsListener> {
  const key = options.key;
  const server = tls.createServer({
    ...tlsOptions,
    handshakeTimeout: tlsHandshakeTimeoutMs,
    pskCallback: (_socket, identity) => (identity === pskIdentity ? key.psk : null),
  });
  server.maxConnections = options.connectionsMax ?? 256;
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    options.onLink(new TlsLink(socket, `${socket.remoteAddress}:${socket.remotePort}`));
  });
  server.on('tlsClientError', (error) => options.onRefused?.(error.message));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      const text =
        typeof address === 'object' && address !== null ? `${address.address}:${address.port}` : String(address);
      resolve({
        address: text,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            for (const socket of sockets) socket.destroy();
          }),
      });
    });
  });
}

/**
 * Parses `host:port` (an IPv6 host in brackets); `BAD_REQUEST` otherwise. Port 0 (any free port) only
 * with `{ listening: true }`: nobody can dial it.
 */
export function parseAddress(address: string, options: { listening?: boolean } = {}): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]{1,253})):(\d{1,5})$/.exec(address);
  const port = match === null ? Number.NaN : Number(match[3]);
  if (match === null || port < (options.listening === true ? 0 : 1) || port > 65535)
    throw new FosError('BAD_REQUEST', `address ${describeValue(address)} is not host:port`, { value: address });
  return { host: match[1] ?? match[2]!, port };
}

/** Connects to a proxy at `address` (`host:port`); rejects `UNREACHABLE` when it cannot, or the key is wrong. */
export function connectTls(address: string, key: ClusterKey): Promise<ByteLink> {
  const { host, port } = parseAddress(address);
  return new Promise((resolve, reject) => {
    const socket = tls.connect({
      ...tlsOptions,
      host,
      port,
      pskCallback: () => ({ psk: key.psk, identity: pskIdentity }),
      // No certificate is involved: the PSK authenticates the server.
      checkServerIdentity: () => undefined,
    });
    // The handshake runs on real sockets and real time, as the server's handshakeTimeout does.
    // eslint-disable-next-line no-restricted-globals
    const timer = setTimeout(() => socket.destroy(new Error('handshake timed out')), tlsHandshakeTimeoutMs);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      reject(new FosError('UNREACHABLE', `cannot connect to ${address}: ${error.message}`, { value: address }));
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(new TlsLink(socket, address));
    });
  });
}
