import {
  Dispatcher,
  type CallOptions,
  type CallResult,
  type Destination,
  type RegisterOptions,
  type RpcTransport,
  type Thread,
} from '@fos/dispatcher';
import { NameCache } from '@fos/libfos-namecache';
import {
  assert,
  FosError,
  hasFosErrorCode,
  isFosError,
  nameServiceName,
  validateName,
  validateSubdomain,
  type MessageBody,
} from '@fos/base';
import {
  formatLocation,
  validateCapability,
  type Capability,
  type CreatedMailbox,
  type MailboxLocation,
  type MovedMailbox,
  type ProcessContext,
  type ProcessHandle,
  type SpawnOptions,
  type SystemCalls,
} from '@fos/microkernel';
import type { ChannelCounters } from './channels.js';
import { createNameServiceApiClient } from './generated/name-service-api.rpc.js';
import { NameResolver } from './internal/resolution.js';
import { newSendTicket, type SendOrder } from './internal/send-order.js';
import { defaultLibfosLimits, type LibfosLimits } from './limits.js';
import type { LoadBalancerRef, LookupResult, NameServiceApi } from './name-service-api.js';
import { createSendPath, type SendPath, type UkSendCounters } from './send-path.js';

/** How a process's libfos is assembled. */
export interface LibfosOptions {
  /**
   * The name service as this process reaches it. Omit it in ordinary processes: libfos then uses the
   * generated RPC client to a name server of the machine (found with `ukNameServiceLookup`). A
   * name-service member passes its own implementation: the local linkage of §5.2.
   */
  readonly nameService?: NameServiceApi;
  /** Name-service members only: lets their replies reach mailboxes that have no name yet (§5.2). */
  readonly kernelCapability?: Capability;
  readonly limits?: Partial<LibfosLimits>;
  /** Where undeliverable replies and dropped messages are reported. */
  readonly log?: (line: string) => void;
}

/** A name resolved through its chain of indirect names to a mailbox. */
export interface ResolvedName {
  /** The name asked for (the intended name). */
  readonly name: string;
  /** The names followed, the asked one first, the direct one last. */
  readonly chain: readonly string[];
  /** The mailbox at the end of the chain. */
  readonly location: MailboxLocation;
  /** The send capability published with the direct name, if any. */
  readonly publishedCapability: Capability | null;
}

/** Options of `send` and `call`. */
export interface SendOptions {
  /** The capability to send with; default: the one published at the end of the name's chain. */
  readonly capability?: Capability;
}

/** Counters of a process's libfos. */
export interface LibfosStats {
  readonly lookups: number;
  readonly refreshes: number;
  readonly inactiveWaits: number;
  readonly send: UkSendCounters;
  /** User-space channels under the sends: opened, messages through them, messages handed back to the kernel path. */
  readonly channels: ChannelCounters;
}

/**
 * A process's libfos (thesis §2.1, Table 4.1, §4.2, §5.2): its kernel handle, its dispatcher with its
 * send path plugged in (send-path.ts), its private name cache, and the messaging API that sends by name with the
 * error detection and recovery of §4.2.4.
 *
 * Every operation runs in a dispatcher thread: called from one, it parks that thread; called from
 * outside, it runs in a new one.
 */
export class Libfos {
  readonly context: ProcessContext;
  readonly kernel: SystemCalls;
  readonly dispatcher: Dispatcher;
  readonly cache: NameCache<LookupResult>;
  readonly nameService: NameServiceApi;
  private readonly limits: LibfosLimits;
  private readonly sendPath: SendPath;
  private readonly replyMailbox: CreatedMailbox;
  private nameServerAddress: Destination | undefined;
  private canonicalAlias: { name: string; capability: string } | undefined;
  private canonicalAliasPending: Promise<string> | undefined;
  private readonly counters = { lookups: 0, refreshes: 0, inactiveWaits: 0 };
  /** The walk from a name to its mailbox (internal/resolution.ts); it moves `counters` too. */
  private readonly resolver: NameResolver;
  private readonly served = new Set<string>();
  /** Per intended name: the sends in progress, in issue order (see {@link deliver}). */
  private readonly sendOrders = new Map<string, SendOrder>();

  /** @internal Use {@link createLibfos}. */
  constructor(
    context: ProcessContext,
    dispatcher: Dispatcher,
    replyMailbox: CreatedMailbox,
    sendPath: SendPath,
    limits: LibfosLimits,
    options: LibfosOptions,
  ) {
    this.context = context;
    this.kernel = context.kernel;
    this.dispatcher = dispatcher;
    this.replyMailbox = replyMailbox;
    this.sendPath = sendPath;
    this.limits = limits;
    this.cache = new NameCache<LookupResult>({ clock: context.clock });
    this.nameService = options.nameService ?? createNameServiceApiClient(this.nameServiceTransport());
    this.resolver = new NameResolver(this.cache, this.nameService, context.clock, limits, this.counters);
  }

  /** Runs `body` in the current dispatcher thread, or in a new one when called from outside. */
  run<T>(body: (thread: Thread) => Promise<T>): Promise<T> {
    const current = this.dispatcher.currentThread;
    return current === undefined ? this.dispatcher.spawnThread('libfos', body) : body(current);
  }

  // ---- mailboxes -----------------------------------------------------------------------------------

  /** A new mailbox of this process (its first send capability included). */
  createMailbox(options: { queueMessagesMax?: number } = {}): Promise<CreatedMailbox> {
    return this.run((thread) => thread.waitFor(this.kernel.createMailbox(options)));
  }

  /** Serves a mailbox: every request to it runs `options.handler` in a thread of its own. */
  serve(location: MailboxLocation, options: RegisterOptions): void {
    this.dispatcher.register(location, options);
    this.served.add(formatLocation(location));
  }

  /**
   * Migration, the old owner's half: stops serving `mailbox` (if it was served) and
   * hands it over with the kernel's `moveMailbox` to a successor's mailbox — queue in order, names and
   * capabilities. Deactivate the mailbox's names first ({@link deactivate}) so that senders wait rather
   * than fail; the successor then re-registers them with their name capabilities
   * ({@link aliasRegisterDirect}), which reactivates them at the new location.
   */
  handOverMailbox(
    mailbox: MailboxLocation,
    successor: MailboxLocation,
    successorCapability: Capability,
  ): Promise<MovedMailbox> {
    return this.run(async (thread) => {
      if (this.served.delete(formatLocation(mailbox))) this.dispatcher.unregister(mailbox);
      return thread.waitFor(this.kernel.moveMailbox(mailbox, successor, successorCapability));
    });
  }

  // ---- Table 4.1 -----------------------------------------------------------------------------------

  /**
   * `GetCanonicalAlias`: the meaningless unique name (`/tmp/…`) of this process's reply mailbox,
   * registered through `registerTemporary` on first use and cached.
   */
  getCanonicalAlias(): Promise<string> {
    if (this.canonicalAlias !== undefined) return Promise.resolve(this.canonicalAlias.name);
    // Registered once, in a thread of its own; a thread that needs it waits as a dispatcher operation.
    this.canonicalAliasPending ??= this.dispatcher
      .spawnThread('canonical-alias', async (thread) => {
        const result = await this.nameService.registerTemporary({ location: this.replyMailbox.location });
        await thread.waitFor(this.kernel.addName(this.replyMailbox.location, result.name));
        this.canonicalAlias = { name: result.name, capability: result.nameCapability };
        this.dispatcher.setReplyName(result.name);
        return result.name;
      })
      .finally(() => (this.canonicalAliasPending = undefined));
    const current = this.dispatcher.currentThread;
    return current === undefined ? this.canonicalAliasPending : current.waitFor(this.canonicalAliasPending);
  }

  /**
   * `AliasRegisterDirect`: registers `name` for a mailbox of this process, publishing its send
   * capability unless `publish` is false. The name is valid on the mailbox before the name service
   * hands it out, and removed again if the registration fails. Returns the name capability.
   */
  aliasRegisterDirect(
    name: string,
    mailbox: CreatedMailbox,
    namespaceCapability: Capability,
    options: { publish?: boolean; active?: boolean } = {},
  ): Promise<Capability> {
    return this.run(async (thread) => {
      const validName = validateName(name);
      // A name the mailbox holds already (a migration moved it in) is not taken away if this fails.
      const held = (await thread.waitFor(this.kernel.mailboxNames(mailbox.location))).includes(validName);
      if (!held) await thread.waitFor(this.kernel.addName(mailbox.location, validName));
      try {
        const result = await this.nameService.register({
          name: validName,
          capability: namespaceCapability,
          destination:
            options.publish === false
              ? { type: 'direct', location: mailbox.location }
              : { type: 'direct', location: mailbox.location, publishedCapability: mailbox.capability },
          ...(options.active === undefined ? {} : { active: options.active }),
        });
        return result.nameCapability as Capability;
      } catch (error) {
        if (!held) await thread.waitFor(this.kernel.removeName(mailbox.location, validName).catch(() => undefined));
        throw error;
      }
    });
  }

  /** `AliasRegisterIndirect`: adds `destinationName` (weight 1..1000) to the indirect name `name`. Returns the name capability. */
  aliasRegisterIndirect(
    name: string,
    destinationName: string,
    capability: Capability,
    options: { weight?: number; loadBalancer?: LoadBalancerRef } = {},
  ): Promise<Capability> {
    return this.run(async () => {
      const result = await this.nameService.register({
        name,
        capability,
        destination:
          options.weight === undefined
            ? { type: 'indirect', name: destinationName }
            : { type: 'indirect', name: destinationName, weight: options.weight },
        ...(options.loadBalancer === undefined ? {} : { loadBalancer: options.loadBalancer }),
      });
      return result.nameCapability as Capability;
    });
  }

  /** `ReserveNamespace`: reserves a sub-domain (`/sys/fs/*`); returns its namespace capability. */
  reserveNamespace(domain: string, capability: Capability): Promise<Capability> {
    return this.run(
      async () =>
        (await this.nameService.reserve({ domain: validateSubdomain(domain), capability })).capability as Capability,
    );
  }

  /** `UnregisterDirect`: unregisters `name` and removes it from the mailbox. */
  unregisterDirect(name: string, mailbox: MailboxLocation, capability: Capability): Promise<void> {
    return this.run(async (thread) => {
      await this.nameService.unregister({ name, capability });
      this.cache.invalidate(name);
      await thread.waitFor(this.kernel.removeName(mailbox, name));
    });
  }

  /**
   * Marks a registered name inactive (Register/Unregister flags of §3, for migration): Lookups answer
   * `INACTIVE` and senders wait, backing off, until the name is registered active again.
   */
  deactivate(name: string, capability: Capability): Promise<void> {
    return this.run(async () => {
      await this.nameService.unregister({ name: validateName(name), capability, deactivate: true });
      this.cache.invalidate(name);
    });
  }

  /** `UnregisterIndirect`: removes one destination of the indirect name `name`. */
  unregisterIndirect(name: string, destinationName: string, capability: Capability): Promise<void> {
    return this.run(async () => {
      await this.nameService.unregister({ name, capability, destination: destinationName });
      this.cache.invalidate(name);
    });
  }

  /** `ReleaseNamespace`: releases a reserved sub-domain. */
  releaseNamespace(domain: string, capability: Capability): Promise<void> {
    return this.run(async () => {
      await this.nameService.unregister({ name: validateSubdomain(domain), capability });
    });
  }

  /**
   * `AliasResolve`: follows `name` through the cache (and Lookups on a miss) to a mailbox. Waits out an
   * inactive name up to `inactiveWaitMsMax`; answers `CYCLE` past `indirectionHopsMax` hops.
   */
  aliasResolve(name: string): Promise<ResolvedName> {
    return this.run((thread) => this.resolver.resolve(thread, validateName(name), false));
  }

  /**
   * `Send`: a one-way message to `name`, delivered with `ukSend` under the intended name. On a
   * delivery error the cached chain is refreshed through the name service and the send retried once.
   */
  send(name: string, body: MessageBody, options: SendOptions = {}): Promise<void> {
    return this.run((thread) => this.deliver(thread, name, options, (destination) => thread.send(destination, body)));
  }

  /** A request to `name` and its response, with the recovery of {@link send}. */
  call(name: string, body: MessageBody, options: SendOptions & CallOptions = {}): Promise<CallResult> {
    return this.run((thread) =>
      this.deliver(thread, name, options, (destination) => thread.call(destination, body, options)),
    );
  }

  /** Unregisters the canonical alias and stops the dispatcher: call before the process exits. */
  close(): Promise<void> {
    return this.run(async () => {
      const alias = this.canonicalAlias;
      this.canonicalAlias = undefined;
      if (alias !== undefined)
        await this.nameService.unregister({ name: alias.name, capability: alias.capability }).catch(() => undefined);
      this.cache.clear();
      this.sendPath.close();
      this.dispatcher.stop();
    });
  }

  /** Counters. */
  stats(): LibfosStats {
    return {
      ...this.counters,
      send: { ...this.sendPath.counters.send },
      channels: { ...this.sendPath.counters.channels },
    };
  }

  // ---- delivery and resolution ---------------------------------------------------------------------------

  /**
   * Delivers by name with the recovery of §4.2.4, keeping the order of the sends to one intended name.
   * First attempts go out in issue order (the kernel's per-stream sequence numbers keep them so). A
   * refused send waits until every earlier send to the name has settled before it refreshes and
   * retries, and while any send to the name is recovering, later ones wait their turn too: a fleet
   * member that moved (or left) then receives the retried messages in the order they were sent.
   */
  private async deliver<T>(
    thread: Thread,
    name: string,
    options: SendOptions,
    attempt: (destination: Destination) => Promise<T>,
  ): Promise<T> {
    const intended = validateName(name);
    const capability = options.capability === undefined ? undefined : validateCapability(options.capability);
    // The ticket is taken before the first await, so tickets follow the order of the calls.
    let order = this.sendOrders.get(intended);
    if (order === undefined) {
      order = { last: undefined, recovering: 0, inProgress: 0 };
      this.sendOrders.set(intended, order);
    }
    const earlier = order.last;
    const ticket = newSendTicket(earlier);
    order.last = ticket;
    order.inProgress++;
    try {
      // A warm process awaits neither its canonical alias nor the name service here.
      if (intended !== nameServiceName && this.canonicalAlias === undefined) await this.getCanonicalAlias();
      if (order.recovering > 0 && earlier !== undefined) await thread.waitFor(earlier.whenSettled());
      const walked = this.resolver.walkCache(intended);
      let resolved =
        'resolved' in walked ? walked.resolved : await this.resolver.resolve(thread, intended, false, walked);
      // First attempts are issued in ticket order (the kernel then keeps one stream's order), and one
      // that goes elsewhere than the one before it, or while an earlier send recovers, waits until the
      // earlier sends have settled.
      if (earlier !== undefined && !earlier.issued) await thread.waitFor(earlier.whenIssued());
      ticket.location = formatLocation(resolved.location);
      if (earlier !== undefined && (order.recovering > 0 || earlier.location !== ticket.location))
        await thread.waitFor(earlier.whenSettled());
      let pending: Promise<T>;
      try {
        pending = attempt(this.destination(resolved, capability));
      } finally {
        ticket.markIssued();
      }
      try {
        return await pending;
      } catch (error) {
        if (!isDeliveryRefusal(error)) throw error;
        order.recovering++;
        try {
          for (const followed of resolved.chain) this.cache.invalidate(followed);
          if (earlier !== undefined) await thread.waitFor(earlier.whenSettled());
          this.counters.refreshes++;
          resolved = await this.resolver.resolve(thread, intended, true);
          return await attempt(this.destination(resolved, capability));
        } finally {
          order.recovering--;
        }
      }
    } finally {
      ticket.markIssued();
      ticket.markSettled();
      if (--order.inProgress === 0) this.sendOrders.delete(intended);
    }
  }

  private destination(resolved: ResolvedName, capability: Capability | undefined): Destination {
    const sendCapability = capability ?? resolved.publishedCapability;
    if (sendCapability === null) {
      throw new FosError(
        'PERMISSION_DENIED',
        `${resolved.name} publishes no send capability (${resolved.chain.join(' → ')}); pass one`,
        { value: resolved.name },
      );
    }
    return { name: resolved.name, location: resolved.location, capability: sendCapability };
  }

  /** The generated client's way to the name service: a dispatcher call to a name server of this machine. */
  private nameServiceTransport(): RpcTransport {
    return {
      invoke: (ordinal, _method, args) =>
        this.run(async (thread) => {
          const options: CallOptions = { timeoutMs: this.limits.nameServiceCallTimeoutMs };
          for (let attempt = 0; ; attempt++) {
            this.nameServerAddress ??= await this.findNameServer(thread);
            try {
              return (await thread.call(this.nameServerAddress, { rpc: ordinal, args }, options)).body;
            } catch (error) {
              // The name server went away, changed, or left its fleet (SHUTDOWN, answered before it
              // touched anything): find one again, once.
              if (attempt > 0 || !(isDeliveryRefusal(error) || hasFosErrorCode(error, 'SHUTDOWN'))) throw error;
              this.nameServerAddress = undefined;
            }
          }
        }),
    };
  }

  private async findNameServer(thread: Thread): Promise<Destination> {
    const found = await thread.waitFor(this.kernel.ukNameServiceLookup());
    return { name: nameServiceName, location: found.location, capability: found.capability };
  }
}

/** A refusal by the microkernel (the message was not delivered), as opposed to an error the responder answered. */
function isDeliveryRefusal(error: unknown): boolean {
  return (
    isFosError(error) &&
    error.details.sequence !== undefined &&
    (error.code === 'NO_SUCH_NAME' || error.code === 'PERMISSION_DENIED' || error.code === 'UNREACHABLE')
  );
}

/**
 * Assembles a process's libfos: a reply mailbox (nameless until its canonical alias is registered), a
 * dispatcher whose one way out is this process's send path (send-path.ts: unchecked replies for
 * name-service members holding the kernel capability, user-space channels, the kernel path), and the
 * name cache.
 */
export async function createLibfos(context: ProcessContext, options: LibfosOptions = {}): Promise<Libfos> {
  const reply = await context.kernel.createMailbox();
  const limits: LibfosLimits = { ...defaultLibfosLimits, ...options.limits };
  const sendPath = createSendPath(context.kernel, context.clock, {
    kernelCapability: options.kernelCapability,
    channelAfterSends: limits.channelAfterSends,
    channelsPerProcessMax: limits.channelsPerProcessMax,
    // Asked at send time only, once the dispatcher below exists.
    replyNamed: () => dispatcher.replyAddress.name !== null,
  });
  const dispatcher = new Dispatcher({
    kernel: context.kernel,
    send: sendPath.send,
    clock: context.clock,
    replyAddress: { name: null, location: reply.location, capability: reply.capability },
    crash: (error) =>
      context.guard(() => {
        throw error;
      }),
    ...(options.log === undefined ? {} : { log: options.log }),
  });
  return new Libfos(context, dispatcher, reply, sendPath, limits, options);
}

/** An entry function that receives its process's libfos instead of the bare context. */
export function withLibfos<A extends MessageBody, R>(
  entry: (libfos: Libfos, args: A) => Promise<R>,
  options: LibfosOptions = {},
): (context: ProcessContext, args: MessageBody) => Promise<R> {
  return async (context, args) => entry(await createLibfos(context, options), args as A);
}

/** Whatever spawns processes: a `Machine`, or a booted instance. */
export interface ProcessSpawner {
  spawn(options: SpawnOptions): Promise<ProcessHandle>;
}

/**
 * Spawns a process on `core` whose entry assembles its libfos, and hands that libfos back. Only for
 * fabrics that run every core in the caller's thread (`local`, `sim`: tests, benchmarks, demos): the
 * object returned is the process's own. `UNREACHABLE` when the entry crashed.
 */
export async function spawnLibfos(
  spawner: ProcessSpawner,
  core: number,
  name: string,
  options: LibfosOptions = {},
): Promise<Libfos> {
  let made: Libfos | undefined;
  await spawner.spawn({
    core,
    name,
    function: async (context) => {
      made = await createLibfos(context, options);
    },
  });
  assert(made !== undefined, `the entry of ${name} assembled its libfos`);
  return made;
}
