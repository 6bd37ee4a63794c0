// `@fos/name-service/testing`: the model of the name space and the fast-check commands that check a
// name service against it, for tests of this package, of the system, and of other stores under the
// name service. Needs `fast-check` (an optional peer dependency).
export {
  expectedAnswers,
  nameServiceCommands,
  newModelRun,
  type ExpectFunction,
  type ModelRun,
  type NameSpaceUnderTest,
} from './testing/commands.js';
export {
  capabilityPattern,
  isName,
  isSubdomain,
  Model,
  modelLookup,
  modelRegister,
  modelReserve,
  modelUnregister,
  Refusal,
  type ModelDirect,
  type ModelIndirect,
  type ModelName,
  type ModelRegister,
  type ModelUnregister,
} from './testing/model.js';
