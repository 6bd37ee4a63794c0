export { Libfos, type LibfosOptions, type LibfosStats, type ResolvedName, type SendOptions } from './libfos.js';
export { createLibfos, spawnLibfos, withLibfos, type ProcessSpawner, type WithLibfosOptions } from './create.js';
export { channelCandidatesMax, type ChannelCounters } from './channels.js';
export { ukSendFunction, type UkSendCounters } from './send-path.js';
export {
  channelAfterSends,
  channelsPerProcessMax,
  defaultLibfosLimits,
  inactiveBackoffMsMax,
  inactiveWaitMsMax,
  indirectionHopsMax,
  nameServerAttemptsMax,
  nameServerBackoffMsMax,
  nameServiceCallTimeoutMs,
  sendBackoffMsMax,
  sendRetriesMax,
  type LibfosLimits,
} from './limits.js';
export type {
  LeaveFleetRequest,
  ListedName,
  ListRequest,
  ListResult,
  LoadBalancerRef,
  LookupResult,
  NameLocation,
  NameServiceApi,
  RegisterDestination,
  RegisterRequest,
  RegisterResult,
  ReserveRequest,
  ReserveResult,
  TemporaryRequest,
  TemporaryResult,
  UnregisterRequest,
  WeightedName,
} from './name-service-api.js';
export {
  createNameServiceApiClient,
  createNameServiceApiLocal,
  lookupResultSchema,
  nameServiceApiArguments,
  nameServiceApiErrors,
  nameServiceApiOrdinals,
  serveNameServiceApi,
} from './generated/name-service-api.rpc.js';
export {
  forgetFleetMember,
  leaveFleetMember,
  MemberRoster,
  type FleetSpawner,
  type MemberRosterOptions,
} from './member-roster.js';
