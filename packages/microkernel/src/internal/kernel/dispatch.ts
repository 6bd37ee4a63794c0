// What one core's kernel does with each message the fabric hands it (thesis §2.1: the microkernel's
// basic message delivery; kernels of a machine share no tables, so everything one core asks of another
// arrives here as a `KernelMessage`). A request is handled by the subsystem it concerns and answered
// with a `result`, carrying the `FosError` it was refused with; a result settles the request it answers.
// A core whose kernel is gone (a worker thread that died) is forgotten here too.
import { assert, isFosError } from '@fos/base';
import type { Capability } from '../../capability.js';
import type { KernelMessage } from '../../fabric.js';
import { deserializeFosError, serializeFosError } from '../serialized-error.js';
import { applyAlias } from './aliases.js';
import { closeChannelReader, closeChannelWriter, onDoorbell, onDrained, openChannelReader } from './channels.js';
import { forgetProcess } from './lifecycle.js';
import { acceptMove } from './migration.js';
import { acceptForward, acceptForwardAlias, acceptForwardSkip, applyProxyCore } from './proxy.js';
import { acceptUncheckedDelivery, applyNameServer, grantUncheckedPermit } from './registry.js';
import { acceptDelivery, acceptSkip } from './streams.js';
import { lostCoreError, publishStats, type KernelState, type RequestResult } from './state.js';

/** Hands a message from the fabric to the subsystem it concerns. */
export function onMessage(state: KernelState, message: KernelMessage): void {
  if (state.shutDown) return;
  switch (message.kind) {
    case 'deliver': {
      const destinationName = message.destinationName;
      respond(state, message.fromCore, message.requestId, () =>
        destinationName === null
          ? acceptUncheckedDelivery(state, message)
          : acceptDelivery(state, message, destinationName),
      );
      return;
    }
    case 'forward':
      acceptForward(state, message);
      return;
    case 'forwardSkip':
      acceptForwardSkip(state, message);
      return;
    case 'forwardAlias':
      acceptForwardAlias(state, message);
      return;
    case 'proxyCore':
      respond(state, message.fromCore, message.requestId, () => applyProxyCore(state, message.core));
      return;
    case 'moveIn':
      respond(state, message.fromCore, message.requestId, () => acceptMove(state, message));
      return;
    case 'skip':
      acceptSkip(state, message.location, message.sender.process, message.sequence);
      return;
    case 'alias':
      respond(state, message.fromCore, message.requestId, () => applyAlias(state, message));
      return;
    case 'nameServer':
      respond(state, message.fromCore, message.requestId, () =>
        applyNameServer(state, message.location, message.capability as Capability | null),
      );
      return;
    case 'channelOpen':
      respond(state, message.fromCore, message.requestId, () => openChannelReader(state, message));
      return;
    case 'channelClose':
      closeChannelReader(state, message.location, message.channelId, 'closed');
      return;
    case 'doorbell':
      onDoorbell(state, message.location, message.channelId);
      return;
    case 'drained':
      onDrained(state, message.channelId);
      return;
    case 'processEnded':
      forgetProcess(state, message.process);
      return;
    case 'result':
      settle(state, message);
      return;
  }
}

/**
 * Answers a request: a plain `result`, one that names the name server's process (a delivery to a name
 * server's mailbox), or the `FosError` that `handle` threw (counted as refused).
 */
function respond(state: KernelState, toCore: number, requestId: number, handle: () => string | undefined): void {
  try {
    const nameServerProcess = handle();
    state.port.post(
      toCore,
      nameServerProcess === undefined
        ? { kind: 'result', fromCore: state.core, requestId }
        : { kind: 'result', fromCore: state.core, requestId, nameServerProcess },
    );
  } catch (error) {
    if (!isFosError(error)) throw error;
    state.refused++;
    publishStats(state);
    state.port.post(toCore, { kind: 'result', fromCore: state.core, requestId, error: serializeFosError(error) });
  }
}

function settle(state: KernelState, message: RequestResult): void {
  const request = state.pending.get(message.requestId);
  assert(request !== undefined, `a result answers a pending request (${message.requestId})`);
  state.pending.delete(message.requestId);
  if (message.error !== undefined) {
    request.reject(deserializeFosError(message.error));
    return;
  }
  // Granted now, not in a continuation of the send: the name server's reply may be the next message.
  if (request.permitFor !== undefined && message.nameServerProcess !== undefined)
    grantUncheckedPermit(state, message.nameServerProcess, request.permitFor);
  request.resolve(message);
}

/**
 * The kernel of `core` is gone (its worker thread died or ended): requests waiting on it fail with
 * `UNREACHABLE`, and so does everything later sent there; its name servers are forgotten and the
 * channels into it are closed. What that core's processes wrote into rings here is still delivered.
 */
export function coreLost(state: KernelState, core: number): void {
  if (core === state.core || state.lostCores.has(core)) return;
  state.lostCores.add(core);
  for (const [requestId, request] of state.pending) {
    if (request.toCore !== core) continue;
    state.pending.delete(requestId);
    request.reject(lostCoreError(core));
  }
  state.nameServers = state.nameServers.filter((entry) => entry.location.core !== core);
  if (state.proxyCore === core) state.proxyCore = undefined;
  for (const writer of [...state.writers.values()]) {
    if (writer.location.core !== core) continue;
    writer.ring.close('destroyed');
    closeChannelWriter(state, writer);
  }
}
