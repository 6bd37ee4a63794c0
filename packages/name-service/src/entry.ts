import type { MailboxLocation } from '@fos/microkernel';

/** One destination of an indirect name as the table keeps it. */
export type StoredDestination = {
  readonly name: string;
  /** 1..1000. */
  readonly weight: number;
  /** Hash of the capability Register returned for this destination: good to unregister it alone. */
  readonly capabilityHash: string;
};

/**
 * A value of the name table, keyed by the exact name text (`/sys/fs`, `/sys/*`);
 * versions come from the store. A type alias, not an interface, so that it is a message body.
 */
export type NameEntry = {
  readonly type: 'direct' | 'indirect' | 'reservation';
  /** Hash of the name's (or the sub-domain's) capability; the capability itself is never stored. */
  readonly capabilityHash: string;
  /** A direct name's mailbox. */
  readonly location?: MailboxLocation;
  /** A direct name's published send capability, handed out by Lookup. */
  readonly publishedCapability?: string;
  /** An indirect name's destinations (at least one). */
  readonly destinations?: readonly StoredDestination[];
  /** False while the name is inactive (migrating). Always true for a reservation. */
  readonly active: boolean;
  /** An indirect name's load balancer. */
  readonly loadBalancer?: { readonly name: string; readonly capability: string };
  /**
   * The indirect names that list this name as a destination (the reverse edges of the name graph),
   * kept so that Register and Unregister can find every name that reaches a mailbox with Gets alone.
   */
  readonly referrers?: readonly string[];
};
