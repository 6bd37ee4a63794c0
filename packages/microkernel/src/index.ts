export { assert, AssertionError } from './assert.js';
export { capabilityBytes, capabilityEquals, hashCapability, isCapability, mintCapability, validateCapability, type Capability } from './capability.js';
export { copyBody, decodeBody, encodeBody, type MessageBody } from './codec.js';
export { FosError, fosErrorCodes, hasFosErrorCode, isFosError, isFosErrorCode, type FosErrorCode, type FosErrorDetails, type SerializedFosError } from './errors.js';
export type { Fabric, FabricPort, KernelMessage, MovedMessage } from './fabric.js';
export { Kernel, type CreatedMailbox, type KernelLog, type KernelStats, type MovedMailbox, type NameServerEntry, type ReceivedMessage, type SendOptions } from './kernel.js';
export {
  bodyDepthMax,
  capabilitiesPerMailboxMax,
  channelRingBytes,
  coresMax,
  defaultKernelLimits,
  mailboxesPerProcessMax,
  messageBytesMax,
  nameCharactersMax,
  nameDepthMax,
  nameSegmentCharactersMax,
  nameServersPerMachineMax,
  namesPerMailboxMax,
  processesPerCoreMax,
  queueMessagesMax,
  receiversPerMailboxMax,
  uncheckedPermitsPerPairMax,
  unacknowledgedSendsPerProcessMax,
  validateKernelLimits,
  type KernelLimits,
} from './limits.js';
export { LocalFabric, type LocalFabricOptions } from './local-fabric.js';
export { formatLocation, mailboxLocationSchema, sameLocation, validateLocation, type MailboxLocation, type SenderIdentity } from './location.js';
export { Machine, type MachineOptions, type MachineStats, type ProcessHandle, type SpawnOptions } from './machine.js';
export {
  aliasOf,
  isUnderSubdomain,
  nameServiceName,
  parentDomain,
  parseName,
  rootDomain,
  temporaryDomain,
  validateMailboxName,
  validateName,
  validateSubdomain,
  type ParsedName,
} from './names.js';
export type { Channel, EntryFunction, ProcessContext, ProcessExit, SystemCalls } from './process.js';
export { ChannelRing, ringHeaderBytes, type ChannelCloseReason, type RingWriteResult } from './ring.js';
export { SimFabric, simStepsMax, type SimFabricOptions } from './sim-fabric.js';
export { WorkerFabric, workerCoresMax, workerShutdownMsMax, workerSpawnsInFlightMax, workerSpinMicros, workerSpinMicrosMax, workerTurnMicros, type WorkerFabricOptions } from './worker-fabric.js';
