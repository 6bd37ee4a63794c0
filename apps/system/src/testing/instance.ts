// Boot, run, always shut down: the frame of every instance-level test.
import { FosError } from '@fos/base';
import type { Capability } from '@fos/microkernel';
import { boot, type BootOptions, type Instance } from '../boot.js';

/** Boots an instance, runs `body` with it, and shuts it down whatever happens. */
export async function withInstance<T>(options: BootOptions, body: (instance: Instance) => Promise<T>): Promise<T> {
  const instance = await boot(options);
  try {
    return await body(instance);
  } finally {
    await instance.shutdown();
  }
}

/** The root namespace capability of a booted instance's name service. */
export function rootOf(instance: Instance): Capability {
  const service = instance.nameService;
  if (service === undefined)
    throw new FosError('BAD_REQUEST', 'the instance was booted without a name service (nameServers: 0)', { value: 0 });
  return service.rootCapability;
}

/**
 * The fabrics a portable test runs on, for a fabric-parameterised suite:
 * `describe.each(testFabrics)('my service on the %s fabric', (fabric) => { ... })`. Run the `sim`
 * case over many seeds (`runSeeds` of `@fos/sim`): it replays any failure from its seed.
 */
export const testFabrics = ['local', 'sim', 'worker'] as const;
