// `@fos/system/testing`: drive processes on any fabric from a test. A test cannot hold a process
// that lives on another worker thread, so it spawns agents (processes with a libfos and a control
// mailbox that run a closed, zod-checked set of commands) and drives them through RemoteAgent, the
// same way on `local`, `sim` and `worker`.
export {
  agentBulkNamesMax,
  agentChannelsMax,
  agentCommandSchema,
  agentCommandTimeoutMs,
  agentControlName,
  agentLookupConcurrencyMax,
  agentLookupDestinationsMax,
  agentLookupSharesMax,
  agentMailboxesMax,
  agentRecordedMax,
  agentReplyName,
  agentSettleMsMax,
  agentStreamFailuresMax,
  agentStreamIntervalMsMax,
  agentStreamMessagesMax,
  agentStreamWindowMax,
  type AgentAddress,
  type AgentAnswer,
  type AgentCommand,
  type AgentStats,
  type AgentStreamResult,
} from './testing/agent-protocol.js';
export { rootOf, testFabrics, withInstance } from './testing/instance.js';
export { agentAt, localityOf, onMachines, onOneMachine, type PlacedSlot, type Placement } from './testing/placement.js';
export {
  agentModule,
  peerMachine,
  RemoteAgent,
  type AgentHost,
  type AgentMailbox,
  type AgentResolved,
} from './testing/remote-agent.js';
