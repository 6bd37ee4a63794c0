export {
  boot,
  bootFabrics,
  defaultCores,
  nameServerCore,
  nameServersMax,
  type BootedNameService,
  type BootFabric,
  type BootOptions,
  type Instance,
  type InstanceStats,
  type LocalBootOptions,
  type SimBootOptions,
} from './boot.js';
