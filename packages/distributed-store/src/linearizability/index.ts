export {
  checkOperations,
  type CheckOptions,
  type CheckResult,
  type CheckVerdict,
  type PartitionReport,
} from './checker.js';
export {
  explanationOperationsMax,
  historyOperationsMax,
  linearizabilityCacheBytesMax,
  linearizabilityStepsMax,
} from './limits.js';
export type { Model, Operation, StepResult } from './model.js';
export {
  createStoreModel,
  storeModel,
  type StoreGetOutput,
  type StoreInput,
  type StoreModelOptions,
  type StoreModificationOutput,
  type StoreOperation,
  type StoreOutput,
  type StoreState,
  type StoreUnknownOutput,
} from './store-model.js';
