// The public surface of @fos/microkernel: what code built on fos uses. The kernel itself, its wire
// protocol, the channel ring and the fixed limits stay inside. The vocabulary the kernel speaks (errors,
// assert, message bodies, names, their limits) is @fos/base's, and is imported from there.

// Machines, processes and their system calls.
export { Machine, type MachineOptions, type MachineStats, type ProcessHandle, type SpawnOptions } from './machine.js';
export type { Channel, EntryFunction, ProcessContext, ProcessExit, SystemCalls } from './process.js';
export type { CreatedMailbox, MovedMailbox, NameServerEntry, ReceivedMessage, SendOptions } from './kernel.js';

// Other machines: what a proxy process (the @fos/proxy package) gets from its kernel.
export type { ForeignDelivery, ForwardedMessage, ProxyAttachment } from './internal/kernel/proxy.js';

// Fabrics.
export type { Fabric } from './fabric.js';
export { LocalFabric, type LocalFabricOptions } from './local-fabric.js';
export {
  SimFabric,
  SimWorld,
  simStepsMax,
  type SimFabricOptions,
  type SimWorldMessage,
  type SimWorldOptions,
} from './sim-fabric.js';
export {
  WorkerFabric,
  workerCoresMax,
  workerSpinMicros,
  workerSpinSkipsMax,
  type WorkerFabricOptions,
} from './worker-fabric.js';

// Limits a machine enforces (each field of KernelLimits may be overridden per machine).
export { coresMax, defaultKernelLimits, proxyForwardsPendingMax, type KernelLimits } from './limits.js';

// The kernel's types: capabilities and mailbox locations.
export {
  capabilityHashesCachedMax,
  hashCapability,
  isCapability,
  mintCapability,
  validateCapability,
  type Capability,
} from './capability.js';
export {
  formatLocation,
  mailboxLocationSchema,
  sameLocation,
  type MailboxLocation,
  type SenderIdentity,
} from './location.js';
