// `@fos/distributed-store/testing`: what tests of the replicated store need and production never does —
// the linearizability checker and its store model, the seeded simulation, its checks and sweep, and the
// planted bugs, as rule strategies a test gives a core with `withStoreRules`.
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
  waitDieRules,
  withStoreRules,
  type ArbiterDecision,
  type ArbiterHolder,
  type StoreRules,
} from './internal/rules.js';
export { plantedBugRules, type PlantedBugs } from './simulation/planted-bugs.js';
export {
  contendedRetriesMax,
  simulateStore,
  simulationClientsMax,
  simulationMembershipChangesMax,
  simulationMembersMax,
  simulationOperationsPerClientMax,
  simulationRetriesMax,
  simulationStepsMax,
  type HistoryOperation,
  type LogicalOperation,
  type SimulationOptions,
  type SimulationRun,
  type SimulationWorkload,
} from './simulation/simulation.js';
export { checkerOperations, progressFailures, runFailures } from './simulation/checks.js';
export { sweepSeeds, type SweepFailure, type SweepOptions } from './simulation/sweep-seeds.js';
