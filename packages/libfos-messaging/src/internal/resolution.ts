// The resolution of a name through its chain of indirect names to a mailbox (thesis §4.2,
// `AliasResolve`): the process's name cache first, a Lookup on each miss, an inactive (migrating) name
// waited out. Kept apart from `Libfos` so that the send path's order keeping (`Libfos.deliver`) and
// the walk it relies on can each be read on their own.
import type { Thread } from '@fos/dispatcher';
import type { NameCache } from '@fos/libfos-namecache';
import { FosError, hasFosErrorCode, type Clock } from '@fos/base';
import type { Capability } from '@fos/microkernel';
import type { ResolvedName } from '../libfos.js';
import { inactiveBackoffMsMax, type LibfosLimits } from '../limits.js';
import type { LookupResult, NameServiceApi } from '../name-service-api.js';

type DirectResult = Extract<LookupResult, { type: 'direct' }>;

/** A walk of the cache that stopped at a name it does not hold: the chain so far, that name last. */
export type CacheMiss = { readonly chain: string[]; readonly current: string };

/** The counters a resolution moves; shared with `Libfos.stats`, which reports them. */
export interface ResolutionCounters {
  lookups: number;
  inactiveWaits: number;
}

/** Resolves names for one process's libfos, over its name cache and its name service. */
export class NameResolver {
  readonly #cache: NameCache<LookupResult>;
  readonly #nameService: NameServiceApi;
  readonly #clock: Clock;
  readonly #limits: LibfosLimits;
  readonly #counters: ResolutionCounters;

  constructor(
    cache: NameCache<LookupResult>,
    nameService: NameServiceApi,
    clock: Clock,
    limits: LibfosLimits,
    counters: ResolutionCounters,
  ) {
    this.#cache = cache;
    this.#nameService = nameService;
    this.#clock = clock;
    this.#limits = limits;
    this.#counters = counters;
  }

  /**
   * Follows the cached hops from `name`: the resolution when every hop is cached, else the chain up
   * to the first name that is not (its cache miss already counted).
   */
  walkCache(name: string): { readonly resolved: ResolvedName } | CacheMiss {
    const chain: string[] = [];
    let current = name;
    for (;;) {
      this.#pushHop(chain, name, current);
      const cached = this.#cache.get(current);
      if (cached === undefined) return { chain, current };
      if (cached.type === 'direct') return { resolved: resolvedName(name, chain, cached) };
      current = cached.next;
    }
  }

  /**
   * Resolves `name` through the cache and the name service (`refresh`: the name service only);
   * `walked`: the cache walk already made for it.
   */
  async resolve(thread: Thread, name: string, refresh: boolean, walked?: CacheMiss): Promise<ResolvedName> {
    const walk = refresh ? undefined : (walked ?? this.walkCache(name));
    if (walk !== undefined && 'resolved' in walk) return walk.resolved;
    const chain = walk?.chain ?? [];
    let current = walk?.current ?? name;
    // True while `current` is on the chain already and known not to be cached.
    let missed = walk !== undefined;
    for (;;) {
      if (!missed) this.#pushHop(chain, name, current);
      const cached = refresh || missed ? undefined : this.#cache.get(current);
      missed = false;
      const result = cached ?? (await this.#lookupWaitingOutInactive(thread, current));
      if (cached === undefined) this.#cache.put(current, result, result.ttlMs);
      if (result.type === 'direct') return resolvedName(name, chain, result);
      current = result.next;
    }
  }

  #pushHop(chain: string[], name: string, current: string): void {
    if (chain.length > this.#limits.indirectionHopsMax) {
      throw new FosError(
        'CYCLE',
        `${name} did not resolve within indirectionHopsMax (${this.#limits.indirectionHopsMax}) hops: ${chain.join(' → ')}`,
        { value: name },
      );
    }
    chain.push(current);
  }

  /** A Lookup; an inactive name (migrating) is looked up again, backing off, up to `inactiveWaitMsMax`. */
  async #lookupWaitingOutInactive(thread: Thread, name: string): Promise<LookupResult> {
    const startedMs = this.#clock.now();
    let backoffMs = 1;
    for (;;) {
      this.#counters.lookups++;
      try {
        return await this.#nameService.lookup(name);
      } catch (error) {
        if (!hasFosErrorCode(error, 'INACTIVE')) throw error;
        const waitedMs = this.#clock.now() - startedMs;
        if (waitedMs >= this.#limits.inactiveWaitMsMax) {
          throw new FosError(
            'TIMEOUT',
            `${name} stayed inactive for inactiveWaitMsMax (${this.#limits.inactiveWaitMsMax} ms)`,
            { value: name, cause: error },
          );
        }
        this.#counters.inactiveWaits++;
        await thread.sleep(Math.min(backoffMs, this.#limits.inactiveWaitMsMax - waitedMs));
        backoffMs = Math.min(backoffMs * 2, inactiveBackoffMsMax);
      }
    }
  }
}

function resolvedName(name: string, chain: readonly string[], result: DirectResult): ResolvedName {
  return {
    name,
    chain,
    location: result.location,
    publishedCapability: result.publishedCapability === null ? null : (result.publishedCapability as Capability),
  };
}
