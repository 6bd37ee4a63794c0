// The valid names of a mailbox (thesis §4.2.1), and the system calls of Table 4.5 by which the name
// service edits them for any mailbox of the instance: `ukAddAlias` and `ukRemoveAlias`, guarded by the
// kernel capability (a mailbox of another machine: through the proxies, see ./proxy.ts). The owner edits its own mailboxes' names directly (`addName`, `removeName`: a
// direct mapping, §4.3); either way, removing a name shoots down the channels made under it (§4.2.4).
import { FosError, validateName } from '@fos/base';
import { validateCapability, type Capability } from '../../capability.js';
import type { KernelMessage } from '../../fabric.js';
import { locationText } from '../../location.js';
import { validateMailboxName } from '../mailbox-name.js';
import type { Mailbox } from '../tables.js';
import { shootDown } from './channels.js';
import { checkKernelCapability, checkRunning, request, targetMailbox, type KernelState } from './state.js';
import { proxyCoreFor, validateSendTarget } from './proxy.js';

/** `ukAddAlias` (Table 4.5): adds a valid name to any mailbox of the machine; kernel capability only. */
export async function ukAddAlias(
  state: KernelState,
  kernelCapability: unknown,
  location: unknown,
  name: unknown,
): Promise<void> {
  await aliasRequest(state, 'add', kernelCapability, location, validateMailboxName(name));
}

/** `ukRemoveAlias` (Table 4.5): removes a valid name from any mailbox; shoots down its channels. */
export async function ukRemoveAlias(
  state: KernelState,
  kernelCapability: unknown,
  location: unknown,
  name: unknown,
): Promise<void> {
  await aliasRequest(state, 'remove', kernelCapability, location, validateName(name));
}

async function aliasRequest(
  state: KernelState,
  operation: 'add' | 'remove',
  kernelCapability: unknown,
  location: unknown,
  name: string,
): Promise<void> {
  checkRunning(state);
  const capability = validateCapability(kernelCapability);
  checkKernelCapability(state, capability);
  const target = validateSendTarget(state, location);
  if (target.machine !== state.machine) {
    // A mailbox of another machine: that machine's kernel applies it, through the proxies.
    await request(state, proxyCoreFor(state, target), (requestId) => ({
      kind: 'forwardAlias',
      fromCore: state.core,
      requestId,
      operation,
      location: target,
      name,
    }));
    return;
  }
  await request(state, target.core, (requestId) => ({
    kind: 'alias',
    fromCore: state.core,
    requestId,
    operation,
    kernelCapability: capability,
    location: target,
    name,
  }));
}

/** The owner's side of `ukAddAlias` and `ukRemoveAlias` (`alias`): checked again where the mailbox is. */
export function applyAlias(state: KernelState, message: Extract<KernelMessage, { kind: 'alias' }>): undefined {
  checkKernelCapability(state, message.kernelCapability as Capability);
  const mailbox = targetMailbox(state, message.location);
  if (message.operation === 'add') addNameTo(state, mailbox, message.name);
  else removeNameFrom(state, mailbox, message.name);
  return undefined;
}

/** Adds a valid name (nothing if it is one already), within `namesPerMailboxMax`. */
export function addNameTo(state: KernelState, mailbox: Mailbox, name: string): void {
  if (mailbox.names.has(name)) return;
  if (mailbox.names.size >= state.limits.namesPerMailboxMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `mailbox ${locationText(mailbox.location)} already has namesPerMailboxMax (${state.limits.namesPerMailboxMax}) names`,
      {
        value: mailbox.names.size,
      },
    );
  }
  mailbox.names.add(name);
}

/** Removes a valid name and shoots down every channel made under it. */
export function removeNameFrom(state: KernelState, mailbox: Mailbox, name: string): void {
  if (!mailbox.names.delete(name)) {
    throw new FosError('NO_SUCH_NAME', `${name} is not a valid name of mailbox ${locationText(mailbox.location)}`, {
      value: name,
    });
  }
  shootDown(state, mailbox, (reader) => reader.destinationName === name, 'revoked');
}
