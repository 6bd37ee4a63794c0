// The interface of the name service (thesis Table 4.2), owned by libfos: rpc-gen
// turns it into the client ordinary processes use (generated/name-service-api.rpc.ts), while a
// name-service member links its implementation directly (the local linkage of §5.2).

/** A mailbox location as the name service stores it (the same fields as the microkernel's). */
export type NameLocation = {
  readonly machine: string;
  readonly core: number;
  readonly mailbox: number;
};

/** One destination of an indirect name, with its weight (1..1000). */
export type WeightedName = {
  readonly name: string;
  readonly weight: number;
};

/** A load balancer for an indirect name: a service that answers which destination to use. */
export type LoadBalancerRef = {
  readonly name: string;
  readonly capability: string;
};

/** What a name maps to when it is registered. */
export type RegisterDestination =
  | { readonly type: 'direct'; readonly location: NameLocation; readonly publishedCapability?: string }
  | { readonly type: 'indirect'; readonly name: string; readonly weight?: number };

/** What Lookup answers: a mailbox for a direct name, one destination name for an indirect one. */
export type LookupResult =
  | {
      readonly type: 'direct';
      readonly name: string;
      readonly location: NameLocation;
      readonly publishedCapability: string | null;
      readonly ttlMs: number;
    }
  | { readonly type: 'indirect'; readonly name: string; readonly next: string; readonly ttlMs: number };

/** Register's arguments. */
export type RegisterRequest = {
  /** The name to register (never a sub-domain, never `/sys/name`). */
  readonly name: string;
  /**
   * A namespace capability of an enclosing sub-domain, or, to add a destination to an existing
   * indirect name or to reactivate a direct one, that name's capability.
   */
  readonly capability: string;
  readonly destination: RegisterDestination;
  /** False registers the name inactive (migration); default true. */
  readonly active?: boolean;
  /** Only for a new indirect name. */
  readonly loadBalancer?: LoadBalancerRef;
};

/** Register's answer. */
export type RegisterResult = {
  /**
   * The capability returned to the registrant: for a new name, the name's own capability (needed to
   * unregister it, add destinations to it or reactivate it); for a destination added to an existing
   * indirect name, a capability of that destination alone (needed to remove it).
   */
  readonly nameCapability: string;
};

/** Unregister's arguments. */
export type UnregisterRequest = {
  /** The name, or a reserved sub-domain (`/sys/fs/*`) to release. */
  readonly name: string;
  /** The name's capability (or the sub-domain's, or an enclosing namespace capability). */
  readonly capability: string;
  /** For an indirect name: remove only this destination (the name goes when its last one does). */
  readonly destination?: string;
  /**
   * For a direct name: its mailbox. The name is unregistered only if it is registered at this mailbox
   * (`NO_SUCH_NAME` otherwise), so a caller that also removes the name from the mailbox in the kernel
   * never removes one half without the other.
   */
  readonly location?: NameLocation;
  /** Keep the entry but mark it inactive (migration: senders wait instead of failing). */
  readonly deactivate?: boolean;
};

/** Reserve's arguments. */
export type ReserveRequest = {
  /** The sub-domain to reserve, such as `/sys/fs/*`. */
  readonly domain: string;
  /** A namespace capability of an enclosing sub-domain. */
  readonly capability: string;
};

/** Reserve's answer. */
export type ReserveResult = {
  /** The namespace capability of the new sub-domain. */
  readonly capability: string;
};

/** RegisterTemporary's arguments. */
export type TemporaryRequest = {
  readonly location: NameLocation;
  readonly publishedCapability?: string;
};

/** RegisterTemporary's answer: a meaningless unique name under `/tmp/*` and its capability. */
export type TemporaryResult = {
  readonly name: string;
  readonly nameCapability: string;
};

/** One entry of the name space as `list` shows it. */
export type ListedName = {
  /** A name, or a reserved sub-domain (`/sys/*`). */
  readonly name: string;
  readonly type: 'direct' | 'indirect' | 'reservation';
  /** False while the name is inactive (migrating); always true for a reservation. */
  readonly active: boolean;
  /** A direct name's mailbox. */
  readonly location?: NameLocation;
  /** An indirect name's destinations with their weights, in registration order. */
  readonly destinations?: WeightedName[];
};

/** List's arguments. */
export type ListRequest = {
  /** The management capability (returned by `start`). */
  readonly capability: string;
  /** Only entries at or under this sub-domain (`/sys/*`); default the whole name space. */
  readonly under?: string;
};

/** List's answer. */
export type ListResult = {
  /** The entries, sorted by name (at most `listNamesMax`). */
  readonly names: ListedName[];
  /** True when more entries matched than `listNamesMax`. */
  readonly truncated: boolean;
  /** A hash of the whole table: equal tables give equal hashes (for checks that a request changed nothing). */
  readonly tableHash: string;
  /** The member of the name service that answered (its name in the fleet). */
  readonly member: string;
};

/** LeaveFleet's arguments. */
export type LeaveFleetRequest = {
  /** The management capability (returned by `start`). */
  readonly capability: string;
};

/** The public interface of the name service (Table 4.2), and its management listing. */
export interface NameServiceApi {
  /**
   * Reads the entry of a name: a direct name's mailbox, or one destination of an indirect name picked
   * by weight and locality (or by its load balancer). Every result carries a TTL.
   * @throws INVALID_NAME when the name is malformed or `/sys/name`
   * @throws NO_SUCH_NAME when nothing is registered under it (a reservation counts as nothing)
   * @throws INACTIVE when the name is registered but inactive (migrating)
   * @throws SHUTDOWN when the name server is not running
   */
  lookup(name: string): Promise<LookupResult>;

  /**
   * Registers a name, or adds a destination to an existing indirect name, or reactivates a direct one.
   * @throws INVALID_NAME when the name is malformed, a sub-domain, reserved or `/sys/name`
   * @throws PERMISSION_DENIED when the capability does not cover the name
   * @throws NAME_EXISTS when the name is taken (and this is not an indirect addition or a reactivation)
   * @throws CYCLE when an indirect destination would close a cycle
   * @throws NO_SUCH_NAME when an indirect destination is not registered
   * @throws LIMIT_EXCEEDED when a limit (destinations per name, table size) would be passed
   * @throws BAD_REQUEST when the request is malformed
   * @throws CONFLICT when the store kept refusing the change (conflictRetriesMax); nothing was changed
   * @throws SHUTDOWN when the name server is not running
   */
  register(request: RegisterRequest): Promise<RegisterResult>;

  /**
   * Unregisters a name or one destination of it, deactivates it, or releases a reserved sub-domain.
   * @throws INVALID_NAME when the name is malformed
   * @throws NO_SUCH_NAME when it is not registered (or the destination is not one of it, or it is not registered at the location given)
   * @throws PERMISSION_DENIED when the capability does not cover it
   * @throws BAD_REQUEST when the request is malformed, a location is given for a name that is not direct, or a sub-domain still has names under it
   * @throws CONFLICT when the store kept refusing the change (conflictRetriesMax); nothing was changed
   * @throws SHUTDOWN when the name server is not running
   */
  unregister(request: UnregisterRequest): Promise<void>;

  /**
   * Registers a meaningless unique name under `/tmp/*` for a mailbox (a canonical alias).
   * @throws LIMIT_EXCEEDED when no free name was found within the retry bound
   * @throws BAD_REQUEST when the request is malformed
   * @throws CONFLICT when the store kept refusing the change (conflictRetriesMax); nothing was changed
   * @throws SHUTDOWN when the name server is not running
   */
  registerTemporary(request: TemporaryRequest): Promise<TemporaryResult>;

  /**
   * Reserves a sub-domain of the name space.
   * @throws INVALID_NAME when the domain is malformed or not a sub-domain
   * @throws PERMISSION_DENIED when the capability does not cover it
   * @throws NAME_EXISTS when it is reserved or registered already
   * @throws BAD_REQUEST when the request is malformed
   * @throws CONFLICT when the store kept refusing the change (conflictRetriesMax); nothing was changed
   * @throws SHUTDOWN when the name server is not running
   */
  reserve(request: ReserveRequest): Promise<ReserveResult>;

  /**
   * Lists the name space for its manager (the printed tree of `fos demo`, checks in tests): every entry
   * at or under `under`, sorted by name, with the table's hash. Capabilities never appear in it.
   * @throws PERMISSION_DENIED when the capability is not the management capability
   * @throws INVALID_NAME when `under` is not a sub-domain
   * @throws BAD_REQUEST when the request is malformed, or the store cannot be listed
   * @throws SHUTDOWN when the name server is not running
   */
  list(request: ListRequest): Promise<ListResult>;

  /**
   * Management (the member side of `shrinkFleet`, Table 4.3): the member that answers leaves the fleet
   * — it stops being a name server of the machine, leaves the replicated store (never the last member)
   * and answers `SHUTDOWN` from then on.
   * @throws PERMISSION_DENIED when the capability is not the management capability
   * @throws BAD_REQUEST when the member is not part of a fleet, or is its last member
   * @throws SHUTDOWN when the name server is not running
   */
  leaveFleet(request: LeaveFleetRequest): Promise<void>;
}
