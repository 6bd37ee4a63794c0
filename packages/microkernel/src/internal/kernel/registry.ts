// The bootstrapping system calls of thesis §5.2. The name-server registry: `ukNameServiceRegister`
// and `ukNameServiceUnregister` keep the machine's list of name servers (every core's kernel holds a
// copy, so `ukNameServiceLookup` answers at once), and `/sys/name` is never stored: it is a valid name
// of every registered mailbox. Unchecked permits: `ukUncheckedSend` lets a name server answer a process
// whose mailbox has no name yet, with the kernel capability and only as often as that process has
// written to the name server (each delivery to a name server's mailbox grants one permit).
import { assert, encodeBody, FosError, nameServiceName } from '@fos/base';
import { hashCheckedCapability, validateCapability, type Capability } from '../../capability.js';
import type { KernelMessage } from '../../fabric.js';
import type { NameServerEntry } from '../../kernel.js';
import { nameServersPerMachineMax, uncheckedPermitsPerPairMax } from '../../limits.js';
import { locationText, type MailboxLocation } from '../../location.js';
import type { ProcessRecord } from '../tables.js';
import { shootDown } from './channels.js';
import {
  checkCaller,
  checkKernelCapability,
  checkQueueSpace,
  checkRunning,
  enqueue,
  identity,
  ownedMailbox,
  request,
  targetMailbox,
  validateTarget,
  type KernelState,
} from './state.js';

// ---- the name-server registry ----------------------------------------------------------------------

/** `ukNameServiceRegister` (§5.2): makes an own mailbox a name server of the machine. */
export async function ukNameServiceRegister(
  state: KernelState,
  caller: ProcessRecord,
  location: unknown,
  kernelCapability: unknown,
  sendCapability: unknown,
): Promise<void> {
  checkKernelCapability(state, validateCapability(kernelCapability));
  const mailbox = ownedMailbox(state, caller, location);
  const capability = validateCapability(sendCapability);
  if (!mailbox.capabilityHashes.has(hashCheckedCapability(capability))) {
    throw new FosError(
      'PERMISSION_DENIED',
      `the send capability is not valid for mailbox ${locationText(mailbox.location)}`,
      { value: mailbox.location },
    );
  }
  if (state.nameServers.length >= nameServersPerMachineMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `machine ${state.machine} already has nameServersPerMachineMax (${nameServersPerMachineMax}) name servers`,
      {
        value: state.nameServers.length,
      },
    );
  }
  mailbox.nameServer = true;
  await broadcastNameServer(state, 'register', mailbox.location, capability);
}

/**
 * `ukNameServiceUnregister` (§5.2): the mailbox is no longer a name server of the machine; channels
 * into it under /sys/name are shot down.
 */
export async function ukNameServiceUnregister(
  state: KernelState,
  caller: ProcessRecord,
  location: unknown,
  kernelCapability: unknown,
): Promise<void> {
  checkKernelCapability(state, validateCapability(kernelCapability));
  const mailbox = ownedMailbox(state, caller, location);
  if (!mailbox.nameServer)
    throw new FosError('NO_SUCH_NAME', `mailbox ${locationText(mailbox.location)} is not a name server`, {
      value: mailbox.location,
    });
  mailbox.nameServer = false;
  // Channels made under /sys/name were good for a name server only: shoot them down (what they hold
  // is still delivered), so their writers meet the change and find another member.
  shootDown(state, mailbox, (reader) => reader.destinationName === nameServiceName, 'revoked');
  await broadcastNameServer(state, 'unregister', mailbox.location, null);
}

/** `ukNameServiceLookup` (§5.2): a name server of this machine, preferring one on this core. */
export function ukNameServiceLookup(state: KernelState): NameServerEntry {
  checkRunning(state);
  if (state.nameServers.length === 0)
    throw new FosError('NO_SUCH_NAME', `no name server is registered on machine ${state.machine}`, {
      value: state.machine,
    });
  const local = state.nameServers.filter((entry) => entry.location.core === state.core);
  const candidates = local.length > 0 ? local : state.nameServers;
  const chosen = candidates[state.random.nextInt(candidates.length)];
  assert(chosen !== undefined, 'a candidate name server exists');
  return chosen;
}

/** Tells every core's kernel (this one too) of a registration or an unregistration. */
export async function broadcastNameServer(
  state: KernelState,
  operation: 'register' | 'unregister',
  location: MailboxLocation,
  capability: Capability | null,
): Promise<void> {
  const requests: Array<Promise<unknown>> = [];
  for (let core = 0; core < state.coreCount; core++) {
    requests.push(
      request(state, core, (requestId) => ({
        kind: 'nameServer',
        fromCore: state.core,
        requestId,
        operation,
        location,
        capability,
      })),
    );
  }
  await Promise.all(requests);
}

/** Replaces this core's record of a name server: a capability registers it, null unregisters it. */
export function applyNameServer(
  state: KernelState,
  location: MailboxLocation,
  capability: Capability | null,
): undefined {
  state.nameServers = state.nameServers.filter((entry) => locationText(entry.location) !== locationText(location));
  if (capability !== null) state.nameServers.push({ location, capability });
  return undefined;
}

// ---- unchecked replies -------------------------------------------------------------------------------

/**
 * `ukUncheckedSend` (§5.2): a name server's reply to a process whose mailbox has no name yet. Needs
 * the kernel capability, and is allowed only while the receiving process has an unanswered message
 * delivered to a mailbox of the calling name server (each such delivery permits one).
 */
export async function ukUncheckedSend(
  state: KernelState,
  caller: ProcessRecord,
  kernelCapability: unknown,
  location: unknown,
  body: unknown,
): Promise<void> {
  checkCaller(state, caller);
  const capability = validateCapability(kernelCapability);
  checkKernelCapability(state, capability);
  const target = validateTarget(state, location);
  const bytes = encodeBody(body, state.limits.messageBytesMax);
  // One stream per pair of cores: it keeps the reply behind the result that granted the permit.
  await request(state, target.core, (requestId) => ({
    kind: 'deliver',
    fromCore: state.core,
    requestId,
    sender: identity(state, caller),
    location: target,
    destinationName: null,
    capability,
    sequence: -1,
    bytes,
  }));
}

/** The owner's side of `ukUncheckedSend`: the kernel capability and a permit instead of name and capability. */
export function acceptUncheckedDelivery(
  state: KernelState,
  message: Extract<KernelMessage, { kind: 'deliver' }>,
): undefined {
  const mailbox = targetMailbox(state, message.location);
  checkKernelCapability(state, message.capability as Capability);
  const permitKey = `${message.sender.process}>${mailbox.owner}`;
  const permits = state.uncheckedPermits.get(permitKey) ?? 0;
  if (permits === 0) {
    throw new FosError(
      'PERMISSION_DENIED',
      `process ${message.sender.process} owes no reply to the owner of ${locationText(mailbox.location)}`,
      { value: mailbox.location },
    );
  }
  checkQueueSpace(mailbox);
  if (permits === 1) state.uncheckedPermits.delete(permitKey);
  else state.uncheckedPermits.set(permitKey, permits - 1);
  enqueue(state, mailbox, {
    bytes: message.bytes,
    sender: message.sender,
    destinationName: null,
    enqueuedAtMs: state.clock.now(),
    via: 'unchecked',
  });
  return undefined;
}

/** A delivery of `process` to a mailbox of `nameServerProcess` was accepted: one more unchecked reply. */
export function grantUncheckedPermit(state: KernelState, nameServerProcess: string, process: string): void {
  const key = `${nameServerProcess}>${process}`;
  state.uncheckedPermits.set(key, Math.min((state.uncheckedPermits.get(key) ?? 0) + 1, uncheckedPermitsPerPairMax));
}

/** A process of the machine ended: the permits it held or granted go. */
export function forgetUncheckedPermits(state: KernelState, process: string): void {
  for (const key of [...state.uncheckedPermits.keys()]) {
    const [nameServer, receiver] = key.split('>');
    if (nameServer === process || receiver === process) state.uncheckedPermits.delete(key);
  }
}
