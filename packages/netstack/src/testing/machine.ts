// Test fixtures: a machine with one name server, the network stack, and processes with sockets.
import { spawnLibfos, type Libfos } from '@fos/libfos-messaging';
import { LocalFabric, Machine, SimFabric, WorkerFabric, type Capability, type Fabric } from '@fos/microkernel';
import { nameServiceProcessModule } from '@fos/name-service';
import { NetstackFleet, type NetstackFleetOptions } from '../fleet.js';
import { FosNet, type FosNetOptions } from '../socket.js';
import { SimWire } from './sim-wire.js';

/** The built package: processes are spawned from it (the way every fabric spawns them). */
export const builtModule = new URL('../../dist/index.js', import.meta.url).href;

/** The fabrics the tests run on. */
export type TestFabric = 'local' | 'sim' | 'worker';

/** A machine with a name server on core 0, the network stack, and the root capability of its name space. */
export interface NetTestMachine {
  readonly machine: Machine;
  readonly root: Capability;
  readonly fleet: NetstackFleet;
  /** The simulated wire (fabric `sim`, where netif cannot reach the host). */
  readonly wire: SimWire | undefined;
  /** A process's libfos and sockets on `core` (in this thread: local and sim only). */
  process(core: number, options?: FosNetOptions): Promise<{ libfos: Libfos; net: FosNet }>;
  /** Every name under `domain` (`/sys/netstack/connections`) now, from the name service. */
  names(domain: string): Promise<string[]>;
  shutdown(): Promise<void>;
}

/** Boots a machine of `cores` cores, its name server and the network stack (over a {@link SimWire} on `sim`). */
export async function netTestMachine(
  fabric: TestFabric,
  fleetOptions: Omit<NetstackFleetOptions, 'capability'> = {},
  options: { seed?: number; cores?: number } = {},
): Promise<NetTestMachine> {
  const cores = options.cores ?? 4;
  const made: Fabric =
    fabric === 'sim'
      ? new SimFabric({ cores, seed: options.seed ?? 1 })
      : fabric === 'worker'
        ? new WorkerFabric({ cores })
        : new LocalFabric({ cores });
  const machine = new Machine({ fabric: made });
  const wire = made instanceof SimFabric ? new SimWire(made.clock, made.random.fork('wire')) : undefined;
  try {
    const nameServer = await machine.spawn({
      core: 0,
      name: 'name-server',
      module: nameServiceProcessModule,
      entry: 'nameServerMember',
      args: { kernelCapability: machine.kernelCapability },
    });
    const { rootCapability: root, managementCapability } = nameServer.result as {
      rootCapability: Capability;
      managementCapability: string;
    };
    const fleet = await NetstackFleet.start(machine, {
      processModule: builtModule,
      quiet: process.env.NET_LOG === undefined,
      ...(wire === undefined ? {} : { wire }),
      ...fleetOptions,
      capability: root,
    });
    let processes = 0;
    const inspector = await spawnLibfos(machine, 0, 'inspector');
    return {
      machine,
      root,
      fleet,
      wire,
      process: async (core, netOptions) => {
        const libfos = await spawnLibfos(machine, core, `process-${processes++}`);
        return { libfos, net: new FosNet(libfos, netOptions) };
      },
      names: async (domain) =>
        (await inspector.nameService.list({ capability: managementCapability, under: `${domain}/*` })).names.map(
          (entry) => entry.name,
        ),
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
