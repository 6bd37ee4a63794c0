// The lives of processes and mailboxes in one core's kernel (thesis §2.1: each process runs atop the
// microkernel of its core; §4.2.1: every mailbox is registered in that kernel's table). A process
// ends by exiting, by being killed or by crashing (a throw in its code crashes it alone); its end takes
// its mailboxes and channels with it and tells every other kernel, which forget its streams and permits.
// A mailbox's end fails the receives waiting on it and shuts down the channels into it.
import { FosError } from '@fos/base';
import { locationText } from '../../location.js';
import { crashReason } from '../error-text.js';
import type { Mailbox, ProcessExit, ProcessRecord } from '../tables.js';
import { closeChannelWriter } from './channels.js';
import { detachProxy } from './proxy.js';
import { broadcastNameServer, forgetUncheckedPermits } from './registry.js';
import { checkRunning, publishStats, type KernelState } from './state.js';

/** Registers a new process on this core. */
export function createProcess(state: KernelState, name: string): ProcessRecord {
  checkRunning(state);
  if (state.processes.size >= state.limits.processesPerCoreMax) {
    throw new FosError(
      'LIMIT_EXCEEDED',
      `core ${state.core} already hosts processesPerCoreMax (${state.limits.processesPerCoreMax}) processes`,
      {
        value: state.processes.size,
      },
    );
  }
  const id = `${state.machine}.${state.core}.${state.nextProcessNumber++}`;
  const record: ProcessRecord = {
    id,
    name,
    mailboxes: new Set(),
    channels: new Set(),
    state: 'running',
    unacknowledgedSends: 0,
    exitWaiters: [],
    exit: undefined,
  };
  state.processes.set(id, record);
  publishStats(state);
  return record;
}

/** Ends a process: destroys its mailboxes, closes its channels, tells the other kernels. */
export function endProcess(
  state: KernelState,
  record: ProcessRecord,
  outcome: { crashed: boolean; error?: unknown },
): void {
  if (record.state !== 'running') return;
  record.state = outcome.crashed ? 'crashed' : 'exited';
  if (outcome.crashed) {
    state.log(
      `fos: process ${record.name} (${record.id}) on core ${state.core} crashed: ${crashReason(outcome.error)}`,
    );
  }
  for (const mailboxId of [...record.mailboxes]) {
    const mailbox = state.mailboxes.get(mailboxId);
    if (mailbox) removeMailbox(state, mailbox);
  }
  for (const channelId of [...record.channels]) {
    const writer = state.writers.get(channelId);
    if (writer) closeChannelWriter(state, writer);
  }
  for (const key of [...state.sendStreams.keys()]) if (key.startsWith(`${record.id}>`)) state.sendStreams.delete(key);
  if (state.proxy?.owner === record.id) void detachProxy(state, state.proxy);
  state.processes.delete(record.id);
  publishStats(state);
  if (!state.shutDown)
    for (let core = 0; core < state.coreCount; core++)
      state.port.post(core, { kind: 'processEnded', fromCore: state.core, process: record.id });
  const exit: ProcessExit = outcome.crashed
    ? { process: record.id, crashed: true, error: outcome.error }
    : { process: record.id, crashed: false };
  record.exit = exit;
  for (const waiter of record.exitWaiters.splice(0)) waiter(exit);
}

/** A process of the machine ended (`processEnded`): its streams into this core's mailboxes and its permits go. */
export function forgetProcess(state: KernelState, process: string): void {
  for (const mailbox of state.mailboxes.values()) mailbox.streams.delete(process);
  forgetUncheckedPermits(state, process);
}

/** Runs a process's callback; a throw or a rejection crashes that process alone. */
export function invokeCallback(
  state: KernelState,
  caller: ProcessRecord,
  callback: () => void | Promise<void>,
  settled?: () => void,
): void {
  try {
    const result = callback();
    if (result instanceof Promise) {
      result.then(settled, (error: unknown) => endProcess(state, caller, { crashed: true, error }));
      return;
    }
  } catch (error) {
    endProcess(state, caller, { crashed: true, error });
    return;
  }
  settled?.();
}

/** Ends every process and fails every pending request with `SHUTDOWN`. */
export function shutdown(state: KernelState): void {
  if (state.shutDown) return;
  state.shutDown = true;
  for (const record of [...state.processes.values()]) endProcess(state, record, { crashed: false });
  for (const [requestId, request] of state.pending) {
    state.pending.delete(requestId);
    request.reject(new FosError('SHUTDOWN', `kernel of core ${state.core} shut down`, { value: state.core }));
  }
}

/**
 * Takes a mailbox out of the table: later sends to it answer `UNREACHABLE`, the receives waiting on it
 * fail, its channels are shot down (their writers hear `drained`), and a name server's registration
 * is withdrawn from every core.
 */
export function removeMailbox(state: KernelState, mailbox: Mailbox): void {
  state.mailboxes.delete(mailbox.location.mailbox);
  publishStats(state);
  state.processes.get(mailbox.owner)?.mailboxes.delete(mailbox.location.mailbox);
  for (const reader of mailbox.channels.values()) {
    reader.cutoff ??= reader.ring.close('destroyed');
    state.port.post(reader.writerCore, { kind: 'drained', fromCore: state.core, channelId: reader.channelId });
  }
  mailbox.channels.clear();
  state.channelMailboxes.delete(mailbox);
  mailbox.queue.length = 0;
  const gone = state.shutDown
    ? new FosError('SHUTDOWN', `kernel of core ${state.core} shut down`, { value: mailbox.location })
    : new FosError('UNREACHABLE', `mailbox ${locationText(mailbox.location)} was destroyed while a receive waited`, {
        value: mailbox.location,
      });
  for (const receiver of mailbox.receivers.splice(0)) receiver.fail(gone);
  if (mailbox.nameServer && !state.shutDown)
    void broadcastNameServer(state, 'unregister', mailbox.location, null).catch(() => undefined);
}
