import type { Dispatcher } from '@fos/dispatcher';
import {
  type CallOptions,
  type CallResult,
  type Destination,
  type RegisterOptions,
  type RpcTransport,
  type Thread,
} from '@fos/dispatcher';
import { NameCache } from '@fos/libfos-namecache';
import { FosError, hasFosErrorCode, nameServiceName, type MessageBody } from '@fos/base';
import {
  formatLocation,
  type Capability,
  type CreatedMailbox,
  type MailboxLocation,
  type MovedMailbox,
  type ProcessContext,
  type SystemCalls,
} from '@fos/microkernel';
import type { ChannelCounters } from './channels.js';
import { createNameServiceApiClient } from './generated/name-service-api.rpc.js';
import {
  capabilityArgument,
  directOptionsSchema,
  indirectOptionsSchema,
  locationArgument,
  mailboxArgument,
  mailboxOptionsSchema,
  nameArgument,
  optionsArgument,
  sendArguments,
  serveOptionsSchema,
  subdomainArgument,
  rejectWith,
  type SendArguments,
} from './internal/arguments.js';
import { isDeliveryRefusal, messageTooLarge } from './internal/delivery-errors.js';
import { NameResolver } from './internal/resolution.js';
import { newSendTicket, type SendOrder } from './internal/send-order.js';
import { nameServerAttemptsMax, nameServerBackoffMsMax, type LibfosLimits } from './limits.js';
import type { LoadBalancerRef, LookupResult, NameServiceApi } from './name-service-api.js';
import type { SendPath, UkSendCounters } from './send-path.js';

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
  /** The mailboxes this process serves, by location, with how (to serve one again after a refused move). */
  private readonly served = new Map<string, RegisterOptions>();
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
  async createMailbox(options: { queueMessagesMax?: number } = {}): Promise<CreatedMailbox> {
    return this.run((thread) =>
      thread.waitFor(this.kernel.createMailbox(optionsArgument('createMailbox', mailboxOptionsSchema, options))),
    );
  }

  /** Serves a mailbox: every request to it runs `options.handler` in a thread of its own (`BAD_REQUEST` for malformed options). */
  serve(location: MailboxLocation, options: RegisterOptions): void {
    const valid = locationArgument('serve', 'location', location);
    if (options === undefined) throw new FosError('BAD_REQUEST', 'serve: options (with a handler) are required');
    optionsArgument('serve', serveOptionsSchema, options);
    // The kernel's ownership check, before the dispatcher takes the mailbox on (PERMISSION_DENIED).
    this.kernel.pendingMessages(valid);
    this.dispatcher.register(valid, options);
    this.served.set(formatLocation(valid), options);
  }

  /**
   * Migration, the old owner's half: stops serving `mailbox` (if it was served) and
   * hands it over with the kernel's `moveMailbox` to a successor's mailbox — queue in order, names and
   * capabilities. Deactivate the mailbox's names first ({@link deactivate}) so that senders wait rather
   * than fail; the successor then re-registers them with their name capabilities
   * ({@link aliasRegisterDirect}), which reactivates them at the new location.
   */
  async handOverMailbox(
    mailbox: MailboxLocation,
    successor: MailboxLocation,
    successorCapability: Capability,
  ): Promise<MovedMailbox> {
    const from = locationArgument('handOverMailbox', 'mailbox', mailbox);
    const to = locationArgument('handOverMailbox', 'successor', successor);
    const capability = capabilityArgument('handOverMailbox', 'successorCapability', successorCapability);
    return this.run(async (thread) => {
      // The dispatcher lets go of the mailbox so that its whole queue moves; a refused move serves it again.
      const key = formatLocation(from);
      const served = this.served.get(key);
      if (served !== undefined) this.dispatcher.unregister(from);
      try {
        const moved = await thread.waitFor(this.kernel.moveMailbox(from, to, capability));
        this.served.delete(key);
        return moved;
      } catch (error) {
        if (served !== undefined) this.dispatcher.register(from, served);
        throw error;
      }
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
  async aliasRegisterDirect(
    name: string,
    mailbox: CreatedMailbox,
    namespaceCapability: Capability,
    options: { publish?: boolean; active?: boolean } = {},
  ): Promise<Capability> {
    const operation = 'aliasRegisterDirect';
    const validName = nameArgument(operation, 'name', name);
    const { location, capability } = mailboxArgument(operation, 'mailbox', mailbox);
    const authority = capabilityArgument(operation, 'namespaceCapability', namespaceCapability);
    const { publish, active } = optionsArgument(operation, directOptionsSchema, options);
    return this.run(async (thread) => {
      // A name the mailbox holds already (a migration moved it in) is not taken away if this fails.
      const held = (await thread.waitFor(this.kernel.mailboxNames(location))).includes(validName);
      if (!held) await thread.waitFor(this.kernel.addName(location, validName));
      try {
        const result = await this.nameService.register({
          name: validName,
          capability: authority,
          destination:
            publish === false
              ? { type: 'direct', location }
              : { type: 'direct', location, publishedCapability: capability },
          ...(active === undefined ? {} : { active }),
        });
        return result.nameCapability as Capability;
      } catch (error) {
        if (!held) await thread.waitFor(this.kernel.removeName(location, validName).catch(() => undefined));
        throw error;
      }
    });
  }

  /** `AliasRegisterIndirect`: adds `destinationName` (weight 1..1000) to the indirect name `name`. Returns the name capability. */
  async aliasRegisterIndirect(
    name: string,
    destinationName: string,
    capability: Capability,
    options: { weight?: number; loadBalancer?: LoadBalancerRef } = {},
  ): Promise<Capability> {
    const operation = 'aliasRegisterIndirect';
    const validName = nameArgument(operation, 'name', name);
    const destination = nameArgument(operation, 'destinationName', destinationName);
    const authority = capabilityArgument(operation, 'capability', capability);
    const { weight, loadBalancer } = optionsArgument(operation, indirectOptionsSchema, options);
    return this.run(async () => {
      const result = await this.nameService.register({
        name: validName,
        capability: authority,
        destination:
          weight === undefined
            ? { type: 'indirect', name: destination }
            : { type: 'indirect', name: destination, weight },
        ...(loadBalancer === undefined ? {} : { loadBalancer }),
      });
      return result.nameCapability as Capability;
    });
  }

  /** `ReserveNamespace`: reserves a sub-domain (`/sys/fs/*`); returns its namespace capability. */
  async reserveNamespace(domain: string, capability: Capability): Promise<Capability> {
    const validDomain = subdomainArgument('reserveNamespace', 'domain', domain);
    const authority = capabilityArgument('reserveNamespace', 'capability', capability);
    return this.run(
      async () =>
        (await this.nameService.reserve({ domain: validDomain, capability: authority })).capability as Capability,
    );
  }

  /**
   * `UnregisterDirect`: unregisters `name`, which must be registered at `mailbox` (a mailbox of this
   * process), and removes it from the mailbox. The kernel is asked first whether the mailbox is this
   * process's (`PERMISSION_DENIED` otherwise), the name service then refuses a name registered
   * elsewhere (`NO_SUCH_NAME`), and only once it has removed the entry does the kernel let go of the
   * name: a refused call changes nothing.
   */
  async unregisterDirect(name: string, mailbox: MailboxLocation, capability: Capability): Promise<void> {
    const validName = nameArgument('unregisterDirect', 'name', name);
    const location = locationArgument('unregisterDirect', 'mailbox', mailbox);
    const authority = capabilityArgument('unregisterDirect', 'capability', capability);
    return this.run(async (thread) => {
      const held = (await thread.waitFor(this.kernel.mailboxNames(location))).includes(validName);
      await this.nameService.unregister({ name: validName, capability: authority, location });
      this.cache.invalidate(validName);
      if (held) await thread.waitFor(this.kernel.removeName(location, validName));
    });
  }

  /**
   * Marks a registered name inactive (Register/Unregister flags of §3, for migration): Lookups answer
   * `INACTIVE` and senders wait, backing off, until the name is registered active again.
   */
  async deactivate(name: string, capability: Capability): Promise<void> {
    const validName = nameArgument('deactivate', 'name', name);
    const authority = capabilityArgument('deactivate', 'capability', capability);
    return this.run(async () => {
      await this.nameService.unregister({ name: validName, capability: authority, deactivate: true });
      this.cache.invalidate(validName);
    });
  }

  /**
   * `UnregisterIndirect`: removes one destination of the indirect name `name` (the name goes with its
   * last destination). The destination is required: to remove a whole name at once, use
   * {@link unregisterName}.
   */
  async unregisterIndirect(name: string, destinationName: string, capability: Capability): Promise<void> {
    const validName = nameArgument('unregisterIndirect', 'name', name);
    const destination = nameArgument('unregisterIndirect', 'destinationName', destinationName);
    const authority = capabilityArgument('unregisterIndirect', 'capability', capability);
    return this.run(async () => {
      await this.nameService.unregister({ name: validName, capability: authority, destination });
      this.cache.invalidate(validName);
    });
  }

  /**
   * Removes a whole name from the name service at once: every destination of an indirect name (a
   * fleet's name), or the entry of a direct name (its mailbox keeps the name in the kernel until its
   * owner removes it; the owner uses {@link unregisterDirect}, which does both).
   */
  async unregisterName(name: string, capability: Capability): Promise<void> {
    const validName = nameArgument('unregisterName', 'name', name);
    const authority = capabilityArgument('unregisterName', 'capability', capability);
    return this.run(async () => {
      await this.nameService.unregister({ name: validName, capability: authority });
      this.cache.invalidate(validName);
    });
  }

  /** `ReleaseNamespace`: releases a reserved sub-domain (refused while names live under it). */
  async releaseNamespace(domain: string, capability: Capability): Promise<void> {
    const validDomain = subdomainArgument('releaseNamespace', 'domain', domain);
    const authority = capabilityArgument('releaseNamespace', 'capability', capability);
    return this.run(async () => {
      await this.nameService.unregister({ name: validDomain, capability: authority });
    });
  }

  /**
   * `AliasResolve`: follows `name` through the cache (and Lookups on a miss) to a mailbox. Waits out an
   * inactive name up to `inactiveWaitMsMax`; answers `CYCLE` past `indirectionHopsMax` hops.
   */
  async aliasResolve(name: string): Promise<ResolvedName> {
    const validName = nameArgument('aliasResolve', 'name', name);
    return this.run((thread) => this.resolver.resolve(thread, validName, false));
  }

  /**
   * `Send`: a one-way message to `name`, delivered with `ukSend` under the intended name. On a
   * delivery error the cached chain is refreshed through the name service and the send retried once.
   */
  send(name: string, body: MessageBody, options?: SendOptions): Promise<void> {
    let valid: SendArguments;
    try {
      valid = sendArguments('send', name, body, options);
    } catch (error) {
      return rejectWith(error);
    }
    return this.run((thread) => this.deliver(thread, valid, (destination) => thread.send(destination, valid.body)));
  }

  /** A request to `name` and its response, with the recovery of {@link send}. */
  call(name: string, body: MessageBody, options?: SendOptions & CallOptions): Promise<CallResult> {
    let valid: SendArguments;
    try {
      valid = sendArguments('call', name, body, options);
    } catch (error) {
      return rejectWith(error);
    }
    return this.run((thread) =>
      this.deliver(thread, valid, (destination) => thread.call(destination, valid.body, valid.options)),
    );
  }

  /**
   * The transport of a client generated by `fos-rpcgen` that calls the service `name` by name, as
   * {@link Libfos.call} does: through the name cache, a stale entry refreshed and the call retried
   * once. Every call takes `options` (a capability, a timeout or a deadline). The name and options are
   * checked here: `INVALID_NAME`, `BAD_REQUEST`.
   */
  rpcTransport(name: string, options?: SendOptions & CallOptions): RpcTransport {
    const valid = sendArguments('rpcTransport', name, {}, options);
    const callOptions = {
      ...valid.options,
      ...(valid.capability === undefined ? {} : { capability: valid.capability }),
    };
    return {
      invoke: async (ordinal, _method, args) => (await this.call(valid.name, { rpc: ordinal, args }, callOptions)).body,
    };
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
    valid: SendArguments,
    attempt: (destination: Destination) => Promise<T>,
  ): Promise<T> {
    const { name: intended, capability } = valid;
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
        if (hasFosErrorCode(error, 'MESSAGE_TOO_LARGE')) {
          // Refused before it left: what this send's Lookups put in the cache goes again.
          if (!('resolved' in walked)) for (const followed of resolved.chain) this.cache.invalidate(followed);
          throw messageTooLarge(valid, error);
        }
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
          // Members that refused this request before touching it: a member that left its fleet (the
          // kernel refuses the delivery, or the member answers SHUTDOWN) or went away.
          const refused = new Set<string>();
          let lastRefusal: unknown;
          let backoffMs = 1;
          for (let attempt = 0; attempt < nameServerAttemptsMax; attempt++) {
            let address = this.nameServerAddress;
            if (address === undefined) {
              address = await this.findNameServer(thread);
              if (refused.has(destinationKey(address))) {
                // The kernel named a member that has just refused: its unregistration is still on
                // its way to this core. Wait for it, then ask again.
                await thread.sleep(backoffMs);
                backoffMs = Math.min(2 * backoffMs, nameServerBackoffMsMax);
                continue;
              }
              this.nameServerAddress = address;
            }
            try {
              return (await thread.call(address, { rpc: ordinal, args }, options)).body;
            } catch (error) {
              if (!(isDeliveryRefusal(error) || hasFosErrorCode(error, 'SHUTDOWN'))) throw error;
              refused.add(destinationKey(address));
              lastRefusal = error;
              if (this.nameServerAddress === address) this.nameServerAddress = undefined;
            }
          }
          const last = lastRefusal instanceof Error ? lastRefusal.message : 'none took it';
          throw new FosError(
            'UNREACHABLE',
            `no name server took the request in nameServerAttemptsMax (${nameServerAttemptsMax}) attempts; the last refusal: ${last}`,
            { value: nameServiceName, cause: lastRefusal },
          );
        }),
    };
  }

  private async findNameServer(thread: Thread): Promise<Destination> {
    const found = await thread.waitFor(this.kernel.ukNameServiceLookup());
    return { name: nameServiceName, location: found.location, capability: found.capability };
  }
}

/** A destination as text: its location when it has one, else its name. */
function destinationKey(destination: Destination): string {
  return destination.location === undefined ? String(destination.name) : formatLocation(destination.location);
}
