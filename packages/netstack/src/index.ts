// The public surface of @fos/netstack: netif (the machine's host sockets), the netstack fleet that
// owns connections, one name per connection, and the libfos sockets (FosNet) a process uses.
export { FosNet, FosServer, FosSocket, netAckBytes, netEndpointQueueMessages } from './socket.js';
export { serveHttp } from './http.js';
export type { FosListenOptions, FosNetOptions, FosNetStats } from './socket.js';
export {
  NetstackFleet,
  netstackForgetMember,
  netstackLeaveMember,
  type NetstackFleetOptions,
  type NetstackSpawner,
} from './fleet.js';
export { memberAliases, netstackMember, type NetstackMemberArgs, type NetstackMemberResult } from './member.js';
export {
  netConnectTimeoutMsDefault,
  netif,
  netifLogLinesKept,
  serveNetif,
  type NetifArgs,
  type NetifResult,
} from './netif.js';
export {
  nodeWire,
  type Wire,
  type WireAddress,
  type WireListener,
  type WireSocket,
  type WireSocketEvents,
} from './wire.js';
export { connectionId, connectionName, netConnectionsDomain, netifDomain, netstackFleetName } from './names.js';
export { isNetErrno, netErrnoCodes, netError, netErrnoOf, type NetErrno } from './errors.js';
export { netstackProcessModule } from './process-module.js';
export type {
  ConnectResult,
  EndpointMessage,
  MemberRequest,
  NetAddress,
  NetifInfo,
  NetifRequest,
  NetMemberInfo,
} from './protocol.js';
export {
  netBacklogDefault,
  netBacklogMax,
  netConnectionsLimitMax,
  netConnectionsMax,
  netConnectionsPerAlias,
  netConnectionsPerMemberMax,
  netHandoverAttemptsMax,
  netHandoversInFlightMax,
  netHostBytesMax,
  netLeaveGraceMsDefault,
  netLeaveGraceMsMax,
  netListenersMax,
  netMemberAliases,
  netMembersMax,
  netPendingBytesMax,
  netReceiveBufferBytes,
  netReceiveWindowBytes,
  netRegisterAttemptsMax,
  netRegisterBackoffMs,
  netSegmentBytesMax,
} from './limits.js';
