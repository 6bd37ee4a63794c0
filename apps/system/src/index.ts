export {
  boot,
  bootFabrics,
  defaultCores,
  nameServersMax,
  type BootedNameService,
  type BootFabric,
  type BootFsOptions,
  type BootHttpOptions,
  type BootNetOptions,
  type BootedHttp,
  type BootOptions,
  type Instance,
  type InstanceStats,
  type LocalBootOptions,
  type SimBootOptions,
  type WorkerBootOptions,
} from './boot.js';
export { nameServerCore, NameServiceFleet } from './fleet.js';
export {
  agentTopic,
  clusterMachineNameMax,
  joinTopic,
  leaveListRoundsMax,
  leaveTopic,
  MachineCluster,
  proxyNamePrefix,
  type ClusterStartOptions,
  type MachineInfo,
} from './cluster.js';
export type { FleetInvitation, FleetStartOptions, GrowFleetOptions } from './fleet.js';
