export { LocalStore, type LocalStoreOptions } from './local-store.js';
export { storeEntriesMax, storeKeyCharactersMax, storeValueBytesMax } from './limits.js';
export type { Store, Versioned } from './store.js';
export {
  checkOperations,
  createStoreModel,
  explanationOperationsMax,
  historyOperationsMax,
  linearizabilityCacheBytesMax,
  linearizabilityStepsMax,
  storeModel,
  type CheckOptions,
  type CheckResult,
  type CheckVerdict,
  type Model,
  type Operation,
  type PartitionReport,
  type StepResult,
  type StoreGetOutput,
  type StoreInput,
  type StoreModelOptions,
  type StoreModificationOutput,
  type StoreOperation,
  type StoreOutput,
  type StoreState,
  type StoreUnknownOutput,
} from './linearizability/index.js';
export {
  installChunkBytesDefault,
  pendingGetWaitMsMax,
  ReplicatedMember,
  requestsInFlightMax,
  storePeersMax,
  type PlantedBugs,
  type ReplicatedMemberOptions,
  type ReplicatedMemberStats,
} from './replicated/member.js';
export type { MembershipChange, MemberName, Modification, StoreMessage, StoreTransport, TableEntry } from './replicated/messages.js';
