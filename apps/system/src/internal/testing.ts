// Test support for the instance-level tests: boot, run, always shut down.
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
