// The names of the network stack (thesis §4.1): one netif per machine under /sys/netif, the fleet
// under /sys/netstack, and one indirect name per connection, computed from its 4-tuple by anyone who
// knows the connection's two ends.
import { createHash } from 'node:crypto';
import type { NetAddress } from './protocol.js';

/** The indirect name of the netstack fleet. */
export const netstackFleetName = '/sys/netstack';
/** Where the connections' names live. */
export const netConnectionsDomain = '/sys/netstack/connections';
/** Where the network interface services' names live (`/sys/netif/<machine>`). */
export const netifDomain = '/sys/netif';

/**
 * The id of a connection: the first 128 bits, in hex, of the SHA-256 of its 4-tuple (source address and
 * port, destination address and port, as seen by the netif that holds it).
 */
export function connectionId(remote: NetAddress, local: NetAddress): string {
  return createHash('sha256')
    .update(`${remote.address}\u0000${remote.port}\u0000${local.address}\u0000${local.port}`)
    .digest('hex')
    .slice(0, 32);
}

/** The name of a connection: `/sys/netstack/connections/<id>`, an indirect name to its member. */
export function connectionName(id: string): string {
  return `${netConnectionsDomain}/${id}`;
}
