import type { Store } from '@fos/distributed-store';
import type {
  LeaveFleetRequest,
  ListedName,
  ListRequest,
  ListResult,
  LoadBalancerRef,
  LookupResult,
  NameServiceApi,
  RegisterRequest,
  RegisterResult,
  ReserveRequest,
  ReserveResult,
  TemporaryRequest,
  TemporaryResult,
  UnregisterRequest,
  WeightedName,
} from '@fos/libfos-messaging';
import {
  assert,
  AssertionError,
  FosError,
  hasFosErrorCode,
  isUnderSubdomain,
  nameServiceName,
  parseName,
  rootDomain,
  temporaryDomain,
  validateSubdomain,
  type RandomSource,
} from '@fos/base';
import {
  hashCapability,
  mintCapability,
  validateCapability,
  type Capability,
  type MailboxLocation,
} from '@fos/microkernel';
import type { NameEntry, StoredDestination } from './entry.js';
import { commitPlan } from './internal/commit.js';
import { hashesEqual, temporaryName } from './internal/helpers.js';
import { authorizeNamespace, planRegister, planUnregister, type RegisterPlanning } from './internal/plans.js';
import { refuse, validateRegister, validateUnregister } from './internal/requests.js';
import {
  leaveFleetRequestSchema,
  listRequestSchema,
  parseRequest,
  reserveRequestSchema,
  temporaryRequestSchema,
} from './internal/schemas.js';
import { Workspace } from './internal/workspace.js';
import { listNamesMax, resolveNameServiceLimits, type NameServiceLimits } from './limits.js';

/** The kernel's alias calls (ukAddAlias / ukRemoveAlias with the kernel capability), injected. */
export interface NameServerAliases {
  add(location: MailboxLocation, name: string): Promise<void>;
  remove(location: MailboxLocation, name: string): Promise<void>;
}

/** Where the process that asks runs (for Lookup's locality). */
export interface RequesterPlace {
  readonly machine: string;
  readonly core: number;
}

/**
 * Asks an indirect name's load balancer which destination to use; undefined lets the default policy
 * pick. It must settle within `timeoutMs` (the member's asks with a dispatcher call of that deadline):
 * the server waits for it, and takes a rejection, including `TIMEOUT`, as "no answer".
 */
export type LoadBalancerFunction = (
  ref: LoadBalancerRef,
  name: string,
  candidates: WeightedName[],
  timeoutMs: number,
) => Promise<string | undefined>;

/** Options of {@link NameServer}: its store and every piece of I/O, injected. */
export interface NameServerOptions {
  readonly store: Store<NameEntry>;
  /** Capability minting, temporary names and weighted picks. */
  readonly random: RandomSource;
  readonly aliases: NameServerAliases;
  /** Who asks the current request (the dispatcher's request sender); undefined when unknown. */
  readonly requester: () => RequesterPlace | undefined;
  readonly loadBalancer?: LoadBalancerFunction;
  readonly limits?: Partial<NameServiceLimits>;
  /** This member's name in the fleet, reported by `list` (default `ns00`). */
  readonly member?: string;
  /** In a fleet: how this member leaves it (stop being a name server, leave the store). */
  readonly leaveFleet?: () => Promise<void>;
}

/** What {@link NameServer.start} returns (Table 4.3). */
export interface NameServiceCapabilities {
  /** The namespace capability of the root `/*`. */
  readonly rootCapability: string;
  /** The capability of the management operations (`stop`, `list`). */
  readonly managementCapability: string;
}

type ServerState = 'new' | 'starting' | 'running' | 'stopped';

/** Locality factors of the default policy: on the requester's core, on its machine, elsewhere. */
const sameCoreFactor = 4;
const sameMachineFactor = 2;
const elsewhereFactor = 1;

function listedName(name: string, entry: NameEntry): ListedName {
  if (entry.type === 'direct' && entry.location !== undefined)
    return { name, type: 'direct', active: entry.active, location: entry.location };
  if (entry.type === 'indirect')
    return {
      name,
      type: 'indirect',
      active: entry.active,
      destinations: (entry.destinations ?? []).map(({ name: to, weight }) => ({ name: to, weight })),
    };
  return { name, type: entry.type, active: entry.active };
}

/**
 * The logic of one name-service member (thesis §4.3, Tables 4.2 and 4.3) over a store with the
 * interface of Table 4.4; every piece of I/O (the store, the kernel's alias calls, time, chance, the
 * load balancers) is injected. A modifying request reads what it needs, plans its writes without side
 * effects, then commits: aliases first (a mailbox accepts a name before any Lookup can lead to it),
 * the store writes, then the alias removals. A store `CONFLICT` rewinds the commit and retries the
 * request from the start, up to `conflictRetriesMax` times.
 */
export class NameServer implements NameServiceApi {
  readonly #store: Store<NameEntry>;
  readonly #random: RandomSource;
  readonly #aliases: NameServerAliases;
  readonly #requester: () => RequesterPlace | undefined;
  readonly #loadBalancer: LoadBalancerFunction | undefined;
  /** The limits in force. */
  readonly limits: NameServiceLimits;
  /** This member's name in the fleet. */
  readonly member: string;
  #state: ServerState = 'new';
  readonly #leaveFleet: (() => Promise<void>) | undefined;
  #managementHash = '';
  #managementCapability: Capability | undefined;
  #temporaryCapability: Capability | undefined;
  /** What the plans of Register need from this server (internal/plans.ts). */
  readonly #planning: RegisterPlanning;

  /** @param options - see {@link NameServerOptions} */
  constructor(options: NameServerOptions) {
    this.#store = options.store;
    this.#random = options.random;
    this.#aliases = options.aliases;
    this.#requester = options.requester;
    this.#loadBalancer = options.loadBalancer;
    this.limits = resolveNameServiceLimits(options.limits);
    this.member = options.member ?? 'ns00';
    this.#leaveFleet = options.leaveFleet;
    this.#planning = { random: this.#random, limits: this.limits };
  }

  /**
   * Starts the name service (Table 4.3): reserves the root `/*` and `/tmp/*` and returns the root's
   * namespace capability and the management capability. Succeeds once only: any later call, or a
   * store that holds `/*` already (another member started it), answers `NAME_EXISTS`.
   */
  async start(): Promise<NameServiceCapabilities> {
    if (this.#state !== 'new')
      refuse(
        'NAME_EXISTS',
        `the name service was started already (state ${this.#state}); start succeeds once only`,
        this.#state,
      );
    this.#state = 'starting';
    try {
      const rootCapability = mintCapability(this.#random);
      const managementCapability = mintCapability(this.#random);
      const temporaryCapability = mintCapability(this.#random);
      await this.#modify('start', async (workspace) => {
        for (const domain of [rootDomain, temporaryDomain]) {
          if ((await workspace.load(domain)) !== undefined)
            refuse('NAME_EXISTS', `${domain} is reserved already: the name service was started`, domain);
        }
        workspace.set(rootDomain, {
          type: 'reservation',
          capabilityHash: hashCapability(rootCapability),
          active: true,
        });
        workspace.set(temporaryDomain, {
          type: 'reservation',
          capabilityHash: hashCapability(temporaryCapability),
          active: true,
        });
      });
      this.#managementHash = hashCapability(managementCapability);
      this.#managementCapability = managementCapability;
      this.#temporaryCapability = temporaryCapability;
      this.#state = 'running';
      return { rootCapability, managementCapability };
    } catch (error) {
      this.#state = 'new';
      throw error;
    }
  }

  /**
   * The capabilities a further member of the same name service needs to {@link adopt} the table:
   * the management capability and the one of `/tmp/*`. Only a running member that started the service
   * (or adopted it) has them; hand them only to a new member of the fleet.
   */
  fleetCapabilities(): { readonly managementCapability: string; readonly temporaryCapability: string } {
    this.#checkRunning('fleetCapabilities');
    assert(
      this.#temporaryCapability !== undefined && this.#managementCapability !== undefined,
      'a running server holds its capabilities',
    );
    return { managementCapability: this.#managementCapability, temporaryCapability: this.#temporaryCapability };
  }

  /**
   * Starts a further member of a running name service over a store that holds its table already (a
   * replicated store this member joined): it takes the management capability and that of `/tmp/*`
   * from the member that started the service. `NAME_EXISTS` when this server was started already;
   * `PERMISSION_DENIED` when the capabilities do not match the table.
   */
  async adopt(capabilities: {
    readonly managementCapability: string;
    readonly temporaryCapability: string;
  }): Promise<void> {
    if (this.#state !== 'new')
      refuse('NAME_EXISTS', `the name server was started already (state ${this.#state})`, this.#state);
    const management = validateCapability(capabilities.managementCapability);
    const temporary = validateCapability(capabilities.temporaryCapability);
    const tmp = (await this.#store.get(temporaryDomain))?.value;
    if (tmp?.type !== 'reservation' || !hashesEqual(tmp.capabilityHash, hashCapability(temporary))) {
      refuse(
        'PERMISSION_DENIED',
        `the /tmp/* capability does not match the table: this store holds no started name service`,
        undefined,
      );
    }
    this.#managementHash = hashCapability(management);
    this.#managementCapability = management;
    this.#temporaryCapability = temporary;
    this.#state = 'running';
  }

  /**
   * Stops this member: every later request answers `SHUTDOWN`. The table stays as it is.
   * @throws PERMISSION_DENIED when the capability is not the management capability
   * @throws SHUTDOWN when the server is not running
   */
  async stop(managementCapability: string): Promise<void> {
    this.#checkRunning('stop');
    const capability = validateCapability(managementCapability);
    if (!hashesEqual(hashCapability(capability), this.#managementHash))
      refuse('PERMISSION_DENIED', 'stop needs the management capability returned by start', undefined);
    this.#state = 'stopped';
  }

  /** The store's table hash (for tests); `BAD_REQUEST` when the store has no `hash()`. */
  async tableHash(): Promise<string> {
    const hashable = this.#store as Partial<{ hash(): string | Promise<string> }>;
    if (typeof hashable.hash !== 'function')
      refuse('BAD_REQUEST', 'the store of this name server has no hash()', undefined);
    return hashable.hash();
  }

  /**
   * See {@link NameServiceApi.list}. Needs a store that can list itself (a `snapshot()` of sorted
   * entries, as `LocalStore` has: Table 4.4 has no scan) and hash itself.
   */
  async list(request: ListRequest): Promise<ListResult> {
    this.#checkRunning('list');
    const valid = parseRequest('list', listRequestSchema, request);
    if (!hashesEqual(hashCapability(validateCapability(valid.capability)), this.#managementHash))
      refuse('PERMISSION_DENIED', 'list needs the management capability returned by start', undefined);
    const under = valid.under === undefined ? rootDomain : validateSubdomain(valid.under);
    const listable = this.#store as Partial<{
      snapshot():
        | Array<{ readonly key: string; readonly value: NameEntry }>
        | Promise<Array<{ readonly key: string; readonly value: NameEntry }>>;
    }>;
    if (typeof listable.snapshot !== 'function')
      refuse('BAD_REQUEST', 'the store of this name server cannot list itself (no snapshot())', undefined);
    const tableHash = await this.tableHash();
    const names: ListedName[] = [];
    let truncated = false;
    for (const { key, value } of await listable.snapshot()) {
      if (key !== under && !isUnderSubdomain(under, key)) continue;
      if (names.length >= listNamesMax) {
        truncated = true;
        break;
      }
      names.push(listedName(key, value));
    }
    return { names, truncated, tableHash, member: this.member };
  }

  /** See {@link NameServiceApi.leaveFleet}. */
  async leaveFleet(request: LeaveFleetRequest): Promise<void> {
    this.#checkRunning('leaveFleet');
    const valid = parseRequest('leaveFleet', leaveFleetRequestSchema, request);
    if (!hashesEqual(hashCapability(validateCapability(valid.capability)), this.#managementHash))
      refuse('PERMISSION_DENIED', 'leaveFleet needs the management capability returned by start', undefined);
    if (this.#leaveFleet === undefined)
      refuse('BAD_REQUEST', `name-service member ${this.member} is not part of a fleet`, this.member);
    await this.#leaveFleet();
    this.#state = 'stopped';
  }

  /** See {@link NameServiceApi.lookup}. */
  async lookup(name: string): Promise<LookupResult> {
    this.#checkRunning('lookup');
    const parsed = parseName(name);
    if (parsed.text === nameServiceName)
      refuse('INVALID_NAME', `${nameServiceName} is the name service's own name and is never stored (§5.2)`, name);
    if (parsed.isSubdomain) refuse('NO_SUCH_NAME', `${name} is a sub-domain: no message is ever sent to one`, name);
    const entry = (await this.#store.get(name))?.value;
    if (entry === undefined || entry.type === 'reservation') refuse('NO_SUCH_NAME', `${name} is not registered`, name);
    if (!entry.active) refuse('INACTIVE', `${name} is inactive (migrating); look it up again later`, name);
    const ttlMs = this.limits.lookupTtlMs;
    if (entry.type === 'direct') {
      assert(entry.location !== undefined, `direct name ${name} has a location`);
      return {
        type: 'direct',
        name,
        location: entry.location,
        publishedCapability: entry.publishedCapability ?? null,
        ttlMs,
      };
    }
    return { type: 'indirect', name, next: await this.#pickDestination(name, entry), ttlMs };
  }

  /** See {@link NameServiceApi.register}. */
  async register(request: RegisterRequest): Promise<RegisterResult> {
    this.#checkRunning('register');
    const valid = validateRegister(request);
    return this.#modify('register', (workspace) => planRegister(this.#planning, workspace, valid));
  }

  /** See {@link NameServiceApi.unregister}. */
  async unregister(request: UnregisterRequest): Promise<void> {
    this.#checkRunning('unregister');
    const valid = validateUnregister(request);
    await this.#modify('unregister', (workspace) => planUnregister(workspace, valid));
  }

  /** See {@link NameServiceApi.registerTemporary}. */
  async registerTemporary(request: TemporaryRequest): Promise<TemporaryResult> {
    this.#checkRunning('registerTemporary');
    const valid = parseRequest('registerTemporary', temporaryRequestSchema, request);
    const capability = this.#temporaryCapability;
    assert(capability !== undefined, 'a running server holds the capability of /tmp/*');
    for (let attempt = 0; attempt < this.limits.temporaryNameAttemptsMax; attempt += 1) {
      const name = temporaryName(this.#random);
      const destination = {
        type: 'direct' as const,
        location: valid.location,
        publishedCapability: valid.publishedCapability,
      };
      try {
        const result = await this.#modify('registerTemporary', (workspace) =>
          planRegister(this.#planning, workspace, {
            name,
            capability,
            destination,
            active: true,
            loadBalancer: undefined,
          }),
        );
        return { name, nameCapability: result.nameCapability };
      } catch (error) {
        if (!hasFosErrorCode(error, 'NAME_EXISTS')) throw error;
      }
    }
    return refuse(
      'LIMIT_EXCEEDED',
      `no free name under ${temporaryDomain} in temporaryNameAttemptsMax (${this.limits.temporaryNameAttemptsMax}) attempts`,
      undefined,
    );
  }

  /** See {@link NameServiceApi.reserve}. */
  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    this.#checkRunning('reserve');
    const valid = parseRequest('reserve', reserveRequestSchema, request);
    const domain = validateSubdomain(valid.domain);
    if (isUnderSubdomain(temporaryDomain, domain))
      refuse(
        'INVALID_NAME',
        `${domain} lies under ${temporaryDomain}, where only registerTemporary makes names`,
        domain,
      );
    if (domain === rootDomain) refuse('NAME_EXISTS', `${rootDomain} is reserved by start`, domain);
    const capability = validateCapability(valid.capability);
    return this.#modify('reserve', async (workspace) => {
      await authorizeNamespace(workspace, domain, hashCapability(capability));
      if ((await workspace.load(domain)) !== undefined) refuse('NAME_EXISTS', `${domain} is reserved already`, domain);
      const domainCapability = mintCapability(this.#random);
      workspace.set(domain, { type: 'reservation', capabilityHash: hashCapability(domainCapability), active: true });
      return { capability: domainCapability };
    });
  }

  #checkRunning(operation: string): void {
    if (this.#state !== 'running') {
      throw new FosError(
        'SHUTDOWN',
        `${operation}: the name server is not running (${this.#state === 'stopped' ? 'stopped' : 'not started'})`,
      );
    }
  }

  async #modify<T>(operation: string, plan: (workspace: Workspace) => Promise<T>): Promise<T> {
    for (let attempt = 0; attempt <= this.limits.conflictRetriesMax; attempt += 1) {
      const workspace = new Workspace(this.#store, this.limits);
      const result = await plan(workspace);
      if (await commitPlan(this.#store, this.#aliases, this.limits.conflictRetriesMax, workspace)) return result;
    }
    throw new FosError(
      'CONFLICT',
      `${operation} met a conflicting store modification on each of ${this.limits.conflictRetriesMax + 1} attempts (conflictRetriesMax ${this.limits.conflictRetriesMax}); it was rewound`,
    );
  }

  async #pickDestination(name: string, entry: NameEntry): Promise<string> {
    const candidates: Array<{ readonly destination: StoredDestination; readonly entry: NameEntry }> = [];
    for (const destination of entry.destinations ?? []) {
      const target = (await this.#store.get(destination.name))?.value;
      if (target !== undefined && target.type !== 'reservation') candidates.push({ destination, entry: target });
    }
    if (candidates.length === 0) refuse('NO_SUCH_NAME', `${name} has no registered destination`, name);
    const active = candidates.filter((candidate) => candidate.entry.active);
    const pool = active.length > 0 ? active : candidates;
    if (entry.loadBalancer !== undefined && this.#loadBalancer !== undefined) {
      const weighted = pool.map(({ destination }) => ({ name: destination.name, weight: destination.weight }));
      const chosen = await this.#askLoadBalancer(this.#loadBalancer, entry.loadBalancer, name, weighted);
      if (chosen !== undefined && weighted.some((item) => item.name === chosen)) return chosen;
    }
    const requester = this.#requester();
    const weights = pool.map(
      ({ destination, entry: target }) => destination.weight * this.#locality(requester, target),
    );
    let draw = this.#random.nextInt(weights.reduce((sum, weight) => sum + weight, 0));
    for (const [index, weight] of weights.entries()) {
      if (draw < weight) return (pool[index] as (typeof pool)[number]).destination.name;
      draw -= weight;
    }
    throw new AssertionError('a weighted draw lands on a destination');
  }

  #locality(requester: RequesterPlace | undefined, target: NameEntry): number {
    if (requester === undefined || target.type !== 'direct' || target.location === undefined) return elsewhereFactor;
    if (target.location.machine !== requester.machine) return elsewhereFactor;
    return target.location.core === requester.core ? sameCoreFactor : sameMachineFactor;
  }

  /** The load balancer's answer, or undefined on its own undefined, a rejection (a timeout included) or a stranger. */
  async #askLoadBalancer(
    balance: LoadBalancerFunction,
    ref: LoadBalancerRef,
    name: string,
    candidates: WeightedName[],
  ): Promise<string | undefined> {
    try {
      const answer = await balance(ref, name, candidates, this.limits.loadBalancerTimeoutMs);
      return typeof answer === 'string' ? answer : undefined;
    } catch {
      return undefined;
    }
  }
}
