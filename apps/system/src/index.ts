export {
  boot,
  bootFabrics,
  defaultCores,
  type BootFabric,
  type BootOptions,
  type Instance,
  type InstanceStats,
  type LocalBootOptions,
  type SimBootOptions,
} from './boot.js';
