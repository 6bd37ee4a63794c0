export type { NameEntry, StoredDestination } from './entry.js';
export {
  conflictRetriesMax,
  defaultNameServiceLimits,
  destinationsPerNameMax,
  destinationWeightDefault,
  destinationWeightMax,
  destinationWeightMin,
  graphNamesVisitedMax,
  indirectionHopsMax,
  loadBalancerTimeoutMs,
  listNamesMax,
  lookupTtlMs,
  referrersPerNameMax,
  resolveNameServiceLimits,
  temporaryNameAttemptsMax,
  type NameServiceLimits,
} from './limits.js';
export {
  NameServer,
  type LoadBalancerFunction,
  type NameServerAliases,
  type NameServerOptions,
  type NameServiceCapabilities,
  type RequesterPlace,
} from './name-server.js';
export { nameServiceProcessModule } from './process-module.js';
export {
  leaveFleetMember,
  listMember,
  nameServerMember,
  type LeaveFleetMemberArgs,
  type ListMemberArgs,
  type LoadBalancerAnswer,
  type LoadBalancerQuery,
  type NameServerFleetArgs,
  type NameServerMemberArgs,
  type NameServerMemberResult,
} from './member.js';
export { storeMailboxName, type StoreAddress } from './store-binding.js';
