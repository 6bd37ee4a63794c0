export {
  boot,
  bootFabrics,
  defaultCores,
  nameServersMax,
  type BootedNameService,
  type BootFabric,
  type BootOptions,
  type Instance,
  type InstanceStats,
  type LocalBootOptions,
  type SimBootOptions,
  type WorkerBootOptions,
} from './boot.js';
export { nameServerCore, NameServiceFleet } from './fleet.js';
