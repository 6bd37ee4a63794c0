export { isRpcGenError, RpcGenError, type RpcGenLocation } from './errors.js';
export {
  generate,
  generateSource,
  staleFiles,
  type GeneratedFile,
  type GenerateOptions,
  type GenerateSourceOptions,
} from './generate.js';
export { inputFilesMax, interfacesMax, membersMax, methodsMax, parametersMax, typeDepthMax } from './limits.js';
