// How a machine's proxy reaches other machines: it listens at an address and dials addresses; every
// connection it gets is an authenticated ByteLink. Two implementations: TLS over TCP with the cluster
// key (real machines), and links through a SimWorld's network (seeded runs that replay exactly).
import { FosError } from '@fos/base';
import type { SimWorld } from '@fos/microkernel';
import type { ByteLink } from './link.js';
import { simLinkPair } from './sim-link.js';
import { connectTls, listenTls, parseAddress, type ClusterKey } from './tls.js';

/** A listening transport: `close` stops accepting and drops what it accepted. */
export interface ProxyListener {
  /** The address others dial (a `host:port` for TLS, with the port it got when asked for port 0). */
  readonly address: string;
  close(): Promise<void>;
}

/** Listens and dials for a machine's proxy. */
export interface ProxyTransport {
  /** Accepts connections at `address`; each authenticated one is handed to `onLink`. */
  listen(address: string, onLink: (link: ByteLink) => void): Promise<ProxyListener>;
  /** Dials `address` for the machine `from`; resolves once the connection is authenticated. */
  connect(address: string, from: string): Promise<ByteLink>;
}

/** Options of {@link tlsTransport}. */
export interface TlsTransportOptions {
  /** Reports connections refused before they were authenticated (wrong key, plain TCP, replays). */
  readonly onRefused?: (reason: string) => void;
}

/** TLS 1.3 over TCP, authenticated by the cluster key (see `listenTls`, `connectTls`). */
export function tlsTransport(key: ClusterKey, options: TlsTransportOptions = {}): ProxyTransport {
  return {
    async listen(address, onLink) {
      const { host, port } = parseAddress(address, { listening: true });
      return listenTls({
        key,
        host,
        port,
        onLink,
        ...(options.onRefused === undefined ? {} : { onRefused: options.onRefused }),
      });
    },
    connect: (address) => connectTls(address, key),
  };
}

/**
 * Links through one SimWorld's network: an address is any text a listening machine chose (its machine
 * name, say). A dial to an address nobody listens at fails `UNREACHABLE`, as a refused TCP connection
 * would. One transport serves every machine of the world.
 */
export class SimTransport implements ProxyTransport {
  readonly #world: SimWorld;
  readonly #listening = new Map<string, (link: ByteLink) => void>();
  #connections = 0;

  constructor(world: SimWorld) {
    this.#world = world;
  }

  listen(address: string, onLink: (link: ByteLink) => void): Promise<ProxyListener> {
    if (this.#listening.has(address))
      return Promise.reject(new FosError('CONFLICT', `simulated address ${address} is taken`, { value: address }));
    this.#listening.set(address, onLink);
    return Promise.resolve({
      address,
      close: () => {
        if (this.#listening.get(address) === onLink) this.#listening.delete(address);
        return Promise.resolve();
      },
    });
  }

  connect(address: string, from: string): Promise<ByteLink> {
    const onLink = this.#listening.get(address);
    if (onLink === undefined || this.#world.isClosed)
      return Promise.reject(
        new FosError('UNREACHABLE', `nothing listens at simulated address ${address}`, { value: address }),
      );
    const [dialled, accepted] = simLinkPair(this.#world, [from, address], { connection: ++this.#connections });
    onLink(accepted);
    return Promise.resolve(dialled);
  }
}
