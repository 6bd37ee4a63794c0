export { LocalStore, type LocalStoreOptions } from './local-store.js';
export {
  installChunkBytesDefault,
  pendingGetWaitMsMax,
  requestsInFlightMax,
  storeEntriesMax,
  storeKeyCharactersMax,
  storeMemberNameCharactersMax,
  storePeersMax,
  storeValueBytesMax,
} from './limits.js';
export type { Store, Versioned } from './store.js';
export { StoreCore } from './replicated/core.js';
export type {
  CompletedOperation,
  OperationId,
  OperationResult,
  OutgoingMessage,
  ProposedOperation,
  StoreCoreOptions,
  StoreCoreStats,
  StoreReady,
} from './replicated/core-types.js';
export { ReplicatedMember, type ReplicatedMemberOptions, type ReplicatedMemberStats } from './replicated/member.js';
export type {
  MembershipChange,
  MemberName,
  Modification,
  StoreMessage,
  StoreTransport,
  TableEntry,
} from './replicated/messages.js';
