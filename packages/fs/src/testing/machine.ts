// Test fixtures: a machine with one name server, the file-system fleet over an image, and clients.
import { spawnLibfos, type Libfos } from '@fos/libfos-messaging';
import { LocalFabric, Machine, SimFabric, WorkerFabric, type Capability, type Fabric } from '@fos/microkernel';
import { nameServiceProcessModule } from '@fos/name-service';
import { FosFs, type FosFsOptions } from '../client.js';
import { FsFleet, type FsFleetOptions } from '../fleet.js';

/** The built package: processes are spawned from it (the way every fabric spawns them). */
export const builtModule = new URL('../../dist/index.js', import.meta.url).href;

/** The fabrics the tests run on. */
export type TestFabric = 'local' | 'sim' | 'worker';

/** A machine with a name server on core 0, and the root capability of its name space. */
export interface FsTestMachine {
  readonly machine: Machine;
  readonly root: Capability;
  readonly fleet: FsFleet;
  /** A client process's libfos and fs component on `core` (local and sim only). */
  client(core: number, options?: FosFsOptions): Promise<{ libfos: Libfos; fs: FosFs }>;
  shutdown(): Promise<void>;
}

/** Boots a machine of `cores` cores, its name server and a file-system fleet over `image`. */
export async function fsTestMachine(
  fabric: TestFabric,
  fleetOptions: Omit<FsFleetOptions, 'capability'>,
  options: { seed?: number; cores?: number } = {},
): Promise<FsTestMachine> {
  const cores = options.cores ?? 4;
  const made: Fabric =
    fabric === 'sim'
      ? new SimFabric({ cores, seed: options.seed ?? 1 })
      : fabric === 'worker'
        ? new WorkerFabric({ cores })
        : new LocalFabric({ cores });
  const machine = new Machine({ fabric: made });
  try {
    const nameServer = await machine.spawn({
      core: 0,
      name: 'name-server',
      module: nameServiceProcessModule,
      entry: 'nameServerMember',
      args: { kernelCapability: machine.kernelCapability },
    });
    const root = (nameServer.result as { rootCapability: Capability }).rootCapability;
    const fleet = await FsFleet.start(machine, { processModule: builtModule, ...fleetOptions, capability: root });
    let clients = 0;
    return {
      machine,
      root,
      fleet,
      client: async (core, clientOptions) => {
        const libfos = await spawnLibfos(machine, core, `client-${clients++}`);
        return { libfos, fs: new FosFs(libfos, clientOptions) };
      },
      shutdown: async () => {
        fleet.stop();
        await machine.shutdown();
      },
    };
  } catch (error) {
    await machine.shutdown();
    throw error;
  }
}
