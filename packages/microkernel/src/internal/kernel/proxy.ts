// The third delivery mechanism of thesis §2.2: a message to a mailbox of another machine. The kernel
// never talks to another machine itself. One process of the machine, its proxy, attaches to the kernel
// of its core with the kernel capability (`ukProxyAttach`); every core learns which core that is. A
// `ukSend` (or `abandonSend`) to a location of another machine goes, as a `forward`, to the proxy's
// core, whose kernel hands it to the proxy; the proxy carries it to the destination machine's proxy,
// which hands it to its own kernel (`deliver` of the attachment). That kernel makes the same checks
// as for a sender of its own machine (§4.2.4: name, capability, room, sequence), and its answer
// travels back the same way, so the sender sees the same results and error codes as on one machine.
//
// What the proxy's kernel trusts: the proxy holds the kernel capability, so the identity it stamps on
// a delivery from another machine is believed (the proxy checks that it names the machine it came
// from). Alias edits (`ukAddAlias`, `ukRemoveAlias` with this machine's kernel capability, checked
// here) for a mailbox of another machine travel the same way and are applied there with that machine's
// kernel capability, which its proxy holds: the machines of one instance trust each other's kernels
// (they hold one cluster key). What never crosses machines: channels (their rings are shared memory),
// unchecked sends (the kernel capability stays on its machine) and mailbox moves.
import { FosError, isFosError, validateName } from '@fos/base';
import { validateCapability, type Capability } from '../../capability.js';
import type { KernelMessage } from '../../fabric.js';
import { proxyForwardsPendingMax } from '../../limits.js';
import { locationText, validateLocation, type MailboxLocation, type SenderIdentity } from '../../location.js';
import { validateMailboxName } from '../mailbox-name.js';
import type { ProcessRecord } from '../tables.js';
import { serializeFosError } from '../serialized-error.js';
import {
  checkCaller,
  checkKernelCapability,
  checkRunning,
  publishStats,
  request,
  validateTarget,
  type KernelState,
} from './state.js';

/** A message of this machine for a mailbox of another machine, as the kernel hands it to the proxy. */
export type ForwardedMessage =
  | (ForeignDelivery & {
      readonly kind: 'deliver';
      /** What {@link ProxyAttachment.answer} names to settle the send. */
      readonly id: number;
    })
  | {
      /** An alias edit of this machine's name service for a mailbox of another machine; answered like a send. */
      readonly kind: 'alias';
      readonly id: number;
      readonly operation: 'add' | 'remove';
      readonly location: MailboxLocation;
      readonly name: string;
    }
  | {
      /** `abandonSend` of a refused send: the destination's stream may move past `sequence`. No answer. */
      readonly kind: 'skip';
      readonly sender: SenderIdentity;
      readonly location: MailboxLocation;
      readonly sequence: number;
    };

/** A delivery from another machine, as that machine's proxy sent it, for a mailbox of this machine. */
export interface ForeignDelivery {
  readonly sender: SenderIdentity;
  readonly location: MailboxLocation;
  readonly destinationName: string;
  readonly capability: string;
  readonly sequence: number;
  readonly bytes: Uint8Array;
}

/** The proxy's handle on its kernel, from `ukProxyAttach` (the kernel capability is checked once, there). */
export interface ProxyAttachment {
  /** Settles the forwarded send `id`: accepted (no error) or refused with `error`. Unknown ids are ignored. */
  answer(id: number, error?: FosError): void;
  /** Delivers a message from another machine with the checks of a local send; rejects as a local send would. */
  deliver(delivery: ForeignDelivery): Promise<void>;
  /** A sender of another machine gave up a refused send (its `abandonSend`). */
  skip(sender: SenderIdentity, location: MailboxLocation, sequence: number): void;
  /**
   * Another machine's alias edit for a mailbox of this machine, applied with this machine's kernel
   * capability; rejects as `ukAddAlias` / `ukRemoveAlias` would.
   */
  alias(operation: 'add' | 'remove', location: MailboxLocation, name: string): Promise<void>;
  /** Forwarded sends not answered yet. */
  readonly pending: number;
  /** Stops being the machine's proxy: every unanswered forward fails with `UNREACHABLE`. */
  detach(): Promise<void>;
}

/** The proxy attached to this core's kernel (kept in the state of the proxy's core only). */
export interface AttachedProxy {
  readonly owner: string;
  /** The kernel capability it attached with: what it applies other machines' alias edits with. */
  readonly kernelCapability: Capability;
  readonly onForward: (message: ForwardedMessage) => void;
  /** Forward id → the request of the sender's kernel it answers. */
  readonly outstanding: Map<number, { readonly fromCore: number; readonly requestId: number }>;
  nextForwardId: number;
}

// ---- the sending machine ---------------------------------------------------------------------------------

/** The core whose kernel hands messages for `target`'s machine to the proxy; `UNREACHABLE` without one. */
export function proxyCoreFor(state: KernelState, target: MailboxLocation): number {
  if (state.proxyCore === undefined)
    throw new FosError(
      'UNREACHABLE',
      `no mailbox at ${locationText(target)}: machine ${state.machine} has no proxy to reach machine ${target.machine}`,
      { value: target },
    );
  return state.proxyCore;
}

/**
 * The location a send names, on this machine or another one. A location of another machine is
 * checked only for its form here: whether it exists is for that machine's kernel to say.
 */
export function validateSendTarget(state: KernelState, location: unknown): MailboxLocation {
  const target = validateLocation(location);
  return target.machine === state.machine ? validateTarget(state, target) : target;
}

/** The proxy core's side of a `forward`: hand it to the proxy, or refuse it at once. */
export function acceptForward(state: KernelState, message: Extract<KernelMessage, { kind: 'forward' }>): void {
  const { sender, location, destinationName, capability, sequence, bytes } = message;
  handToProxy(state, message, (id) => ({
    kind: 'deliver',
    id,
    sender,
    location,
    destinationName,
    capability,
    sequence,
    bytes,
  }));
}

/** The proxy core's side of a `forwardAlias`: hand it to the proxy, or refuse it at once. */
export function acceptForwardAlias(
  state: KernelState,
  message: Extract<KernelMessage, { kind: 'forwardAlias' }>,
): void {
  const { operation, location, name } = message;
  handToProxy(state, message, (id) => ({ kind: 'alias', id, operation, location, name }));
}

/** Hands a request of another core to the proxy; its answer (or the refusal) goes back to that core. */
function handToProxy(
  state: KernelState,
  message: { readonly fromCore: number; readonly requestId: number; readonly location: MailboxLocation },
  forwarded: (id: number) => ForwardedMessage,
): void {
  const proxy = state.proxy;
  const refuse = (error: FosError): void => {
    state.refused++;
    publishStats(state);
    state.port.post(message.fromCore, {
      kind: 'result',
      fromCore: state.core,
      requestId: message.requestId,
      error: serializeFosError(error),
    });
  };
  if (proxy === undefined) {
    refuse(
      new FosError(
        'UNREACHABLE',
        `no mailbox at ${locationText(message.location)}: the proxy of machine ${state.machine} is gone`,
        { value: message.location },
      ),
    );
    return;
  }
  if (proxy.outstanding.size >= proxyForwardsPendingMax) {
    refuse(
      new FosError(
        'WOULD_BLOCK',
        `the proxy of machine ${state.machine} has proxyForwardsPendingMax (${proxyForwardsPendingMax}) sends unanswered`,
        { value: message.location },
      ),
    );
    return;
  }
  const id = proxy.nextForwardId++;
  proxy.outstanding.set(id, { fromCore: message.fromCore, requestId: message.requestId });
  try {
    proxy.onForward(forwarded(id));
  } catch (error) {
    // The proxy refused it on the spot (no connection to that machine, say): the request fails with that.
    if (!proxy.outstanding.delete(id)) return;
    refuse(
      isFosError(error)
        ? error
        : new FosError('UNREACHABLE', `the proxy of machine ${state.machine} failed: ${String(error)}`, {
            value: message.location,
          }),
    );
  }
}

/** The proxy core's side of a `forwardSkip`: tell the proxy (nothing answers a skip). */
export function acceptForwardSkip(state: KernelState, message: Extract<KernelMessage, { kind: 'forwardSkip' }>): void {
  try {
    state.proxy?.onForward({
      kind: 'skip',
      sender: message.sender,
      location: message.location,
      sequence: message.sequence,
    });
  } catch {
    // A skip that cannot travel leaves a gap the destination fills when the stream is re-sent; nothing to answer.
  }
}

// ---- attaching -----------------------------------------------------------------------------------------

/** `ukProxyAttach`: `caller` becomes the machine's proxy; every core learns to forward to this one. */
export async function ukProxyAttach(
  state: KernelState,
  caller: ProcessRecord,
  kernelCapability: unknown,
  onForward: unknown,
): Promise<ProxyAttachment> {
  checkCaller(state, caller);
  checkKernelCapability(state, validateCapability(kernelCapability));
  if (typeof onForward !== 'function')
    throw new FosError('BAD_REQUEST', 'ukProxyAttach needs a function to hand forwarded messages to', {
      value: onForward,
    });
  if (state.proxyCore !== undefined)
    throw new FosError(
      'CONFLICT',
      `machine ${state.machine} has a proxy already (on core ${state.proxyCore}); detach it first`,
      { value: state.proxyCore },
    );
  const proxy: AttachedProxy = {
    owner: caller.id,
    kernelCapability: validateCapability(kernelCapability),
    onForward: onForward as (message: ForwardedMessage) => void,
    outstanding: new Map(),
    nextForwardId: 1,
  };
  state.proxy = proxy;
  await broadcastProxyCore(state, state.core);
  return {
    answer: (id, error) => answerForward(state, proxy, id, error),
    deliver: (delivery) => deliverForeign(state, proxy, delivery),
    skip: (sender, location, sequence) => skipForeign(state, proxy, sender, location, sequence),
    alias: (operation, location, name) => aliasForeign(state, proxy, operation, location, name),
    get pending() {
      return proxy.outstanding.size;
    },
    detach: () => detachProxy(state, proxy),
  };
}

/** Tells every core's kernel (this one too) where the proxy is; `core` null: there is none. */
async function broadcastProxyCore(state: KernelState, core: number | null): Promise<void> {
  const requests: Array<Promise<unknown>> = [];
  for (let toCore = 0; toCore < state.coreCount; toCore++) {
    if (state.lostCores.has(toCore)) continue;
    requests.push(
      request(state, toCore, (requestId) => ({ kind: 'proxyCore', fromCore: state.core, requestId, core })),
    );
  }
  await Promise.allSettled(requests);
}

/** This core's record of where the machine's proxy is. */
export function applyProxyCore(state: KernelState, core: number | null): undefined {
  state.proxyCore = core ?? undefined;
  return undefined;
}

/**
 * The proxy is gone (detached, or its process ended): its unanswered forwards fail with `UNREACHABLE`,
 * and every core stops forwarding to it.
 */
export function detachProxy(state: KernelState, proxy: AttachedProxy): Promise<void> {
  if (state.proxy !== proxy) return Promise.resolve();
  state.proxy = undefined;
  for (const id of [...proxy.outstanding.keys()])
    answerForward(
      state,
      proxy,
      id,
      new FosError('UNREACHABLE', `the proxy of machine ${state.machine} is gone`, { value: state.machine }),
    );
  if (state.shutDown) return Promise.resolve();
  return broadcastProxyCore(state, null);
}

function answerForward(state: KernelState, proxy: AttachedProxy, id: number, error: FosError | undefined): void {
  const waiting = proxy.outstanding.get(id);
  if (waiting === undefined) return;
  proxy.outstanding.delete(id);
  if (state.shutDown) return;
  state.port.post(
    waiting.fromCore,
    error === undefined
      ? { kind: 'result', fromCore: state.core, requestId: waiting.requestId }
      : { kind: 'result', fromCore: state.core, requestId: waiting.requestId, error: serializeFosError(error) },
  );
}

// ---- the receiving machine -------------------------------------------------------------------------------

/** The identity of a sender of another machine, checked for its form. */
function foreignSender(state: KernelState, sender: SenderIdentity): SenderIdentity {
  if (
    typeof sender !== 'object' ||
    sender === null ||
    typeof sender.machine !== 'string' ||
    typeof sender.process !== 'string' ||
    !Number.isSafeInteger(sender.core)
  )
    throw new FosError('BAD_REQUEST', 'a delivery from another machine names no sender', { value: sender });
  if (sender.machine === state.machine)
    throw new FosError('PERMISSION_DENIED', `a delivery from another machine names a sender of this one`, {
      value: sender.machine,
    });
  return { machine: sender.machine, core: sender.core, process: sender.process };
}

/** A delivery of another machine for a mailbox of this one: the same request a local `ukSend` makes. */
async function deliverForeign(state: KernelState, proxy: AttachedProxy, delivery: ForeignDelivery): Promise<void> {
  checkAttached(state, proxy);
  const sender = foreignSender(state, delivery.sender);
  const target = validateTarget(state, delivery.location);
  const name = validateName(delivery.destinationName);
  const capability = validateCapability(delivery.capability);
  const { sequence, bytes } = delivery;
  if (!Number.isSafeInteger(sequence) || sequence < 0)
    throw new FosError('BAD_REQUEST', `sequence ${String(sequence)} is not a whole number`, { value: sequence });
  if (!(bytes instanceof Uint8Array) || bytes.length > state.limits.messageBytesMax)
    throw new FosError(
      'MESSAGE_TOO_LARGE',
      `a delivery from another machine is not bytes of at most messageBytesMax (${state.limits.messageBytesMax})`,
      { value: bytes instanceof Uint8Array ? bytes.length : bytes },
    );
  await request(
    state,
    target.core,
    (requestId) => ({
      kind: 'deliver',
      fromCore: state.core,
      requestId,
      sender,
      location: target,
      destinationName: name,
      capability,
      sequence,
      bytes,
    }),
    `${sender.process}>${target.core}/${target.mailbox}`,
  );
}

function skipForeign(
  state: KernelState,
  proxy: AttachedProxy,
  sender: SenderIdentity,
  location: MailboxLocation,
  sequence: number,
): void {
  checkAttached(state, proxy);
  const from = foreignSender(state, sender);
  const target = validateTarget(state, location);
  if (!Number.isSafeInteger(sequence) || sequence < 0)
    throw new FosError('BAD_REQUEST', `sequence ${String(sequence)} is not a whole number`, { value: sequence });
  state.port.post(
    target.core,
    { kind: 'skip', fromCore: state.core, sender: from, location: target, sequence },
    `${from.process}>${target.core}/${target.mailbox}`,
  );
}

async function aliasForeign(
  state: KernelState,
  proxy: AttachedProxy,
  operation: 'add' | 'remove',
  location: MailboxLocation,
  name: string,
): Promise<void> {
  checkAttached(state, proxy);
  if (operation !== 'add' && operation !== 'remove')
    throw new FosError('BAD_REQUEST', `alias operation ${String(operation)} is neither add nor remove`, {
      value: operation,
    });
  const target = validateTarget(state, location);
  const valid = operation === 'add' ? validateMailboxName(name) : validateName(name);
  await request(state, target.core, (requestId) => ({
    kind: 'alias',
    fromCore: state.core,
    requestId,
    operation,
    kernelCapability: proxy.kernelCapability,
    location: target,
    name: valid,
  }));
}

function checkAttached(state: KernelState, proxy: AttachedProxy): void {
  checkRunning(state);
  if (state.proxy !== proxy)
    throw new FosError('SHUTDOWN', `this proxy of machine ${state.machine} is detached`, { value: state.machine });
}
