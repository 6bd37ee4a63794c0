export { createDispatcher } from './create-dispatcher.js';
export { Dispatcher, type DispatcherOptions, type DispatcherStats, type RegisterOptions } from './dispatcher.js';
export {
  callAllCallsMax,
  callTimeoutMsDefault,
  callTimeoutMsMax,
  defaultDispatcherLimits,
  dispatcherMailboxesMax,
  liveThreadsPerMailboxMax,
  pendingOperationsMax,
  type DispatcherLimits,
} from './limits.js';
export {
  defineRpcService,
  dispatchRpc,
  dispatcherTransport,
  loopbackTransport,
  methodOrdinal,
  rpcHandler,
  rpcRequestSchema,
  type RpcMethod,
  type RpcService,
  type RpcTransport,
} from './rpc.js';
export type { CallOutcome, CallResult, CallSpec, Condition, Exchange, Thread } from './thread.js';
export type {
  Budget,
  CallOptions,
  Destination,
  IncomingRequest,
  ReplyAddress,
  RequestHandler,
  SendFunction,
} from './types.js';
export { parseRequest } from './parse-request.js';
